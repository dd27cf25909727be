//! Dynamic Workers (`env.LOADER`): workers built at run time from code a parent worker hands
//! over, cached by the parent's id for them, and reached through unguessable handles.
//!
//! Guarantees: a handle names one built worker and cannot be derived from anything else, so a
//! worker reaches only the dynamic workers it loaded; the cache is bounded
//! ([`DYNAMIC_WORKERS_MAX`], least recently loaded dropped first); code and env sizes are
//! checked with Cloudflare's limits before anything is built.

pub mod ops;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use crate::worker::Worker;

/// Dynamic workers a runtime keeps built at once.
pub const DYNAMIC_WORKERS_MAX: usize = 1024;
/// A Dynamic Worker's code (Cloudflare: 64 MiB).
pub const DYNAMIC_CODE_BYTES_MAX: usize = 64 * 1024 * 1024;
/// A Dynamic Worker's `env`, serialized (Cloudflare: 1 MiB).
pub const DYNAMIC_ENV_BYTES_MAX: usize = 1024 * 1024;

#[derive(Default)]
struct Inner {
    by_handle: HashMap<String, Arc<Worker>>,
    /// (parent worker, the parent's id for the code) -> handle.
    by_id: HashMap<(String, String), String>,
    /// Handles, oldest first.
    order: VecDeque<String>,
}

/// The runtime's built Dynamic Workers.
#[derive(Default)]
pub struct DynamicWorkers {
    inner: Mutex<Inner>,
}

impl DynamicWorkers {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The handle of the worker `parent` built under `id`, if it is still cached.
    pub fn cached(&self, parent: &str, id: &str) -> Option<String> {
        let inner = self.lock();
        let handle = inner.by_id.get(&(parent.to_owned(), id.to_owned()))?;
        inner.by_handle.contains_key(handle).then(|| handle.clone())
    }

    /// Keeps `worker` and returns its new handle; `id` (when given) caches it for `parent`.
    pub fn insert(&self, parent: &str, id: Option<&str>, worker: Arc<Worker>) -> String {
        let mut bytes = [0u8; 16];
        let _ = getrandom::fill(&mut bytes);
        let handle = crate::object::to_hex(&bytes);
        let mut inner = self.lock();
        while inner.by_handle.len() >= DYNAMIC_WORKERS_MAX {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            inner.by_handle.remove(&oldest);
            inner.by_id.retain(|_, h| *h != oldest);
        }
        inner.by_handle.insert(handle.clone(), worker);
        inner.order.push_back(handle.clone());
        if let Some(id) = id {
            inner
                .by_id
                .insert((parent.to_owned(), id.to_owned()), handle.clone());
        }
        assert!(inner.by_handle.len() <= DYNAMIC_WORKERS_MAX);
        handle
    }

    pub fn get(&self, handle: &str) -> Option<Arc<Worker>> {
        self.lock().by_handle.get(handle).cloned()
    }
}
