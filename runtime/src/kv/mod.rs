//! Workers KV: namespaces bound into `env`, stored through the same storage seam as Durable
//! Objects. A namespace is kept as one storage object (its id is a hash of the namespace id),
//! so its keys list in order with a range scan and its writes are durable (and, in a cluster,
//! replicated) like any object's.
//!
//! An entry's stored value is `[version 1][expiration, ms since epoch, i64 BE; 0 for none]
//! [metadata length, u32 BE][metadata JSON][value bytes]`. Expired entries read as absent.

pub mod ops;

use sha2::{Digest, Sha256};

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
