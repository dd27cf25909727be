//! The JavaScript-facing operations of KV (`op_kv_*`). Limits are checked in the prelude with
//! Cloudflare's messages and again here, so nothing a worker passes can grow past them.

use bytes::Bytes;
use kiln_proto::storage::Batch;
use rquickjs::prelude::{Func, Promised};
use rquickjs::{ArrayBuffer, Ctx, Exception, Object, Result, TypedArray, Value};

use super::{now_ms, KvBinding, KvEntry};
use crate::isolate;
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
    super::check_key(key).map_err(|err| Exception::throw_type(ctx, &err.to_string()))
}

/// `[value (ArrayBuffer), expiration (seconds) or null, metadata JSON or null]`, or null.
fn op_kv_get<'js>(ctx: Ctx<'js>, index: u32, key: String) -> Result<Value<'js>> {
    check_key(&ctx, &key)?;
    let namespace = binding(&ctx, index)?.id;
    let found = super::get(&*store(&ctx)?, &namespace, &key, now_ms())
        .map_err(|err| storage_error(&ctx, err))?;
    match found {
        Some(entry) => entry_array(&ctx, entry, true),
        None => Ok(Value::new_null(ctx)),
    }
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
    let entry = KvEntry {
        expiration_ms: expiration_s
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(|s| (s * 1000.0) as i64),
        metadata,
        value: value.to_vec(),
    };
    let batch = super::put_batch(&binding(&ctx, index)?.id, &key, &entry)
        .map_err(|err| Exception::throw_range(&ctx, &err.to_string()))?;
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
    let batch = super::delete_batch(&binding(&ctx, index)?.id, &keys)
        .map_err(|err| Exception::throw_type(&ctx, &err.to_string()))?;
    commit(ctx, batch)
}

/// Up to `limit` live keys after `after` (exclusive) starting with `prefix`:
/// `[[[name, expiration or null, metadata or null], ...], complete, last key scanned]`.
fn op_kv_list<'js>(
    ctx: Ctx<'js>,
    index: u32,
    prefix: String,
    after: Option<String>,
    limit: u32,
) -> Result<Value<'js>> {
    let namespace = binding(&ctx, index)?.id;
    let page = super::list(
        &*store(&ctx)?,
        &namespace,
        &prefix,
        after.as_deref(),
        limit as usize,
        now_ms(),
    )
    .map_err(|err| storage_error(&ctx, err))?;
    let keys = rquickjs::Array::new(ctx.clone())?;
    for (i, (name, entry)) in page.keys.into_iter().enumerate() {
        let item = entry_array(&ctx, entry, false)?;
        if let Some(item) = item.as_array() {
            item.set(0, name)?;
        }
        keys.set(i, item)?;
    }
    let result = rquickjs::Array::new(ctx.clone())?;
    result.set(0, keys)?;
    result.set(1, page.complete)?;
    result.set(2, page.last_scanned)?;
    Ok(result.into_value())
}
