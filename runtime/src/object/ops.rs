//! The JavaScript-facing operations of Durable Objects: ids, calls to objects (`stub.fetch`,
//! RPC) and storage reads and commits. Errors become the JavaScript exceptions Cloudflare
//! throws; nothing here trusts the values JavaScript passes.

use std::sync::Arc;

use rquickjs::prelude::{Func, Promised};
use rquickjs::{Ctx, Exception, IntoJs, Object, Result, Value};

use kiln_proto::storage::{mutation, Alarm, DeleteAll, Mutation, Put, Reply};

use super::{from_hex, id, to_hex, DurableObjectBinding, ObjectStore, ObjectTarget};
use crate::error::Error;
use crate::isolate;
use crate::web::fetch::{request_from_js, FetchResult};
use crate::worker::Worker;

pub fn register(_ctx: &Ctx<'_>, ops: &Object<'_>) -> Result<()> {
    ops.set("op_do_id_from_name", Func::from(op_do_id_from_name))?;
    ops.set("op_do_id_from_string", Func::from(op_do_id_from_string))?;
    ops.set("op_do_new_unique_id", Func::from(op_do_new_unique_id))?;
    ops.set("op_do_fetch", Func::from(op_do_fetch))?;
    ops.set("op_do_call", Func::from(op_do_call))?;
    ops.set("op_storage_get", Func::from(op_storage_get))?;
    ops.set("op_storage_list", Func::from(op_storage_list))?;
    ops.set("op_storage_get_alarm", Func::from(op_storage_get_alarm))?;
    ops.set("op_storage_commit", Func::from(op_storage_commit))?;
    ops.set("op_storage_read_fence", Func::from(op_storage_read_fence))?;
    ops.set("op_storage_reply", Func::from(op_storage_reply))?;
    Ok(())
}

pub(crate) fn binding(ctx: &Ctx<'_>, index: u32) -> Result<DurableObjectBinding> {
    let data = isolate::data(ctx)?;
    data.worker
        .script()
        .durable_objects
        .get(index as usize)
        .cloned()
        .ok_or_else(|| Exception::throw_internal(ctx, "unknown Durable Object namespace"))
}

pub(crate) fn store(ctx: &Ctx<'_>) -> Result<Arc<dyn ObjectStore>> {
    isolate::data(ctx)?.services.store.clone().ok_or_else(|| {
        crate::web::throw_error(
            ctx,
            "Durable Object storage is not configured on this node.",
        )
    })
}

fn object_id(ctx: &Ctx<'_>, hex: &str) -> Result<[u8; 32]> {
    from_hex(hex).ok_or_else(|| Exception::throw_internal(ctx, "malformed object id"))
}

fn op_do_id_from_name(ctx: Ctx<'_>, index: u32, name: String) -> Result<String> {
    Ok(to_hex(&id::from_name(&binding(&ctx, index)?.key, &name)))
}

fn op_do_new_unique_id(ctx: Ctx<'_>, index: u32) -> Result<String> {
    Ok(to_hex(&id::new_unique(&binding(&ctx, index)?.key)))
}

fn op_do_id_from_string(ctx: Ctx<'_>, index: u32, text: String) -> Result<String> {
    let Some(parsed) = from_hex(&text) else {
        return Err(Exception::throw_type(
            &ctx,
            "Invalid Durable Object ID: must be 64 hex digits",
        ));
    };
    if !id::is_valid(&binding(&ctx, index)?.key, &parsed) {
        return Err(Exception::throw_type(
            &ctx,
            "Durable Object ID is not valid for this namespace.",
        ));
    }
    Ok(to_hex(&parsed))
}

/// Throws the runtime error a call to an object ended with, as Cloudflare shows it to callers.
pub(crate) fn throw_call_error(ctx: &Ctx<'_>, err: Error) -> rquickjs::Error {
    match err {
        Error::Exception(text) => {
            // `Name: message` on the first line; the object's stack is in its own log.
            let first = text.lines().next().unwrap_or_default();
            let message = first.split_once(": ").map_or(first, |(_, m)| m);
            crate::web::throw_error(ctx, message)
        }
        other => crate::web::throw_error(ctx, &other.to_string()),
    }
}

pub(crate) fn target(
    ctx: &Ctx<'_>,
    index: u32,
    id_hex: &str,
    name: Option<String>,
) -> Result<ObjectTarget> {
    Ok(ObjectTarget {
        binding: index as usize,
        id: object_id(ctx, id_hex)?,
        name,
    })
}

/// The worker that runs namespace `index`'s objects and the namespace's index in it: this
/// worker, or the one a `script_name` binding names.
fn reach(ctx: &Ctx<'_>, index: u32) -> Result<(crate::Runtime, Arc<Worker>, u32)> {
    let data = isolate::data(ctx)?;
    let runtime = data.services.runtime.clone();
    let binding = data
        .worker
        .script()
        .durable_objects
        .get(index as usize)
        .cloned()
        .ok_or_else(|| Exception::throw_internal(ctx, "unknown Durable Object namespace"))?;
    let Some(script) = &binding.script else {
        return Ok((runtime, Arc::clone(&data.worker), index));
    };
    let missing = || {
        crate::web::throw_error(
            ctx,
            &format!(
                "Durable Object namespace {:?} belongs to the worker {script:?}, which this node is not running.",
                binding.binding
            ),
        )
    };
    let worker = runtime.worker(script).ok_or_else(missing)?;
    let position = worker
        .script()
        .durable_objects
        .iter()
        .position(|b| b.script.is_none() && b.namespace == binding.namespace)
        .ok_or_else(missing)?;
    Ok((runtime, worker, position as u32))
}

/// `request` is `[method, url, headers, body]`.
fn op_do_fetch<'js>(
    ctx: Ctx<'js>,
    index: u32,
    id_hex: String,
    name: Option<String>,
    request: rquickjs::Array<'js>,
) -> Result<Promised<impl std::future::Future<Output = Result<FetchResult>> + 'js>> {
    let (request, url) = request_from_js(&ctx, &request)?;
    let (runtime, worker, index) = reach(&ctx, index)?;
    let target = target(&ctx, index, &id_hex, name)?;
    Ok(Promised(async move {
        let response = runtime
            .object_fetch(&worker, target, request)
            .await
            .map_err(|err| throw_call_error(&ctx, err))?;
        Ok(FetchResult::from_response(response, url))
    }))
}

fn op_do_call<'js>(
    ctx: Ctx<'js>,
    index: u32,
    id_hex: String,
    name: Option<String>,
    method: String,
    args: String,
) -> Result<Promised<impl std::future::Future<Output = Result<String>> + 'js>> {
    let (runtime, worker, index) = reach(&ctx, index)?;
    let target = target(&ctx, index, &id_hex, name)?;
    Ok(Promised(async move {
        runtime
            .object_call(&worker, target, method, args)
            .await
            .map_err(|err| throw_call_error(&ctx, err))
    }))
}

pub(crate) fn storage_error(ctx: &Ctx<'_>, err: super::StoreError) -> rquickjs::Error {
    crate::web::throw_error(
        ctx,
        &format!("Durable Object storage operation failed: {err}"),
    )
}

fn op_storage_get(ctx: Ctx<'_>, id_hex: String, key: String) -> Result<Option<String>> {
    let id = object_id(&ctx, &id_hex)?;
    let value = store(&ctx)?
        .get(&id, key.as_bytes())
        .map_err(|err| storage_error(&ctx, err))?;
    Ok(value.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
}

/// Keys and values, flattened: `[key, value, key, value, ...]`.
fn op_storage_list(
    ctx: Ctx<'_>,
    id_hex: String,
    start: Option<String>,
    end: Option<String>,
    reverse: bool,
    limit: Option<u32>,
) -> Result<Vec<String>> {
    let id = object_id(&ctx, &id_hex)?;
    // Keys from 0xFF on hold SQL pages, never a user's key (UTF-8 never has the byte 0xFF).
    let reserved = [crate::sql::page_file::RESERVED_KEY_BYTE];
    let end = end.as_deref().map(str::as_bytes).unwrap_or(&reserved);
    let entries = store(&ctx)?
        .list(
            &id,
            start.as_deref().map(str::as_bytes),
            Some(end),
            reverse,
            limit.map(|l| l as usize),
        )
        .map_err(|err| storage_error(&ctx, err))?;
    let mut flat = Vec::with_capacity(entries.len() * 2);
    for (key, value) in entries {
        flat.push(String::from_utf8_lossy(&key).into_owned());
        flat.push(String::from_utf8_lossy(&value).into_owned());
    }
    Ok(flat)
}

fn op_storage_get_alarm(ctx: Ctx<'_>, id_hex: String) -> Result<Option<f64>> {
    let id = object_id(&ctx, &id_hex)?;
    let alarm = store(&ctx)?
        .get_alarm(&id)
        .map_err(|err| storage_error(&ctx, err))?;
    Ok(alarm.map(|ms| ms as f64))
}

/// Commits one coalesced batch; resolves once it is durable. The batch object holds `index`,
/// `id`, `name`, `deleteAll`, `keys`, `values` (null deletes the key), `alarm` (undefined
/// leaves the alarm, null deletes it, a number sets it) and, for results of RPC calls recorded
/// with the writes, `replyIds` (request ids in hex), `replyResults` (serialized results) and
/// `replyTimes` (Unix ms), or none of them.
fn op_storage_commit<'js>(
    ctx: Ctx<'js>,
    batch: Object<'js>,
) -> Result<Promised<impl std::future::Future<Output = Result<()>> + 'js>> {
    let index: u32 = batch.get("index")?;
    let id_hex: String = batch.get("id")?;
    let name: Option<String> = batch.get("name")?;
    let delete_all: bool = batch.get("deleteAll")?;
    let keys: Vec<String> = batch.get("keys")?;
    let values: Vec<Option<String>> = batch.get("values")?;
    let alarm: Value = batch.get("alarm")?;
    let sql: Option<u32> = batch.get("sql")?;
    let reply_ids: Option<Vec<String>> = batch.get("replyIds")?;
    let reply_results: Option<Vec<String>> = batch.get("replyResults")?;
    let reply_times: Option<Vec<f64>> = batch.get("replyTimes")?;
    let id = object_id(&ctx, &id_hex)?;
    let namespace = binding(&ctx, index)?.namespace;
    if keys.len() != values.len() {
        return Err(Exception::throw_internal(
            &ctx,
            "keys and values differ in length",
        ));
    }
    let mut mutations = Vec::with_capacity(keys.len() + 2);
    if delete_all {
        mutations.push(Mutation {
            kind: Some(mutation::Kind::DeleteAll(DeleteAll {})),
        });
    }
    for (key, value) in keys.into_iter().zip(values) {
        let kind = match value {
            Some(value) => mutation::Kind::Put(Put {
                key: key.into_bytes(),
                value: value.into_bytes(),
            }),
            None => mutation::Kind::Delete(key.into_bytes()),
        };
        mutations.push(Mutation { kind: Some(kind) });
    }
    if !alarm.is_undefined() {
        let time_ms = alarm.as_number().map(|ms| ms as i64);
        mutations.push(Mutation {
            kind: Some(mutation::Kind::Alarm(Alarm { time_ms })),
        });
    }
    // The SQL database's pages written this turn join the batch (after any delete-all).
    let sql_pages = match sql {
        Some(handle) => crate::sql::ops::take_dirty_pages(&ctx, handle)?,
        None => None,
    };
    if let Some((_, dirty)) = &sql_pages {
        for (key, page) in &dirty.pages {
            let kind = match page {
                Some(value) => mutation::Kind::Put(Put {
                    key: key.clone(),
                    value: value.clone(),
                }),
                None => mutation::Kind::Delete(key.clone()),
            };
            mutations.push(Mutation { kind: Some(kind) });
        }
    }
    let replies = reply_ids
        .unwrap_or_default()
        .into_iter()
        .zip(reply_results.unwrap_or_default())
        .zip(reply_times.unwrap_or_default())
        .filter_map(|((request_id, result), at_ms)| {
            Some(Reply {
                request_id: crate::object::hex_bytes::<{ crate::object::REQUEST_ID_BYTES }>(
                    &request_id,
                )?
                .to_vec(),
                result,
                recorded_at_ms: at_ms as i64,
            })
        })
        .collect();
    let commit = store(&ctx)?.commit(kiln_proto::storage::Batch {
        namespace,
        object_id: id.to_vec(),
        name,
        mutations,
        replies,
    });
    Ok(Promised(async move {
        commit.await.map_err(|err| storage_error(&ctx, err))?;
        if let Some((pages, dirty)) = sql_pages {
            crate::sql::vfs::lock(&pages).retire(dirty.generation);
        }
        Ok(())
    }))
}

/// The recorded result of the call on object `id_hex` made with request id `request_hex`
/// (`ObjectStore::reply`), or undefined.
fn op_storage_reply(ctx: Ctx<'_>, id_hex: String, request_hex: String) -> Result<Option<String>> {
    let id = object_id(&ctx, &id_hex)?;
    let Some(request_id) =
        crate::object::hex_bytes::<{ crate::object::REQUEST_ID_BYTES }>(&request_hex)
    else {
        return Ok(None);
    };
    store(&ctx)?
        .reply(&id, &request_id)
        .map_err(|err| storage_error(&ctx, err))
}

/// Resolves once output read from the object's storage may leave (see
/// [`ObjectStore::read_fence`]).
fn op_storage_read_fence<'js>(ctx: Ctx<'js>, id_hex: String) -> Result<Value<'js>> {
    let id = object_id(&ctx, &id_hex)?;
    let mut fence = store(&ctx)?.read_fence(&id);
    // Almost always the fence is already clear (one node; a valid lease): say so without a
    // promise, which would cost a task and a turn of the event loop per object event.
    let mut probe = std::task::Context::from_waker(std::task::Waker::noop());
    match fence.as_mut().poll(&mut probe) {
        std::task::Poll::Ready(Ok(())) => Ok(Value::new_undefined(ctx)),
        std::task::Poll::Ready(Err(err)) => Err(storage_error(&ctx, err)),
        std::task::Poll::Pending => {
            let task_ctx = ctx.clone();
            Promised(async move { fence.await.map_err(|err| storage_error(&task_ctx, err)) })
                .into_js(&ctx)
        }
    }
}
