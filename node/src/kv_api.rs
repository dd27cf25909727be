//! Workers KV's REST API, in the shape of Cloudflare's, beside the upload API (same prefix, same
//! admin token), so `kiln kv` and existing tooling can read and write a node's KV namespaces:
//!
//! - `GET    .../storage/kv/namespaces/{id}/values/{key}`: the value's bytes (404 when the key
//!   is absent or expired);
//! - `PUT    .../storage/kv/namespaces/{id}/values/{key}[?expiration=S|expiration_ttl=S]`: the
//!   body is the value, or a multipart form with `value` and `metadata` (JSON) fields;
//! - `DELETE .../storage/kv/namespaces/{id}/values/{key}`;
//! - `GET    .../storage/kv/namespaces/{id}/metadata/{key}`: the key's metadata;
//! - `GET    .../storage/kv/namespaces/{id}/keys[?prefix=&limit=&cursor=]`: names, expirations
//!   and metadata, with a cursor while more remain.
//!
//! Keys in paths are percent-decoded. Writes go through the same durable (and, in a cluster,
//! replicated) commit as a worker's `put()`, with the same limits; a refused write changes
//! nothing.

use bytes::Bytes;
use hyper::body::Incoming;
use kiln_runtime::kv::{self, KvEntry};
use kiln_runtime::Body;
use serde_json::{json, Value};

use crate::upload_api::{envelope, failure, form_parts, read_body, UploadApi};

/// A listing returns at most this many keys (Cloudflare: 1000, its default).
const LIST_LIMIT_MAX: usize = 1000;
/// The largest request body: a value at the limit plus a multipart envelope and metadata.
const PUT_BODY_BYTES_MAX: usize = kiln_runtime::limits::KV_VALUE_BYTES_MAX + 64 * 1024;
/// Cloudflare's smallest expiration TTL, in seconds.
const EXPIRATION_TTL_MIN_S: i64 = 60;

/// Why a request is refused: the Cloudflare-style error it is answered with.
struct Refusal {
    status: u16,
    code: u32,
    message: String,
}

impl Refusal {
    fn new(status: u16, code: u32, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            code,
            message: message.into(),
        }
    }

    fn answer(self) -> http::Response<Body> {
        failure(self.status, self.code, &self.message)
    }
}

/// Serves `rest` (the path after `.../storage/kv/namespaces/`).
pub async fn handle(
    api: &UploadApi,
    namespace: &str,
    rest: &[&str],
    request: http::Request<Incoming>,
) -> http::Response<Body> {
    let method = request.method().clone();
    match (rest, method) {
        (["values", key], http::Method::GET) => get(api, namespace, key),
        (["values", key], http::Method::PUT) => put(api, namespace, key, request).await,
        (["values", key], http::Method::DELETE) => delete(api, namespace, key).await,
        (["metadata", key], http::Method::GET) => metadata(api, namespace, key),
        (["keys"], http::Method::GET) => list(api, namespace, request.uri().query()),
        (["values", _] | ["metadata", _] | ["keys"], _) => {
            failure(405, 10000, "method not allowed")
        }
        _ => failure(404, 10007, "no such API route"),
    }
}

fn decoded(segment: &str) -> Option<String> {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .ok()
        .map(|key| key.into_owned())
}

/// The live entry under the path's key, or the answer to give instead.
fn entry(api: &UploadApi, namespace: &str, key: &str) -> Result<KvEntry, Refusal> {
    let Some(key) = decoded(key) else {
        return Err(Refusal::new(400, 10022, "the key is not UTF-8"));
    };
    if kv::check_key(&key).is_err() {
        return Err(Refusal::new(400, 10019, "invalid key"));
    }
    match kv::get(&*api.store, namespace, &key, kv::now_ms()) {
        Ok(Some(entry)) => Ok(entry),
        Ok(None) => Err(Refusal::new(404, 10009, "get: 'key not found'")),
        Err(err) => Err(Refusal::new(500, 10001, err.to_string())),
    }
}

fn get(api: &UploadApi, namespace: &str, key: &str) -> http::Response<Body> {
    match entry(api, namespace, key) {
        Ok(entry) => {
            let mut response = http::Response::new(kiln_runtime::full(Bytes::from(entry.value)));
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/octet-stream"),
            );
            if let Some(at) = entry.expiration_ms {
                if let Ok(value) = http::HeaderValue::from_str(&(at / 1000).to_string()) {
                    response.headers_mut().insert("expiration", value);
                }
            }
            response
        }
        Err(refusal) => refusal.answer(),
    }
}

fn metadata(api: &UploadApi, namespace: &str, key: &str) -> http::Response<Body> {
    match entry(api, namespace, key) {
        Ok(entry) => envelope(200, metadata_value(entry.metadata.as_deref())),
        Err(refusal) => refusal.answer(),
    }
}

fn metadata_value(metadata: Option<&str>) -> Value {
    metadata
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or(Value::Null)
}

/// A query parameter, form-decoded.
fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// When the entry expires (ms since the epoch), from `expiration` or `expiration_ttl`.
fn expiration_ms(query: Option<&str>) -> Result<Option<i64>, Refusal> {
    let number = |name: &str| -> Result<Option<i64>, Refusal> {
        match query_param(query, name) {
            None => Ok(None),
            Some(text) => text.parse::<i64>().map(Some).map_err(|_| {
                Refusal::new(400, 10021, format!("{name} is not a number of seconds"))
            }),
        }
    };
    let now_s = kv::now_ms() / 1000;
    if let Some(ttl) = number("expiration_ttl")? {
        if ttl < EXPIRATION_TTL_MIN_S {
            return Err(Refusal::new(
                400,
                10019,
                format!("Invalid expiration_ttl of {ttl}. Expiration TTL must be at least {EXPIRATION_TTL_MIN_S}."),
            ));
        }
        return Ok(Some((now_s + ttl) * 1000));
    }
    if let Some(at) = number("expiration")? {
        if at < now_s + EXPIRATION_TTL_MIN_S {
            return Err(Refusal::new(
                400,
                10019,
                format!("Invalid expiration of {at}. Expiration times must be at least {EXPIRATION_TTL_MIN_S} seconds in the future."),
            ));
        }
        return Ok(Some(at * 1000));
    }
    Ok(None)
}

async fn put(
    api: &UploadApi,
    namespace: &str,
    key: &str,
    request: http::Request<Incoming>,
) -> http::Response<Body> {
    let Some(key) = decoded(key) else {
        return failure(400, 10022, "the key is not UTF-8");
    };
    let expiration = match expiration_ms(request.uri().query()) {
        Ok(at) => at,
        Err(refusal) => return refusal.answer(),
    };
    let boundary = request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|ct| ct.starts_with("multipart/form-data"))
        .and_then(|ct| multer::parse_boundary(ct).ok());
    let (value, metadata) = match boundary {
        Some(boundary) => match form(request, boundary).await {
            Ok(parts) => parts,
            Err(refusal) => return refusal.answer(),
        },
        None => match read_body(request.into_body(), PUT_BODY_BYTES_MAX).await {
            Ok(bytes) => (bytes.to_vec(), None),
            Err(err) => return failure(413, 10011, &err),
        },
    };
    let entry = KvEntry {
        expiration_ms: expiration,
        metadata,
        value,
    };
    let batch = match kv::put_batch(namespace, &key, &entry) {
        Ok(batch) => batch,
        Err(kv::KvError::InvalidKey) => return failure(400, 10019, "invalid key"),
        Err(err) => return failure(413, 10011, &err.to_string()),
    };
    match api.store.commit_anywhere(batch).await {
        Ok(()) => envelope(200, json!({})),
        Err(err) => failure(500, 10001, &err.to_string()),
    }
}

/// The `value` and `metadata` fields of a multipart PUT.
async fn form(
    request: http::Request<Incoming>,
    boundary: String,
) -> Result<(Vec<u8>, Option<String>), Refusal> {
    let parts = form_parts(request.into_body(), boundary, PUT_BODY_BYTES_MAX as u64)
        .await
        .map_err(|err| Refusal::new(400, 10021, err))?;
    let (mut value, mut metadata) = (None, None);
    for part in parts {
        match part.name.as_str() {
            "value" => value = Some(part.bytes.to_vec()),
            "metadata" => {
                if serde_json::from_slice::<Value>(&part.bytes).is_err() {
                    return Err(Refusal::new(400, 10021, "the metadata field is not JSON"));
                }
                metadata = Some(String::from_utf8_lossy(&part.bytes).into_owned());
            }
            _ => {}
        }
    }
    let value = value.ok_or_else(|| Refusal::new(400, 10021, "the form has no value field"))?;
    Ok((value, metadata))
}

async fn delete(api: &UploadApi, namespace: &str, key: &str) -> http::Response<Body> {
    let Some(key) = decoded(key) else {
        return failure(400, 10022, "the key is not UTF-8");
    };
    let batch = match kv::delete_batch(namespace, &[key]) {
        Ok(batch) => batch,
        Err(_) => return failure(400, 10019, "invalid key"),
    };
    match api.store.commit_anywhere(batch).await {
        Ok(()) => envelope(200, json!({})),
        Err(err) => failure(500, 10001, &err.to_string()),
    }
}

fn list(api: &UploadApi, namespace: &str, query: Option<&str>) -> http::Response<Body> {
    let prefix = query_param(query, "prefix").unwrap_or_default();
    let limit = match query_param(query, "limit") {
        None => LIST_LIMIT_MAX,
        Some(text) => match text.parse::<usize>() {
            Ok(limit) if (10..=LIST_LIMIT_MAX).contains(&limit) => limit,
            _ => {
                return failure(
                    400,
                    10021,
                    &format!("limit must be a number from 10 to {LIST_LIMIT_MAX}"),
                )
            }
        },
    };
    let cursor = query_param(query, "cursor").filter(|c| !c.is_empty());
    let after = match cursor.as_deref().map(decode_cursor) {
        Some(Some(after)) => Some(after),
        Some(None) => return failure(400, 10021, "invalid cursor"),
        None => None,
    };
    let page = match kv::list(
        &*api.store,
        namespace,
        &prefix,
        after.as_deref(),
        limit,
        kv::now_ms(),
    ) {
        Ok(page) => page,
        Err(err) => return failure(500, 10001, &err.to_string()),
    };
    let keys: Vec<Value> = page
        .keys
        .iter()
        .map(|(name, entry)| {
            let mut key = json!({ "name": name });
            if let Some(at) = entry.expiration_ms {
                key["expiration"] = json!(at / 1000);
            }
            if entry.metadata.is_some() {
                key["metadata"] = metadata_value(entry.metadata.as_deref());
            }
            key
        })
        .collect();
    let next = match (&page.last_scanned, page.complete) {
        (Some(last), false) => encode_cursor(last),
        _ => String::new(),
    };
    let count = keys.len();
    let mut answer = json!({ "success": true, "errors": [], "messages": [], "result": keys });
    answer["result_info"] = json!({ "count": count, "cursor": next });
    crate::upload_api::respond(200, answer)
}

/// A cursor is the last key scanned, hex-encoded (opaque to clients, as Cloudflare's is).
fn encode_cursor(key: &str) -> String {
    key.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_cursor(cursor: &str) -> Option<String> {
    if !cursor.len().is_multiple_of(2) {
        return None;
    }
    let bytes = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(cursor.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        for key in ["a", "key with spaces", "ünïcödé/ключ"] {
            assert_eq!(decode_cursor(&encode_cursor(key)).as_deref(), Some(key));
        }
        assert_eq!(decode_cursor("abc"), None);
        assert_eq!(decode_cursor("zz"), None);
        assert_eq!(decode_cursor("ff"), None, "not UTF-8");
    }
}
