//! Workers KV: namespaces bound into `env`, stored through the same storage seam as Durable
//! Objects. A namespace is kept as one storage object (its id is a hash of the namespace id),
//! so its keys list in order with a range scan and its writes are durable (and, in a cluster,
//! replicated) like any object's.
//!
//! An entry's stored value is `[version 1][expiration, ms since epoch, i64 BE; 0 for none]
//! [metadata length, u32 BE][metadata JSON][value bytes]`. Expired entries read as absent.

pub mod ops;

use kiln_proto::storage::{mutation, Batch, Mutation, Put};
use sha2::{Digest, Sha256};

use crate::limits::{
    KV_KEY_BYTES_MAX, KV_LIST_PAGE_BYTES_MAX, KV_METADATA_BYTES_MAX, KV_VALUE_BYTES_MAX,
};
use crate::object::{ObjectStore, StoreError};

/// A KV namespace bound into a worker's `env`.
#[derive(Debug, Clone)]
pub struct KvBinding {
    /// The name in `env`.
    pub binding: String,
    /// The namespace's id (wrangler's `id`): the data's identity.
    pub id: String,
}

const ENTRY_VERSION: u8 = 1;

/// The storage object that holds namespace `id`.
pub fn object_id(namespace_id: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"kiln kv namespace\0");
    hasher.update(namespace_id.as_bytes());
    hasher.finalize().into()
}

/// The storage namespace name KV entries are registered under (as `kiln objects` lists them).
pub fn storage_namespace(namespace_id: &str) -> String {
    format!("kv:{namespace_id}")
}

/// One stored entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvEntry {
    /// Milliseconds since the epoch; `None` never expires.
    pub expiration_ms: Option<i64>,
    pub metadata: Option<String>,
    pub value: Vec<u8>,
}

impl KvEntry {
    pub fn encode(&self) -> Vec<u8> {
        let metadata = self.metadata.as_deref().unwrap_or_default().as_bytes();
        let mut out = Vec::with_capacity(13 + metadata.len() + self.value.len());
        out.push(ENTRY_VERSION);
        out.extend_from_slice(&self.expiration_ms.unwrap_or(0).to_be_bytes());
        out.extend_from_slice(&(metadata.len() as u32).to_be_bytes());
        out.extend_from_slice(metadata);
        out.extend_from_slice(&self.value);
        out
    }

    /// `None` for bytes that are not an entry of this version.
    pub fn decode(bytes: &[u8]) -> Option<KvEntry> {
        if *bytes.first()? != ENTRY_VERSION {
            return None;
        }
        let expiration = i64::from_be_bytes(bytes.get(1..9)?.try_into().ok()?);
        let metadata_len = u32::from_be_bytes(bytes.get(9..13)?.try_into().ok()?) as usize;
        let metadata = bytes.get(13..13 + metadata_len)?;
        Some(KvEntry {
            expiration_ms: (expiration != 0).then_some(expiration),
            metadata: (!metadata.is_empty())
                .then(|| String::from_utf8_lossy(metadata).into_owned()),
            value: bytes.get(13 + metadata_len..)?.to_vec(),
        })
    }

    pub fn is_expired(&self, now_ms: i64) -> bool {
        self.expiration_ms.is_some_and(|at| at <= now_ms)
    }
}

/// Why a key or an entry is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KvError {
    #[error("invalid KV key")]
    InvalidKey,
    #[error("KV value or metadata too large")]
    TooLarge,
}

/// A key KV accepts: 1 to [`KV_KEY_BYTES_MAX`] bytes, not `.` or `..`.
pub fn check_key(key: &str) -> Result<(), KvError> {
    if key.is_empty() || key.len() > KV_KEY_BYTES_MAX || key == "." || key == ".." {
        return Err(KvError::InvalidKey);
    }
    Ok(())
}

/// Milliseconds since the epoch, as expirations are kept.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The batch that writes `entry` under `key` in namespace `namespace_id`.
pub fn put_batch(namespace_id: &str, key: &str, entry: &KvEntry) -> Result<Batch, KvError> {
    check_key(key)?;
    if entry.value.len() > KV_VALUE_BYTES_MAX
        || entry
            .metadata
            .as_ref()
            .is_some_and(|m| m.len() > KV_METADATA_BYTES_MAX)
    {
        return Err(KvError::TooLarge);
    }
    Ok(Batch {
        namespace: storage_namespace(namespace_id),
        object_id: object_id(namespace_id).to_vec(),
        name: None,
        replies: Vec::new(),
        mutations: vec![Mutation {
            kind: Some(mutation::Kind::Put(Put {
                key: key.as_bytes().to_vec(),
                value: entry.encode(),
            })),
        }],
    })
}

/// The batch that deletes `keys` from namespace `namespace_id`.
pub fn delete_batch(namespace_id: &str, keys: &[String]) -> Result<Batch, KvError> {
    for key in keys {
        check_key(key)?;
    }
    Ok(Batch {
        namespace: storage_namespace(namespace_id),
        object_id: object_id(namespace_id).to_vec(),
        name: None,
        replies: Vec::new(),
        mutations: keys
            .iter()
            .map(|key| Mutation {
                kind: Some(mutation::Kind::Delete(key.as_bytes().to_vec())),
            })
            .collect(),
    })
}

/// The live entry under `key`, if any (an expired one reads as absent).
pub fn get(
    store: &dyn ObjectStore,
    namespace_id: &str,
    key: &str,
    now_ms: i64,
) -> Result<Option<KvEntry>, StoreError> {
    let stored = store.get(&object_id(namespace_id), key.as_bytes())?;
    Ok(stored
        .as_deref()
        .and_then(KvEntry::decode)
        .filter(|entry| !entry.is_expired(now_ms)))
}

/// One page of a listing: live keys with their expiration and metadata (values left empty).
#[derive(Debug, Clone, Default)]
pub struct ListPage {
    pub keys: Vec<(String, KvEntry)>,
    /// No live key after these.
    pub complete: bool,
    /// The last key read (live or not): where the next page starts.
    pub last_scanned: Option<String>,
}

/// Up to `limit` live keys after `after` (exclusive) starting with `prefix`. A page also stops
/// once it has read [`KV_LIST_PAGE_BYTES_MAX`] of stored entries.
pub fn list(
    store: &dyn ObjectStore,
    namespace_id: &str,
    prefix: &str,
    after: Option<&str>,
    limit: usize,
    now_ms: i64,
) -> Result<ListPage, StoreError> {
    let id = object_id(namespace_id);
    let limit = limit.max(1);
    let prefix_end = prefix_end(prefix.as_bytes());
    let mut start = match after {
        Some(after) if after.as_bytes() >= prefix.as_bytes() => {
            let mut next = after.as_bytes().to_vec();
            next.push(0);
            next
        }
        _ => prefix.as_bytes().to_vec(),
    };
    let mut page = ListPage::default();
    let mut read_bytes = 0usize;
    page.complete = loop {
        let stored = store.list(&id, Some(&start), prefix_end.as_deref(), false, Some(limit))?;
        let exhausted = stored.len() < limit;
        for (key, bytes) in stored {
            read_bytes += bytes.len();
            start = key.clone();
            start.push(0);
            let name = String::from_utf8_lossy(&key).into_owned();
            page.last_scanned = Some(name.clone());
            let Some(mut entry) = KvEntry::decode(&bytes) else {
                continue;
            };
            if entry.is_expired(now_ms) {
                continue;
            }
            entry.value = Vec::new();
            page.keys.push((name, entry));
            if page.keys.len() >= limit || read_bytes >= KV_LIST_PAGE_BYTES_MAX {
                break;
            }
        }
        if page.keys.len() >= limit || read_bytes >= KV_LIST_PAGE_BYTES_MAX {
            break false;
        }
        if exhausted {
            break true;
        }
    };
    Ok(page)
}

/// The smallest key greater than every key starting with `prefix`; `None` for no bound.
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_garbage_is_refused() {
        let entry = KvEntry {
            expiration_ms: Some(1_700_000_000_000),
            metadata: Some("{\"a\":1}".into()),
            value: b"value".to_vec(),
        };
        assert_eq!(KvEntry::decode(&entry.encode()), Some(entry.clone()));
        assert!(entry.is_expired(1_700_000_000_000));
        assert!(!entry.is_expired(1_699_999_999_999));
        let bare = KvEntry {
            expiration_ms: None,
            metadata: None,
            value: Vec::new(),
        };
        assert_eq!(KvEntry::decode(&bare.encode()), Some(bare));
        assert_eq!(KvEntry::decode(b"\x02junk"), None);
        assert_eq!(KvEntry::decode(&[1, 0, 0]), None);
    }
}
