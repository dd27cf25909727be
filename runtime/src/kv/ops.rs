//! The JavaScript-facing operations of KV (`op_kv_*`). Limits are checked in the prelude with
//! Cloudflare's messages and again here, so nothing a worker passes can grow past them.

use bytes::Bytes;
use kiln_proto::storage::{mutation, Batch, Mutation, Put};
use rquickjs::prelude::{Func, Promised};
use rquickjs::{ArrayBuffer, Ctx, Exception, Object, Result, TypedArray, Value};

use super::{object_id, storage_namespace, KvBinding, KvEntry};
use crate::isolate;
use crate::limits::{
    KV_KEY_BYTES_MAX, KV_LIST_PAGE_BYTES_MAX, KV_METADATA_BYTES_MAX, KV_VALUE_BYTES_MAX,
};
use crate::object::ops::{storage_error, store};

pub fn register(_ctx: &Ctx<'_>, ops: &Object<'_>) -> Result<()> {
    ops.set("op_kv_get", Func::from(op_kv_get))?;
    ops.set("op_kv_put", Func::from(op_kv_put))?;
    ops.set("op_kv_delete", Func::from(op_kv_delete))?;
    ops.set("op_kv_list", Func::from(op_kv_list))?;
    Ok(())
}

fn binding(ctx: &Ctx<'_>, index: u32) -> Result<KvBinding> {
    isolate::data(ctx)?
        .worker
        .script()
        .kv_namespaces
        .get(index as usize)
        .cloned()
        .ok_or_else(|| Exception::throw_internal(ctx, "unknown KV namespace"))
}

fn check_key(ctx: &Ctx<'_>, key: &str) -> Result<()> {
    if key.is_empty() || key.len() > KV_KEY_BYTES_MAX || key == "." || key == ".." {
        return Err(Exception::throw_type(ctx, "invalid KV key"));
    }
    Ok(())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// `[value (ArrayBuffer), expiration (seconds) or null, metadata JSON or null]`, or null.
fn op_kv_get<'js>(ctx: Ctx<'js>, index: u32, key: String) -> Result<Value<'js>> {
    check_key(&ctx, &key)?;
    let id = object_id(&binding(&ctx, index)?.id);
    let stored = store(&ctx)?
        .get(&id, key.as_bytes())
        .map_err(|err| storage_error(&ctx, err))?;
    let Some(entry) = stored.as_deref().and_then(KvEntry::decode) else {
        return Ok(Value::new_null(ctx));
    };
    if entry.is_expired(now_ms()) {
        return Ok(Value::new_null(ctx));
    }
    entry_array(&ctx, entry, true)
}

fn entry_array<'js>(ctx: &Ctx<'js>, entry: KvEntry, with_value: bool) -> Result<Value<'js>> {
    let array = rquickjs::Array::new(ctx.clone())?;
    if with_value {
        array.set(0, ArrayBuffer::new_copy(ctx.clone(), entry.value)?)?;
    }
    array.set(1, entry.expiration_ms.map(|ms| (ms / 1000) as f64))?;
    array.set(2, entry.metadata)?;
    Ok(array.into_value())
}

fn bytes_of(ctx: &Ctx<'_>, value: &Value<'_>) -> Result<Bytes> {
    if let Some(text) = value.as_string() {
        return Ok(Bytes::from(text.to_string()?));
    }
    if let Some(buffer) = ArrayBuffer::from_value(value.clone()) {
        return Ok(Bytes::copy_from_slice(buffer.as_bytes().unwrap_or(&[])));
    }
    if let Ok(array) = TypedArray::<u8>::from_value(value.clone()) {
        return Ok(Bytes::copy_from_slice(array.as_bytes().unwrap_or(&[])));
    }
    Err(Exception::throw_type(ctx, "KV values are strings or bytes"))
}

/// Writes one entry; resolves once it is durable.
fn op_kv_put<'js>(
    ctx: Ctx<'js>,
    index: u32,
    key: String,
    value: Value<'js>,
    expiration_s: Option<f64>,
    metadata: Option<String>,
) -> Result<Promised<impl std::future::Future<Output = Result<()>> + 'js>> {
    check_key(&ctx, &key)?;
    let value = bytes_of(&ctx, &value)?;
    if value.len() > KV_VALUE_BYTES_MAX
        || metadata
            .as_ref()
            .is_some_and(|m| m.len() > KV_METADATA_BYTES_MAX)
    {
        return Err(Exception::throw_range(
            &ctx,
            "KV value or metadata too large",
        ));
    }
    let binding = binding(&ctx, index)?;
    let entry = KvEntry {
        expiration_ms: expiration_s
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(|s| (s * 1000.0) as i64),
        metadata,
        value: value.to_vec(),
    };
    let batch = Batch {
        namespace: storage_namespace(&binding.id),
        object_id: object_id(&binding.id).to_vec(),
        name: None,
        mutations: vec![Mutation {
            kind: Some(mutation::Kind::Put(Put {
                key: key.into_bytes(),
                value: entry.encode(),
            })),
        }],
    };
    commit(ctx, batch)
}

fn commit<'js>(
    ctx: Ctx<'js>,
    batch: Batch,
) -> Result<Promised<impl std::future::Future<Output = Result<()>> + 'js>> {
    let committed = store(&ctx)?.commit_anywhere(batch);
    Ok(Promised(async move {
        committed.await.map_err(|err| storage_error(&ctx, err))
    }))
}

/// Deletes keys; resolves once durable.
fn op_kv_delete<'js>(
    ctx: Ctx<'js>,
    index: u32,
    keys: Vec<String>,
) -> Result<Promised<impl std::future::Future<Output = Result<()>> + 'js>> {
    for key in &keys {
        check_key(&ctx, key)?;
    }
    let binding = binding(&ctx, index)?;
    let batch = Batch {
        namespace: storage_namespace(&binding.id),
        object_id: object_id(&binding.id).to_vec(),
        name: None,
        mutations: keys
            .into_iter()
            .map(|key| Mutation {
                kind: Some(mutation::Kind::Delete(key.into_bytes())),
            })
            .collect(),
    };
    commit(ctx, batch)
}

/// Up to `limit` live keys after `after` (exclusive) starting with `prefix`:
/// `[[[name, expiration or null, metadata or null], ...], complete, last key scanned]`.
/// A page also stops once it has read [`KV_LIST_PAGE_BYTES_MAX`] of stored entries.
fn op_kv_list<'js>(
    ctx: Ctx<'js>,
    index: u32,
    prefix: String,
    after: Option<String>,
    limit: u32,
) -> Result<Value<'js>> {
    let id = object_id(&binding(&ctx, index)?.id);
    let store = store(&ctx)?;
    let prefix_end = prefix_end(prefix.as_bytes());
    let mut start = match after {
        Some(after) if after.as_bytes() >= prefix.as_bytes() => {
            let mut next = after.into_bytes();
            next.push(0);
            next
        }
        _ => prefix.as_bytes().to_vec(),
    };
    let keys = rquickjs::Array::new(ctx.clone())?;
    let mut found = 0u32;
    let mut read_bytes = 0usize;
    let mut last_scanned: Option<Vec<u8>> = None;
    let now = now_ms();
    let complete = loop {
        let page = store
            .list(
                &id,
                Some(&start),
                prefix_end.as_deref(),
                false,
                Some(limit as usize),
            )
            .map_err(|err| storage_error(&ctx, err))?;
        let exhausted = page.len() < limit as usize;
        for (key, stored) in page {
            read_bytes += stored.len();
            start = key.clone();
            start.push(0);
            last_scanned = Some(key.clone());
            let Some(entry) = KvEntry::decode(&stored) else {
                continue;
            };
            if entry.is_expired(now) {
                continue;
            }
            let item = entry_array(&ctx, entry, false)?;
            if let Some(item) = item.as_array() {
                item.set(0, String::from_utf8_lossy(&key).into_owned())?;
            }
            keys.set(found as usize, item)?;
            found += 1;
            if found >= limit || read_bytes >= KV_LIST_PAGE_BYTES_MAX {
                break;
            }
        }
        if found >= limit || read_bytes >= KV_LIST_PAGE_BYTES_MAX {
            break false;
        }
        if exhausted {
            break true;
        }
    };
    let result = rquickjs::Array::new(ctx.clone())?;
    result.set(0, keys)?;
    result.set(1, complete)?;
    result.set(
        2,
        last_scanned.map(|key| String::from_utf8_lossy(&key).into_owned()),
    )?;
    Ok(result.into_value())
}

/// The smallest key greater than every key starting with `prefix`; `None` for no bound.
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}
