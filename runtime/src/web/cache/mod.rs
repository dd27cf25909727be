//! The Cache API: `caches.default` and `caches.open(name)`, with `match`, `put` and `delete`.
//!
//! Kiln's cache is the node's memory ([`store`]): shared by every isolate on the node, bounded
//! by [`CACHE_ENTRIES_MAX`](crate::limits::CACHE_ENTRIES_MAX) and
//! [`CACHE_BYTES_MAX`](crate::limits::CACHE_BYTES_MAX) (least recently used dropped first),
//! neither persistent (a restart empties it) nor shared with other nodes — much like
//! Cloudflare's, which is per data center. Entries are keyed by worker version, cache name and
//! URL, so one worker never reads another's. What is stored and for how long follows
//! Cloudflare's rules ([`policy`]).
//!
//! JavaScript (`30_cache.js`) checks the request and response, reads the body whole (put
//! consumes it) and hands the parts to [`op_cache_put`]; a hit comes back as status, headers
//! and a body registered like a subrequest's, so reading it streams from Rust.

pub mod policy;
pub mod store;

use std::time::{Instant, SystemTime};

use bytes::Bytes;
use rquickjs::prelude::Func;
use rquickjs::{Ctx, Object, Result, TypedArray, Value};

use crate::body;
use crate::isolate;
use crate::limits::CACHE_ENTRY_BYTES_MAX;
use policy::{Answer, Conditions, Decision};
use store::{Entry, Key};

pub fn register(_ctx: &Ctx<'_>, ops: &Object<'_>) -> Result<()> {
    ops.set("op_cache_put", Func::from(op_cache_put))?;
    ops.set("op_cache_match", Func::from(op_cache_match))?;
    ops.set("op_cache_delete", Func::from(op_cache_delete))?;
    Ok(())
}

fn key(ctx: &Ctx<'_>, cache: Option<String>, url: String) -> Result<Key> {
    Ok(Key {
        worker: isolate::data(ctx)?.worker.id(),
        cache,
        url,
    })
}

/// Headers from JavaScript's flat `[name, value, ...]` list.
fn pairs(flat: Vec<String>) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(flat.len() / 2);
    let mut items = flat.into_iter();
    while let (Some(name), Some(value)) = (items.next(), items.next()) {
        out.push((name, value));
    }
    out
}

/// Stores a response under `url` in cache `cache` (`null`: the default one); `false` when
/// Cloudflare's rules (or the size bound) say not to.
fn op_cache_put(
    ctx: Ctx<'_>,
    cache: Option<String>,
    url: String,
    status: u16,
    status_text: String,
    headers: Vec<String>,
    body: TypedArray<'_, u8>,
) -> Result<bool> {
    let body = body.as_bytes().unwrap_or(&[]);
    if body.len() > CACHE_ENTRY_BYTES_MAX {
        return Ok(false);
    }
    let headers = pairs(headers);
    let Decision::Store { ttl, strip } = policy::decide(status, &headers, SystemTime::now()) else {
        return Ok(false);
    };
    let headers = headers
        .into_iter()
        .filter(|(name, _)| !strip.iter().any(|s| s.eq_ignore_ascii_case(name)))
        .collect();
    let entry = Entry {
        status,
        status_text,
        headers,
        body: Bytes::copy_from_slice(body),
        // A TTL past what `Instant` can represent is as good as no expiry.
        expires_at: Instant::now().checked_add(ttl),
    };
    let key = key(&ctx, cache, url)?;
    Ok(store::node().put(key, entry))
}

/// A hit as JavaScript receives it: `[status, statusText, headers, bodyId | null]`.
struct Hit {
    status: u16,
    status_text: String,
    headers: Vec<(String, String)>,
    body: Option<Bytes>,
}

impl<'js> rquickjs::IntoJs<'js> for Hit {
    fn into_js(self, ctx: &Ctx<'js>) -> Result<Value<'js>> {
        let body_id = match self.body {
            Some(bytes) => Some(isolate::data(ctx)?.register_body(body::full(bytes))),
            None => None,
        };
        let mut flat = Vec::with_capacity(self.headers.len() * 2);
        for (name, value) in self.headers {
            flat.push(name);
            flat.push(value);
        }
        let array = rquickjs::Array::new(ctx.clone())?;
        array.set(0, self.status)?;
        array.set(1, self.status_text)?;
        array.set(2, flat)?;
        array.set(3, body_id)?;
        Ok(array.into_value())
    }
}

/// The response stored under `url`, with `cf-cache-status: HIT`, answering the request's
/// conditional and range headers; `undefined` on a miss.
fn op_cache_match(
    ctx: Ctx<'_>,
    cache: Option<String>,
    url: String,
    if_none_match: Option<String>,
    if_modified_since: Option<String>,
    range: Option<String>,
) -> Result<Option<Hit>> {
    let key = key(&ctx, cache, url)?;
    let Some(entry) = store::node().get(&key, Instant::now()) else {
        return Ok(None);
    };
    let conditions = Conditions {
        if_none_match: if_none_match.as_deref(),
        if_modified_since: if_modified_since.as_deref(),
        range: range.as_deref(),
    };
    let length = entry.body.len();
    let answer = match policy::answer(entry.status, &entry.headers, length, &conditions) {
        // `answer` only gives ranges inside the body; never slice past it regardless.
        Answer::Partial { start, end } if !(start < end && end <= length) => Answer::Full,
        answer => answer,
    };
    let mut headers: Vec<(String, String)> = entry
        .headers
        .iter()
        .filter(|(name, _)| {
            !name.eq_ignore_ascii_case("cf-cache-status")
                && (answer == Answer::Full || !name.eq_ignore_ascii_case("content-length"))
        })
        .cloned()
        .collect();
    headers.push(("cf-cache-status".into(), "HIT".into()));
    let hit = match answer {
        Answer::Full => Hit {
            status: entry.status,
            status_text: entry.status_text.clone(),
            headers,
            body: Some(entry.body.clone()),
        },
        Answer::NotModified => Hit {
            status: 304,
            status_text: "Not Modified".into(),
            headers,
            body: None,
        },
        Answer::Partial { start, end } => {
            headers.push((
                "content-range".into(),
                format!("bytes {start}-{}/{length}", end - 1),
            ));
            headers.push(("content-length".into(), (end - start).to_string()));
            Hit {
                status: 206,
                status_text: "Partial Content".into(),
                headers,
                body: Some(entry.body.slice(start..end)),
            }
        }
        Answer::Unsatisfiable => Hit {
            status: 416,
            status_text: "Range Not Satisfiable".into(),
            headers: vec![
                ("content-range".into(), format!("bytes */{length}")),
                ("cf-cache-status".into(), "HIT".into()),
            ],
            body: None,
        },
    };
    Ok(Some(hit))
}

/// Drops the response stored under `url`; `true` if there was one.
fn op_cache_delete(ctx: Ctx<'_>, cache: Option<String>, url: String) -> Result<bool> {
    let key = key(&ctx, cache, url)?;
    Ok(store::node().delete(&key, Instant::now()))
}
