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

use crate::object::DurableObjectBinding;
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
    /// (a handle, cpu ms, subrequests) -> the handle of that worker held to those lower limits
    /// (`getEntrypoint(name, {limits})`).
    by_limits: HashMap<(String, u64, u32), String>,
    /// (a handle, class name, the parent's namespace) -> the handle of that worker with a hidden
    /// binding of its class `class_name` whose objects are facets of the parent's objects
    /// (`getDurableObjectClass()`).
    by_class: HashMap<(String, String, String), String>,
    /// Handles, oldest first.
    order: VecDeque<String>,
}

impl Inner {
    fn insert(&mut self, parent: &str, id: Option<&str>, worker: Arc<Worker>) -> String {
        let mut bytes = [0u8; 16];
        let _ = getrandom::fill(&mut bytes);
        let handle = crate::object::to_hex(&bytes);
        while self.by_handle.len() >= DYNAMIC_WORKERS_MAX {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            self.by_handle.remove(&oldest);
            self.by_id.retain(|_, h| *h != oldest);
            self.by_limits
                .retain(|(base, _, _), h| *h != oldest && *base != oldest);
            self.by_class
                .retain(|(base, _, _), h| *h != oldest && *base != oldest);
        }
        self.by_handle.insert(handle.clone(), worker);
        self.order.push_back(handle.clone());
        if let Some(id) = id {
            self.by_id
                .insert((parent.to_owned(), id.to_owned()), handle.clone());
        }
        assert!(self.by_handle.len() <= DYNAMIC_WORKERS_MAX);
        handle
    }
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
        let mut inner = self.lock();
        inner.insert(parent, id, worker)
    }

    pub fn get(&self, handle: &str) -> Option<Arc<Worker>> {
        self.lock().by_handle.get(handle).cloned()
    }

    /// The handle of the worker behind `handle` held to the lower of its own limits and
    /// `cpu_ms`/`subrequests` (the lower limit wins, as Cloudflare's loader does), built on first
    /// use and cached. `None` when `handle` is no longer cached.
    pub fn limited(
        &self,
        handle: &str,
        cpu_ms: Option<u64>,
        subrequests: Option<u32>,
    ) -> Option<String> {
        let base = self.get(handle)?;
        let mut limits = base.script().limits;
        if let Some(ms) = cpu_ms {
            limits.cpu_ms = limits.cpu_ms.min(ms);
        }
        if let Some(count) = subrequests {
            limits.subrequests = limits.subrequests.min(count);
        }
        let unchanged = limits.cpu_ms == base.script().limits.cpu_ms
            && limits.subrequests == base.script().limits.subrequests;
        if unchanged {
            return Some(handle.to_owned());
        }
        let key = (handle.to_owned(), limits.cpu_ms, limits.subrequests);
        let mut inner = self.lock();
        if let Some(found) = inner.by_limits.get(&key) {
            return Some(found.clone());
        }
        let mut script = base.script().clone();
        script.limits = limits;
        // The base worker was built from this script, so it builds again.
        let worker = Worker::new(script).ok()?;
        let limited = inner.insert(base.name(), None, worker);
        inner.by_limits.insert(key, limited.clone());
        Some(limited)
    }

    /// The worker behind `handle` with a hidden Durable Object binding (the last one) of its
    /// class `class_name`, whose objects store their data in `parent`'s namespace: the facets
    /// of the parent's objects made from `getDurableObjectClass(class_name)`. Built on first use
    /// and cached, so each facet keeps living in one isolate. `None` when `handle` is no longer
    /// cached.
    pub fn with_object_class(
        &self,
        handle: &str,
        class_name: &str,
        parent: &DurableObjectBinding,
    ) -> Option<Arc<Worker>> {
        let key = (
            handle.to_owned(),
            class_name.to_owned(),
            parent.namespace.clone(),
        );
        let base = self.get(handle)?;
        // Looked up and built under one lock: two threads asking at once get one worker, so a
        // facet never has instances in two isolates.
        let mut inner = self.lock();
        if let Some(worker) = inner
            .by_class
            .get(&key)
            .and_then(|h| inner.by_handle.get(h))
        {
            return Some(Arc::clone(worker));
        }
        let mut script = base.script().clone();
        script.durable_objects.push(DurableObjectBinding {
            // Hidden: not in the Dynamic Worker's `env`.
            binding: String::new(),
            class_name: class_name.to_owned(),
            namespace: parent.namespace.clone(),
            key: parent.key,
            // Facets always have a SQLite database, as Cloudflare's do.
            sql: true,
            script: None,
        });
        let worker = Worker::new(script).ok()?;
        let derived = inner.insert(base.name(), None, Arc::clone(&worker));
        inner.by_class.insert(key, derived);
        Some(worker)
    }
}
