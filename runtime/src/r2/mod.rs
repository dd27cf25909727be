//! R2: buckets bound into `env` (`r2_buckets`), stored through the same storage seam as Durable
//! Objects and KV. A bucket is one storage object (its id is a hash of the bucket name), so its
//! keys list in order with a range scan and a put is one batch: durable (and, in a cluster,
//! replicated) before it resolves, all or nothing.
//!
//! Layout in the bucket's object: `m` + key → the object's metadata (JSON: size, etag, version,
//! upload time, HTTP and custom metadata); `c` + key + `0x00` + version + chunk number (u32 BE)
//! → the body in chunks of [`R2_CHUNK_BYTES`]. A new version's chunks are written beside the
//! old ones and the old ones deleted in the same batch, so a reader that found the metadata finds
//! its chunks, and concurrent puts of one key leave one whole version (the last to commit).

pub mod ops;

use kiln_proto::storage::{mutation, Batch, Mutation, Put};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::object::{ObjectStore, StoreError};

/// An R2 bucket bound into a worker's `env`.
#[derive(Debug, Clone)]
pub struct R2Binding {
    /// The name in `env`.
    pub binding: String,
    /// The bucket's name: the data's identity.
    pub bucket: String,
}

/// The largest object one put stores (Kiln's limit: one put is one batch; Cloudflare allows
/// 5 GiB through multipart uploads).
pub const R2_OBJECT_BYTES_MAX: usize = 100 * 1024 * 1024;
/// Bytes per stored chunk.
pub const R2_CHUNK_BYTES: usize = 64 * 1024;
/// Keys are at most this long (Cloudflare: 1,024 bytes).
pub const R2_KEY_BYTES_MAX: usize = 1024;
/// Objects one list returns at most (Cloudflare: 1,000).
pub const R2_LIST_MAX: usize = 1000;
/// Custom metadata may take at most this many bytes (Cloudflare: 2,048).
pub const R2_METADATA_BYTES_MAX: usize = 2048;

const META: u8 = b'm';
const CHUNK: u8 = b'c';

/// What is stored of an object beside its body.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct R2Meta {
    pub size: u64,
    pub etag: String,
    pub version: String,
    /// Milliseconds since the epoch.
    pub uploaded: i64,
    #[serde(default)]
    pub http_metadata: serde_json::Value,
    #[serde(default)]
    pub custom_metadata: serde_json::Value,
    pub chunks: u32,
    /// Checksums the uploader gave and that matched (`sha1`, `sha256`, ... to hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksums: Option<serde_json::Value>,
}

/// The storage object that holds bucket `bucket`.
pub fn object_id(bucket: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"kiln r2 bucket\0");
    hasher.update(bucket.as_bytes());
    hasher.finalize().into()
}

/// The storage namespace a bucket's object is registered under.
pub fn storage_namespace(bucket: &str) -> String {
    format!("r2:{bucket}")
}

fn meta_key(key: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + key.len());
    out.push(META);
    out.extend_from_slice(key.as_bytes());
    out
}

fn chunk_key(key: &str, version: &str, chunk: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + version.len() + 6);
    out.push(CHUNK);
    out.extend_from_slice(key.as_bytes());
    out.push(0);
    out.extend_from_slice(version.as_bytes());
    out.extend_from_slice(&chunk.to_be_bytes());
    out
}

/// The metadata of `key`, if it exists.
pub fn head(
    store: &dyn ObjectStore,
    bucket: &str,
    key: &str,
) -> Result<Option<R2Meta>, StoreError> {
    let Some(bytes) = store.get(&object_id(bucket), &meta_key(key))? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|err| StoreError(format!("the metadata of {key:?} is corrupt: {err}")))
}

/// Bytes `offset..offset + length` of the object `meta` describes.
pub fn read(
    store: &dyn ObjectStore,
    bucket: &str,
    key: &str,
    meta: &R2Meta,
    offset: u64,
    length: u64,
) -> Result<Vec<u8>, StoreError> {
    let end = offset.saturating_add(length).min(meta.size);
    let mut out = Vec::with_capacity(end.saturating_sub(offset) as usize);
    let chunk_bytes = R2_CHUNK_BYTES as u64;
    let mut at = offset;
    while at < end {
        let chunk = (at / chunk_bytes) as u32;
        let bytes = store
            .get(&object_id(bucket), &chunk_key(key, &meta.version, chunk))?
            .ok_or_else(|| StoreError(format!("chunk {chunk} of {key:?} is missing")))?;
        let start = (at - u64::from(chunk) * chunk_bytes) as usize;
        let stop = ((end - u64::from(chunk) * chunk_bytes) as usize).min(bytes.len());
        if start >= stop {
            break;
        }
        out.extend_from_slice(&bytes[start..stop]);
        at += (stop - start) as u64;
    }
    Ok(out)
}

fn batch(bucket: &str, mutations: Vec<Mutation>) -> Batch {
    Batch {
        namespace: storage_namespace(bucket),
        object_id: object_id(bucket).to_vec(),
        name: None,
        replies: Vec::new(),
        mutations,
    }
}

fn put(key: Vec<u8>, value: Vec<u8>) -> Mutation {
    Mutation {
        kind: Some(mutation::Kind::Put(Put { key, value })),
    }
}

fn delete(key: Vec<u8>) -> Mutation {
    Mutation {
        kind: Some(mutation::Kind::Delete(key)),
    }
}

/// The batch that stores `body` as `key` with `meta` (its `chunks` filled in here), replacing
/// `old`'s chunks.
pub fn put_batch(
    bucket: &str,
    key: &str,
    mut meta: R2Meta,
    body: &[u8],
    old: Option<&R2Meta>,
) -> Batch {
    let chunks: Vec<&[u8]> = body.chunks(R2_CHUNK_BYTES).collect();
    meta.chunks = chunks.len() as u32;
    let mut mutations = Vec::with_capacity(chunks.len() + 2);
    if let Some(old) = old.filter(|old| old.version != meta.version) {
        for chunk in 0..old.chunks {
            mutations.push(delete(chunk_key(key, &old.version, chunk)));
        }
    }
    for (i, chunk) in chunks.iter().enumerate() {
        mutations.push(put(chunk_key(key, &meta.version, i as u32), chunk.to_vec()));
    }
    mutations.push(put(
        meta_key(key),
        serde_json::to_vec(&meta).unwrap_or_default(),
    ));
    batch(bucket, mutations)
}

/// The batch that deletes the objects `existing` describes.
pub fn delete_batch(bucket: &str, existing: &[(String, R2Meta)]) -> Batch {
    let mut mutations = Vec::new();
    for (key, meta) in existing {
        for chunk in 0..meta.chunks {
            mutations.push(delete(chunk_key(key, &meta.version, chunk)));
        }
        mutations.push(delete(meta_key(key)));
    }
    batch(bucket, mutations)
}

/// Objects whose keys start with `prefix`, after `start_after`, at most `limit`, in key order.
pub fn list(
    store: &dyn ObjectStore,
    bucket: &str,
    prefix: &str,
    start_after: Option<&str>,
    limit: usize,
) -> Result<Vec<(String, R2Meta)>, StoreError> {
    let start = match start_after {
        Some(after) => {
            let mut key = meta_key(after);
            key.push(0);
            key.max(meta_key(prefix))
        }
        None => meta_key(prefix),
    };
    let end = crate::kv::prefix_end(&meta_key(prefix));
    let entries = store.list(
        &object_id(bucket),
        Some(&start),
        end.as_deref(),
        false,
        Some(limit),
    )?;
    let mut out = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        let Some(name) = key.get(1..).and_then(|k| std::str::from_utf8(k).ok()) else {
            continue;
        };
        if let Ok(meta) = serde_json::from_slice::<R2Meta>(&value) {
            out.push((name.to_owned(), meta));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_keys_of_one_key_sort_after_its_meta_and_apart_from_other_keys() {
        assert!(meta_key("a") < meta_key("ab"));
        assert!(chunk_key("a", "v1", 1) > chunk_key("a", "v1", 0));
        assert_ne!(chunk_key("a", "v1", 0)[0], meta_key("a")[0]);
    }
}
