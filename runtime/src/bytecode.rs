//! The process-wide cache of compiled module bytecode, keyed by the SHA-256 of a module's name
//! and source, so a new isolate of a known script (a second JS thread, a redeploy of the same
//! code, a Dynamic Worker loaded twice) skips parsing. Bounded in total bytes; the oldest entries
//! go first.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

use sha2::{Digest, Sha256};

/// Bytes of bytecode kept at most.
pub const BYTECODE_CACHE_BYTES_MAX: usize = 256 * 1024 * 1024;

pub type Key = [u8; 32];

#[derive(Default)]
struct Cache {
    entries: HashMap<Key, Arc<[u8]>>,
    order: VecDeque<Key>,
    total_bytes: usize,
}

fn cache() -> &'static Mutex<Cache> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

pub fn key(name: &str, source: &[u8]) -> Key {
    let mut hasher = Sha256::new();
    hasher.update((name.len() as u64).to_le_bytes());
    hasher.update(name.as_bytes());
    hasher.update(source);
    hasher.finalize().into()
}

pub fn get(key: &Key) -> Option<Arc<[u8]>> {
    let cache = cache().lock().unwrap_or_else(|p| p.into_inner());
    cache.entries.get(key).cloned()
}

pub fn put(key: Key, code: Vec<u8>) {
    if code.len() > BYTECODE_CACHE_BYTES_MAX {
        return;
    }
    let mut cache = cache().lock().unwrap_or_else(|p| p.into_inner());
    if cache.entries.contains_key(&key) {
        return;
    }
    while cache.total_bytes + code.len() > BYTECODE_CACHE_BYTES_MAX {
        let Some(oldest) = cache.order.pop_front() else {
            break;
        };
        if let Some(evicted) = cache.entries.remove(&oldest) {
            cache.total_bytes -= evicted.len();
        }
    }
    cache.total_bytes += code.len();
    cache.order.push_back(key);
    cache.entries.insert(key, code.into());
    assert!(cache.total_bytes <= BYTECODE_CACHE_BYTES_MAX);
}
