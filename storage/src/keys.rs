//! The key layout of a shard tree. One tree per shard holds, under one-byte prefixes:
//!
//! - `d` + object id (32 bytes) + user key → value: object data, so `list()` is a range scan;
//! - `a` + object id → alarm time (i64 big-endian milliseconds);
//! - `o` + object id → the object's namespace and name (the object registry);
//! - `q` + object id + request id (16 bytes) → when it was recorded (Unix ms, u64 big-endian)
//!   and the serialized result of the JS RPC call made with that request id (exactly once);
//! - `t` + object id + that time + request id → nothing: the same records in time order, so
//!   expired ones are found without reading the rest;
//! - `m` → the last log index applied to this shard (u64 big-endian);
//! - `r` → the log's own metadata, written with the data it covers (a cluster's Raft state:
//!   last applied log id and membership).

pub const DATA: u8 = b'd';
pub const ALARM: u8 = b'a';
pub const OBJECT: u8 = b'o';
pub const REPLY: u8 = b'q';
pub const REPLY_TIME: u8 = b't';
/// The length of a request id.
pub const REQUEST_ID_BYTES: usize = 16;
pub const LAST_APPLIED: &[u8] = b"m";
pub const RAFT_META: &[u8] = b"r";

pub type ObjectId = [u8; 32];

pub fn data_prefix(id: &ObjectId) -> Vec<u8> {
    let mut key = Vec::with_capacity(33);
    key.push(DATA);
    key.extend_from_slice(id);
    key
}

pub fn data_key(id: &ObjectId, user_key: &[u8]) -> Vec<u8> {
    let mut key = data_prefix(id);
    key.extend_from_slice(user_key);
    key
}

pub fn alarm_key(id: &ObjectId) -> Vec<u8> {
    let mut key = Vec::with_capacity(33);
    key.push(ALARM);
    key.extend_from_slice(id);
    key
}

pub fn reply_prefix(id: &ObjectId) -> Vec<u8> {
    let mut key = Vec::with_capacity(33 + REQUEST_ID_BYTES);
    key.push(REPLY);
    key.extend_from_slice(id);
    key
}

pub fn reply_key(id: &ObjectId, request_id: &[u8]) -> Vec<u8> {
    let mut key = reply_prefix(id);
    key.extend_from_slice(request_id);
    key
}

pub fn reply_time_prefix(id: &ObjectId) -> Vec<u8> {
    let mut key = Vec::with_capacity(41 + REQUEST_ID_BYTES);
    key.push(REPLY_TIME);
    key.extend_from_slice(id);
    key
}

pub fn reply_time_key(id: &ObjectId, recorded_at_ms: u64, request_id: &[u8]) -> Vec<u8> {
    let mut key = reply_time_prefix(id);
    key.extend_from_slice(&recorded_at_ms.to_be_bytes());
    key.extend_from_slice(request_id);
    key
}

pub fn object_key(id: &ObjectId) -> Vec<u8> {
    let mut key = Vec::with_capacity(33);
    key.push(OBJECT);
    key.extend_from_slice(id);
    key
}

/// The registry value: namespace length (u16 BE), namespace, then the name (may be empty).
pub fn encode_object(namespace: &str, name: Option<&str>) -> Vec<u8> {
    let mut value = Vec::with_capacity(2 + namespace.len() + name.map_or(0, str::len));
    let len = u16::try_from(namespace.len()).unwrap_or(u16::MAX);
    value.extend_from_slice(&len.to_be_bytes());
    value.extend_from_slice(&namespace.as_bytes()[..usize::from(len)]);
    if let Some(name) = name {
        value.extend_from_slice(name.as_bytes());
    }
    value
}

pub fn decode_object(value: &[u8]) -> Option<(String, Option<String>)> {
    let len = usize::from(u16::from_be_bytes([*value.first()?, *value.get(1)?]));
    let namespace = std::str::from_utf8(value.get(2..2 + len)?).ok()?.to_owned();
    let rest = value.get(2 + len..)?;
    let name = if rest.is_empty() {
        None
    } else {
        Some(String::from_utf8_lossy(rest).into_owned())
    };
    Some((namespace, name))
}

/// The smallest key greater than every key starting with `prefix`, if there is one.
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

pub fn object_id(bytes: &[u8]) -> Option<ObjectId> {
    bytes.try_into().ok()
}
