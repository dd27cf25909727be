//! The JavaScript-facing operations of R2 (`op_r2_*`). The prelude (`web/r2/29_r2.js`) checks
//! arguments with Cloudflare's messages; sizes and key lengths are checked again here.

use md5::{Digest, Md5};
use rquickjs::prelude::{Func, Promised};
use rquickjs::{ArrayBuffer, Ctx, Exception, Object, Result, Value};

use super::{R2Binding, R2Meta, R2_KEY_BYTES_MAX, R2_LIST_MAX, R2_OBJECT_BYTES_MAX};
use crate::isolate;
use crate::object::ops::{storage_error, store};

pub fn register(_ctx: &Ctx<'_>, ops: &Object<'_>) -> Result<()> {
    ops.set("op_r2_head", Func::from(op_r2_head))?;
    ops.set("op_r2_get", Func::from(op_r2_get))?;
    ops.set("op_r2_put", Func::from(op_r2_put))?;
    ops.set("op_r2_delete", Func::from(op_r2_delete))?;
    ops.set("op_r2_list", Func::from(op_r2_list))?;
    Ok(())
}

fn binding(ctx: &Ctx<'_>, index: u32) -> Result<R2Binding> {
    isolate::data(ctx)?
        .worker
        .script()
        .r2_buckets
        .get(index as usize)
        .cloned()
        .ok_or_else(|| Exception::throw_internal(ctx, "unknown R2 bucket"))
}

fn check_key(ctx: &Ctx<'_>, key: &str) -> Result<()> {
    if key.len() > R2_KEY_BYTES_MAX {
        return Err(Exception::throw_type(
            ctx,
            &format!("R2 keys are at most {R2_KEY_BYTES_MAX} bytes long."),
        ));
    }
    Ok(())
}

/// The object's metadata as JSON, or null.
fn op_r2_head<'js>(ctx: Ctx<'js>, index: u32, key: String) -> Result<Option<String>> {
    check_key(&ctx, &key)?;
    let bucket = binding(&ctx, index)?.bucket;
    let meta =
        super::head(&*store(&ctx)?, &bucket, &key).map_err(|err| storage_error(&ctx, err))?;
    Ok(meta.map(|m| serde_json::to_string(&m).unwrap_or_default()))
}

/// `[metadata JSON, body bytes, offset]` of the range `offset`/`length` (or the last `suffix`
/// bytes; the whole object when neither is given), or null.
fn op_r2_get<'js>(
    ctx: Ctx<'js>,
    index: u32,
    key: String,
    offset: Option<f64>,
    length: Option<f64>,
    suffix: Option<f64>,
) -> Result<Value<'js>> {
    check_key(&ctx, &key)?;
    let bucket = binding(&ctx, index)?.bucket;
    let store = store(&ctx)?;
    let Some(meta) = super::head(&*store, &bucket, &key).map_err(|err| storage_error(&ctx, err))?
    else {
        return Ok(Value::new_null(ctx));
    };
    let size = meta.size;
    let whole = |v: Option<f64>| v.filter(|n| n.is_finite() && *n >= 0.0).map(|n| n as u64);
    let (start, count) = match (whole(offset), whole(length), whole(suffix)) {
        (_, _, Some(suffix)) => (size.saturating_sub(suffix), suffix.min(size)),
        (Some(start), Some(count), _) => (start.min(size), count),
        (Some(start), None, _) => (start.min(size), size.saturating_sub(start)),
        (None, Some(count), _) => (0, count),
        (None, None, None) => (0, size),
    };
    let body = super::read(&*store, &bucket, &key, &meta, start, count)
        .map_err(|err| storage_error(&ctx, err))?;
    let array = rquickjs::Array::new(ctx.clone())?;
    array.set(0, serde_json::to_string(&meta).unwrap_or_default())?;
    array.set(1, ArrayBuffer::new_copy(ctx.clone(), body)?)?;
    array.set(2, start as f64)?;
    Ok(array.into_value())
}

/// Stores `body` as `key`; resolves with the new object's metadata JSON once it is durable.
fn op_r2_put<'js>(
    ctx: Ctx<'js>,
    index: u32,
    key: String,
    body: ArrayBuffer<'js>,
    http_metadata: String,
    custom_metadata: String,
    extras: Option<String>,
) -> Result<Promised<impl std::future::Future<Output = Result<String>> + 'js>> {
    // `{checksums, etag}`: the checksums the uploader gave (checked), and a multipart object's
    // etag (the MD5 of its parts' MD5s and their count).
    let extras: serde_json::Value = extras
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    let etag = extras["etag"].as_str().map(str::to_owned);
    let checksums = extras.get("checksums").filter(|c| c.is_object()).cloned();
    check_key(&ctx, &key)?;
    let bytes = body.as_bytes().unwrap_or(&[]);
    if bytes.len() > R2_OBJECT_BYTES_MAX {
        return Err(Exception::throw_range(
            &ctx,
            &format!("put: Your proposed upload exceeds the maximum allowed object size ({R2_OBJECT_BYTES_MAX} bytes in Kiln)."),
        ));
    }
    let bucket = binding(&ctx, index)?.bucket;
    let store = store(&ctx)?;
    let old = super::head(&*store, &bucket, &key).map_err(|err| storage_error(&ctx, err))?;
    let mut version = [0u8; 16];
    let _ = getrandom::fill(&mut version);
    let meta = R2Meta {
        size: bytes.len() as u64,
        etag: etag.unwrap_or_else(|| crate::object::to_hex(&Md5::digest(bytes))),
        version: crate::object::to_hex(&version),
        uploaded: crate::kv::now_ms(),
        http_metadata: serde_json::from_str(&http_metadata).unwrap_or_default(),
        custom_metadata: serde_json::from_str(&custom_metadata).unwrap_or_default(),
        chunks: 0,
        checksums,
    };
    let batch = super::put_batch(&bucket, &key, meta, bytes, old.as_ref());
    let meta_json = batch
        .mutations
        .last()
        .and_then(|m| match &m.kind {
            Some(kiln_proto::storage::mutation::Kind::Put(put)) => {
                String::from_utf8(put.value.clone()).ok()
            }
            _ => None,
        })
        .unwrap_or_default();
    let committed = store.commit_anywhere(batch);
    Ok(Promised(async move {
        committed.await.map_err(|err| storage_error(&ctx, err))?;
        Ok(meta_json)
    }))
}

/// Deletes the keys that exist; resolves once durable.
fn op_r2_delete<'js>(
    ctx: Ctx<'js>,
    index: u32,
    keys: Vec<String>,
) -> Result<Promised<impl std::future::Future<Output = Result<()>> + 'js>> {
    if keys.len() > R2_LIST_MAX {
        return Err(Exception::throw_range(
            &ctx,
            &format!("delete: at most {R2_LIST_MAX} keys at once."),
        ));
    }
    let bucket = binding(&ctx, index)?.bucket;
    let store = store(&ctx)?;
    let mut existing = Vec::new();
    for key in keys {
        check_key(&ctx, &key)?;
        if let Some(meta) =
            super::head(&*store, &bucket, &key).map_err(|err| storage_error(&ctx, err))?
        {
            existing.push((key, meta));
        }
    }
    let committed = (!existing.is_empty())
        .then(|| store.commit_anywhere(super::delete_batch(&bucket, &existing)));
    Ok(Promised(async move {
        if let Some(committed) = committed {
            committed.await.map_err(|err| storage_error(&ctx, err))?;
        }
        Ok(())
    }))
}

/// `[[key, metadata JSON], ...]` of the keys under `prefix` after `start_after`, at most
/// `limit`.
fn op_r2_list(
    ctx: Ctx<'_>,
    index: u32,
    prefix: String,
    start_after: Option<String>,
    limit: f64,
) -> Result<Vec<Vec<String>>> {
    let bucket = binding(&ctx, index)?.bucket;
    let limit = (limit.max(1.0) as usize).min(R2_LIST_MAX * 4);
    let found = super::list(
        &*store(&ctx)?,
        &bucket,
        &prefix,
        start_after.as_deref(),
        limit,
    )
    .map_err(|err| storage_error(&ctx, err))?;
    Ok(found
        .into_iter()
        .map(|(key, meta)| vec![key, serde_json::to_string(&meta).unwrap_or_default()])
        .collect())
}
