//! The node's cache of responses behind the Cache API: in memory, bounded in entries and bytes,
//! least recently used dropped first, expired entries dropped when they are next looked at.
//!
//! One store serves every isolate of the node (it is process-wide), so a response one isolate
//! puts is a hit for the others. Keys carry the worker, so workers (and Dynamic Workers) never
//! see each other's entries.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::time::Instant;

use bytes::Bytes;

use crate::limits::{CACHE_BYTES_MAX, CACHE_ENTRIES_MAX, CACHE_ENTRY_BYTES_MAX};

/// What an entry costs beyond its strings and body (the maps' nodes, the `Arc`, ...).
const ENTRY_OVERHEAD_BYTES: usize = 256;

/// Which cache of which worker, and which URL.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    /// `Worker::id()`: unique per worker version in this process.
    pub worker: u64,
    /// `None` for `caches.default`, the name for `caches.open(name)`.
    pub cache: Option<String>,
    pub url: String,
}

/// A stored response.
#[derive(Debug)]
pub struct Entry {
    pub status: u16,
    pub status_text: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// `None`: fresh until dropped to make room.
    pub expires_at: Option<Instant>,
}

impl Entry {
    fn fresh(&self, now: Instant) -> bool {
        self.expires_at.is_none_or(|at| now < at)
    }
}

struct Slot {
    entry: Arc<Entry>,
    bytes: usize,
    /// Position in `Store::order`: larger is more recently used.
    tick: u64,
}

/// Entries and their use order, with the bounds they are kept within.
pub struct Store {
    slots: HashMap<Key, Slot>,
    order: BTreeMap<u64, Key>,
    tick: u64,
    bytes: usize,
    entries_max: usize,
    bytes_max: usize,
}

/// The node's store.
static STORE: LazyLock<Mutex<Store>> =
    LazyLock::new(|| Mutex::new(Store::new(CACHE_ENTRIES_MAX, CACHE_BYTES_MAX)));

/// Locks the node's store. A panic elsewhere while it was held leaves it consistent (every
/// method restores its invariants before anything can panic), so poisoning is ignored.
pub fn node() -> MutexGuard<'static, Store> {
    STORE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn cost(key: &Key, entry: &Entry) -> usize {
    let headers: usize = entry
        .headers
        .iter()
        .map(|(name, value)| name.len() + value.len())
        .sum();
    ENTRY_OVERHEAD_BYTES
        + key.url.len()
        + key.cache.as_ref().map_or(0, String::len)
        + entry.status_text.len()
        + headers
        + entry.body.len()
}

impl Store {
    pub fn new(entries_max: usize, bytes_max: usize) -> Store {
        Store {
            slots: HashMap::new(),
            order: BTreeMap::new(),
            tick: 0,
            bytes: 0,
            entries_max,
            bytes_max,
        }
    }

    /// Stores `entry` under `key`, replacing what was there, and drops the least recently used
    /// entries until the store is within its bounds. Returns `false`, storing nothing (and
    /// dropping the old entry, which the new response supersedes), when the entry alone is
    /// larger than one entry may be.
    pub fn put(&mut self, key: Key, entry: Entry) -> bool {
        self.remove(&key);
        let bytes = cost(&key, &entry);
        if bytes > CACHE_ENTRY_BYTES_MAX.min(self.bytes_max) {
            return false;
        }
        while !self.order.is_empty()
            && (self.slots.len() + 1 > self.entries_max || self.bytes + bytes > self.bytes_max)
        {
            self.evict_oldest();
        }
        let tick = self.next_tick();
        self.order.insert(tick, key.clone());
        self.bytes += bytes;
        self.slots.insert(
            key,
            Slot {
                entry: Arc::new(entry),
                bytes,
                tick,
            },
        );
        true
    }

    /// The fresh entry under `key`, marked as just used; an expired one is dropped.
    pub fn get(&mut self, key: &Key, now: Instant) -> Option<Arc<Entry>> {
        let fresh = self.slots.get(key)?.entry.fresh(now);
        if !fresh {
            self.remove(key);
            return None;
        }
        let tick = self.next_tick();
        let slot = self.slots.get_mut(key)?;
        self.order.remove(&slot.tick);
        slot.tick = tick;
        self.order.insert(tick, key.clone());
        Some(Arc::clone(&slot.entry))
    }

    /// Drops the entry under `key`; `true` if there was a fresh one.
    pub fn delete(&mut self, key: &Key, now: Instant) -> bool {
        self.remove(key).is_some_and(|entry| entry.fresh(now))
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    fn remove(&mut self, key: &Key) -> Option<Arc<Entry>> {
        let slot = self.slots.remove(key)?;
        self.order.remove(&slot.tick);
        self.bytes -= slot.bytes;
        Some(slot.entry)
    }

    fn evict_oldest(&mut self) {
        if let Some((_, key)) = self.order.pop_first() {
            if let Some(slot) = self.slots.remove(&key) {
                self.bytes -= slot.bytes;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn key(url: &str) -> Key {
        Key {
            worker: 1,
            cache: None,
            url: url.into(),
        }
    }

    fn entry(body: &str, expires_at: Option<Instant>) -> Entry {
        Entry {
            status: 200,
            status_text: "OK".into(),
            headers: vec![("content-type".into(), "text/plain".into())],
            body: Bytes::copy_from_slice(body.as_bytes()),
            expires_at,
        }
    }

    fn check(store: &mut Store, url: &str, expect: Option<&str>) {
        let got = store.get(&key(url), Instant::now());
        let got = got
            .as_ref()
            .map(|e| std::str::from_utf8(&e.body).unwrap_or("?"));
        assert_eq!(got, expect, "{url}");
    }

    #[test]
    fn least_recently_used_goes_first_past_the_entry_bound() {
        let mut store = Store::new(2, 1 << 20);
        assert!(store.put(key("a"), entry("1", None)));
        assert!(store.put(key("b"), entry("2", None)));
        check(&mut store, "a", Some("1")); // a is now the most recently used
        assert!(store.put(key("c"), entry("3", None)));
        check(&mut store, "b", None);
        check(&mut store, "a", Some("1"));
        check(&mut store, "c", Some("3"));
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn byte_bound_drops_old_entries_and_refuses_oversized_ones() {
        let one = cost(&key("a"), &entry("x", None));
        let mut store = Store::new(100, one * 2);
        assert!(store.put(key("a"), entry("x", None)));
        assert!(store.put(key("b"), entry("y", None)));
        assert!(store.put(key("c"), entry("z", None)));
        check(&mut store, "a", None);
        assert!(store.bytes() <= one * 2);
        let big = "x".repeat(one * 2);
        assert!(!store.put(key("b"), entry(&big, None)));
        check(&mut store, "b", None);
        check(&mut store, "c", Some("z"));
    }

    #[test]
    fn expired_entries_miss_and_are_dropped() {
        let mut store = Store::new(10, 1 << 20);
        let now = Instant::now();
        assert!(store.put(key("a"), entry("1", Some(now + Duration::from_secs(60)))));
        assert!(store.get(&key("a"), now).is_some());
        assert!(store
            .get(&key("a"), now + Duration::from_secs(61))
            .is_none());
        assert!(store.is_empty());
        assert_eq!(store.bytes(), 0);
    }

    #[test]
    fn delete_reports_whether_a_fresh_entry_was_there() {
        let mut store = Store::new(10, 1 << 20);
        let now = Instant::now();
        assert!(store.put(key("a"), entry("1", None)));
        assert!(store.delete(&key("a"), now));
        assert!(!store.delete(&key("a"), now));
        assert!(store.put(key("b"), entry("1", Some(now))));
        assert!(!store.delete(&key("b"), now + Duration::from_secs(1)));
    }

    #[test]
    fn keys_of_other_workers_and_caches_are_separate() {
        let mut store = Store::new(10, 1 << 20);
        assert!(store.put(key("a"), entry("default", None)));
        let named = Key {
            cache: Some("named".into()),
            ..key("a")
        };
        let other = Key {
            worker: 2,
            ..key("a")
        };
        assert!(store.put(named.clone(), entry("named", None)));
        let now = Instant::now();
        assert!(store.get(&other, now).is_none());
        assert_eq!(
            &store
                .get(&named, now)
                .map(|e| e.body.clone())
                .unwrap_or_default()[..],
            b"named"
        );
        check(&mut store, "a", Some("default"));
    }
}
