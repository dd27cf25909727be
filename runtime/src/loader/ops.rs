//! The JavaScript-facing operations of Dynamic Workers (`op_loader_*`): building a worker from
//! a `WorkerCode` description, and `fetch`/RPC to its entrypoints.

use std::sync::Arc;

use bytes::Bytes;
use rquickjs::prelude::{Func, Promised};
use rquickjs::{ArrayBuffer, Ctx, Exception, Object, Result, TypedArray, Value};

use super::{DYNAMIC_CODE_BYTES_MAX, DYNAMIC_ENV_BYTES_MAX};
use crate::isolate;
use crate::kv::KvBinding;
use crate::service::ops::{call_entrypoint, fetch_entrypoint, Reached};
use crate::service::ServiceBinding;
use crate::web::fetch::FetchResult;
use crate::worker::{ModuleKind, ModuleSource, Outbound, Worker, WorkerLimits, WorkerScript};

pub fn register(_ctx: &Ctx<'_>, ops: &Object<'_>) -> Result<()> {
    ops.set("op_loader_cached", Func::from(op_loader_cached))?;
    ops.set("op_loader_load", Func::from(op_loader_load))?;
    ops.set("op_loader_fetch", Func::from(op_loader_fetch))?;
    ops.set("op_loader_call", Func::from(op_loader_call))?;
    ops.set("op_loader_limited", Func::from(op_loader_limited))?;
    ops.set("op_loader_facet_call", Func::from(op_loader_facet_call))?;
    ops.set("op_loader_facet_fetch", Func::from(op_loader_facet_fetch))?;
    Ok(())
}

fn module_kind(ctx: &Ctx<'_>, kind: &str) -> Result<ModuleKind> {
    Ok(match kind {
        "js" => ModuleKind::EsModule,
        "text" => ModuleKind::Text,
        "data" => ModuleKind::Data,
        "json" => ModuleKind::Json,
        "cjs" => ModuleKind::CommonJs,
        "wasm" => ModuleKind::Wasm,
        other => {
            return Err(Exception::throw_type(
                ctx,
                &format!("Module type {other:?} is not supported by Kiln."),
            ))
        }
    })
}

fn content(ctx: &Ctx<'_>, value: &Value<'_>) -> Result<Bytes> {
    if let Some(text) = value.as_string() {
        return Ok(Bytes::from(text.to_string()?));
    }
    if let Some(buffer) = ArrayBuffer::from_value(value.clone()) {
        return Ok(Bytes::copy_from_slice(buffer.as_bytes().unwrap_or(&[])));
    }
    if let Ok(array) = TypedArray::<u8>::from_value(value.clone()) {
        return Ok(Bytes::copy_from_slice(array.as_bytes().unwrap_or(&[])));
    }
    Err(Exception::throw_type(
        ctx,
        "a module's content must be a string or bytes",
    ))
}

/// The handle of the worker this worker built under `id`, if it is still cached (so getCode need
/// not run again).
fn op_loader_cached(ctx: Ctx<'_>, id: String) -> Result<Option<String>> {
    let data = isolate::data(&ctx)?;
    Ok(data
        .services
        .runtime
        .dynamic_workers()
        .cached(data.worker.name(), &id))
}

/// Builds (or finds cached) the worker `code` describes: `{compatibilityDate,
/// compatibilityFlags, mainModule, modules: [[name, kind, content]], env (JSON), kvNames and
/// kvIndexes (bindings of the parent's KV namespaces), serviceNames and serviceIndexes (of its
/// service bindings), outbound: "inherit" | "blocked" | a parent service index | JSON of one
/// of the parent's own entrypoints ({entrypoint, props}), cpuMs,
/// subRequests}`. Returns the worker's handle.
fn op_loader_load(ctx: Ctx<'_>, id: Option<String>, code: Object<'_>) -> Result<String> {
    let data = isolate::data(&ctx)?;
    let parent = Arc::clone(&data.worker);
    let runtime = data.services.runtime.clone();
    drop(data);
    let dynamic = runtime.dynamic_workers();
    if let Some(id) = &id {
        if let Some(handle) = dynamic.cached(parent.name(), id) {
            return Ok(handle);
        }
    }
    let main_module: String = code.get("mainModule")?;
    let compatibility_date: String = code.get("compatibilityDate")?;
    let compatibility_flags: Vec<String> = code.get("compatibilityFlags")?;
    let listed: Vec<rquickjs::Array> = code.get("modules")?;
    let mut modules = Vec::with_capacity(listed.len());
    let mut size = 0usize;
    for module in listed {
        let name: String = module.get(0)?;
        let kind: String = module.get(1)?;
        let value: Value = module.get(2)?;
        let content = content(&ctx, &value)?;
        size += content.len();
        modules.push(ModuleSource {
            name,
            kind: module_kind(&ctx, &kind)?,
            content,
        });
    }
    if size > DYNAMIC_CODE_BYTES_MAX {
        return Err(Exception::throw_range(
            &ctx,
            &format!("Dynamic Worker code size ({size} bytes) exceeds the maximum allowed size of {DYNAMIC_CODE_BYTES_MAX} bytes."),
        ));
    }
    let env_json: String = code.get("env")?;
    if env_json.len() > DYNAMIC_ENV_BYTES_MAX {
        return Err(Exception::throw_range(
            &ctx,
            &format!(
                "Dynamic Worker env size ({} bytes) exceeds the maximum allowed size of {DYNAMIC_ENV_BYTES_MAX} bytes.",
                env_json.len()
            ),
        ));
    }
    let env = match serde_json::from_str::<serde_json::Value>(&env_json) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => return Err(Exception::throw_type(&ctx, "env must be an object")),
    };
    let parent_script = parent.script();
    let kv_names: Vec<String> = code.get("kvNames")?;
    let kv_indexes: Vec<u32> = code.get("kvIndexes")?;
    let mut kv_namespaces = Vec::with_capacity(kv_names.len());
    for (binding, index) in kv_names.into_iter().zip(kv_indexes) {
        let parent_kv = parent_script
            .kv_namespaces
            .get(index as usize)
            .ok_or_else(|| Exception::throw_internal(&ctx, "unknown KV namespace"))?;
        kv_namespaces.push(KvBinding {
            binding,
            id: parent_kv.id.clone(),
        });
    }
    let service_names: Vec<String> = code.get("serviceNames")?;
    let service_indexes: Vec<u32> = code.get("serviceIndexes")?;
    let mut services = Vec::with_capacity(service_names.len());
    for (binding, index) in service_names.into_iter().zip(service_indexes) {
        let parent_service = parent_script
            .services
            .get(index as usize)
            .ok_or_else(|| Exception::throw_internal(&ctx, "unknown service binding"))?;
        services.push(ServiceBinding {
            binding,
            ..parent_service.clone()
        });
    }
    let outbound_value: Value = code.get("outbound")?;
    let outbound = if let Some(index) = outbound_value.as_int() {
        let service = parent_script
            .services
            .get(index as usize)
            .ok_or_else(|| Exception::throw_internal(&ctx, "unknown service binding"))?;
        Outbound::Service(service.clone())
    } else {
        match outbound_value
            .as_string()
            .map(|s| s.to_string())
            .transpose()?
            .as_deref()
        {
            Some("blocked") => Outbound::Blocked,
            Some("inherit") | None => parent_script.outbound.clone(),
            // One of the parent's own entrypoints (`ctx.exports.X({props})`), as JSON.
            Some(descriptor) => {
                let parsed: serde_json::Value = serde_json::from_str(descriptor)
                    .map_err(|_| Exception::throw_internal(&ctx, "malformed outbound"))?;
                Outbound::Service(ServiceBinding {
                    binding: String::new(),
                    service: parent.name().to_owned(),
                    entrypoint: parsed["entrypoint"].as_str().map(str::to_owned),
                    props: parsed["props"].as_str().map(str::to_owned),
                })
            }
        }
    };
    // Tail Workers: a parent's service binding (its index), or the parent itself (-1).
    let tail_indexes: Vec<i32> = code.get("tails")?;
    let mut tail_consumers = Vec::with_capacity(tail_indexes.len());
    for index in tail_indexes {
        let consumer = match usize::try_from(index) {
            Ok(index) => parent_script
                .services
                .get(index)
                .map(|service| service.service.clone())
                .ok_or_else(|| Exception::throw_internal(&ctx, "unknown service binding"))?,
            Err(_) => parent.name().to_owned(),
        };
        tail_consumers.push(consumer);
    }
    let mut limits = WorkerLimits {
        object_idle_evict_ms: parent_script.limits.object_idle_evict_ms,
        ..WorkerLimits::default()
    };
    let (cpu_ms, subrequests) = limit_values(code.get("cpuMs")?, code.get("subRequests")?);
    if let Some(cpu_ms) = cpu_ms {
        limits.cpu_ms = cpu_ms.min(limits.cpu_ms);
    }
    if let Some(count) = subrequests {
        limits.subrequests = count.min(limits.subrequests);
    }
    let name = match &id {
        Some(id) => format!("{}/dynamic:{id}", parent.name()),
        None => format!("{}/dynamic", parent.name()),
    };
    let script = WorkerScript {
        name,
        main_module,
        modules,
        env,
        limits,
        compatibility_date,
        compatibility_flags,
        kv_namespaces,
        services,
        outbound,
        tail_consumers,
        ..WorkerScript::default()
    };
    let worker = Worker::new(script).map_err(|err| {
        Exception::throw_type(&ctx, &format!("Dynamic Worker code is invalid: {err}"))
    })?;
    Ok(dynamic.insert(parent.name(), id.as_deref(), worker))
}

/// The handle of the worker behind `handle` held to `getEntrypoint()`'s lower limits.
fn op_loader_limited(
    ctx: Ctx<'_>,
    handle: String,
    cpu_ms: Option<f64>,
    subrequests: Option<f64>,
) -> Result<String> {
    let runtime = isolate::data(&ctx)?.services.runtime.clone();
    let (cpu_ms, subrequests) = limit_values(cpu_ms, subrequests);
    runtime
        .dynamic_workers()
        .limited(&handle, cpu_ms, subrequests)
        .ok_or_else(|| not_loaded(&ctx))
}

/// `limits.cpuMs` and `limits.subRequests` as JavaScript gave them, where they are usable
/// numbers (a CPU limit of at least 1 ms, a non-negative subrequest count).
fn limit_values(cpu_ms: Option<f64>, subrequests: Option<f64>) -> (Option<u64>, Option<u32>) {
    let cpu_ms = cpu_ms
        .filter(|ms| ms.is_finite() && *ms >= 1.0)
        .map(|ms| ms as u64);
    let subrequests = subrequests
        .filter(|n| n.is_finite() && *n >= 0.0)
        .map(|n| n.min(f64::from(u32::MAX)) as u32);
    (cpu_ms, subrequests)
}

/// The error of a call through a handle whose Dynamic Worker the cache has dropped.
fn not_loaded(ctx: &Ctx<'_>) -> rquickjs::Error {
    crate::web::throw_error(
        ctx,
        "This Dynamic Worker is no longer loaded; get it from the loader again.",
    )
}

fn dynamic_worker(ctx: &Ctx<'_>, handle: &str) -> Result<(Arc<Worker>, crate::Runtime)> {
    let runtime = isolate::data(ctx)?.services.runtime.clone();
    let worker = runtime
        .dynamic_workers()
        .get(handle)
        .ok_or_else(|| not_loaded(ctx))?;
    Ok((worker, runtime))
}

/// The entrypoint of the Dynamic Worker behind `handle`.
fn dynamic_target(
    ctx: &Ctx<'_>,
    handle: &str,
    entrypoint: Option<String>,
    props: Option<String>,
) -> Result<Reached> {
    let (worker, runtime) = dynamic_worker(ctx, handle)?;
    Ok(Reached {
        worker,
        runtime,
        entrypoint,
        props,
    })
}

/// `fetch()` on a Dynamic Worker's entrypoint; `request` is `[method, url, headers, body]`.
fn op_loader_fetch<'js>(
    ctx: Ctx<'js>,
    handle: String,
    entrypoint: Option<String>,
    props: Option<String>,
    request: rquickjs::Array<'js>,
) -> Result<Promised<impl std::future::Future<Output = Result<FetchResult>> + 'js>> {
    fetch_entrypoint(ctx, request, move |ctx| {
        dynamic_target(ctx, &handle, entrypoint, props)
    })
}

/// JS RPC on a Dynamic Worker's entrypoint.
fn op_loader_call<'js>(
    ctx: Ctx<'js>,
    handle: String,
    entrypoint: Option<String>,
    props: Option<String>,
    method: String,
    args: String,
) -> Result<Promised<impl std::future::Future<Output = Result<String>> + 'js>> {
    call_entrypoint(ctx, method, args, move |ctx| {
        dynamic_target(ctx, &handle, entrypoint, props)
    })
}

/// Where a facet made from a Dynamic Worker's class (`getDurableObjectClass()`) runs: the object
/// `id_hex` of the Dynamic Worker's hidden binding of `class_name`, storing its data in the
/// namespace of the parent's binding `parent_index`. `meta` travels as the target's name: the
/// facet's public id, name, depth and props, which the Dynamic Worker's prelude reads.
struct FacetAddress {
    handle: String,
    class_name: String,
    parent_index: u32,
    id_hex: String,
    meta: String,
}

impl FacetAddress {
    /// From the prelude's `[handle, class name, parent index, id hex, meta]`.
    fn from_js(address: &rquickjs::Array<'_>) -> Result<FacetAddress> {
        Ok(FacetAddress {
            handle: address.get(0)?,
            class_name: address.get(1)?,
            parent_index: address.get(2)?,
            id_hex: address.get(3)?,
            meta: address.get(4)?,
        })
    }
}

fn facet_target(
    ctx: &Ctx<'_>,
    address: FacetAddress,
) -> Result<(crate::Runtime, Arc<Worker>, crate::object::ObjectTarget)> {
    let parent = crate::object::ops::binding(ctx, address.parent_index)?;
    let runtime = isolate::data(ctx)?.services.runtime.clone();
    let worker = runtime
        .dynamic_workers()
        .with_object_class(&address.handle, &address.class_name, &parent)
        .ok_or_else(|| not_loaded(ctx))?;
    let id = crate::object::from_hex(&address.id_hex)
        .ok_or_else(|| Exception::throw_internal(ctx, "malformed facet id"))?;
    let target = crate::object::ObjectTarget {
        binding: worker.script().durable_objects.len().saturating_sub(1),
        id,
        name: Some(address.meta),
    };
    Ok((runtime, worker, target))
}

/// JS RPC on a facet of a Dynamic Worker's class, run on this node in the Dynamic Worker's
/// isolate (a facet lives where its parent runs).
fn op_loader_facet_call<'js>(
    ctx: Ctx<'js>,
    address: rquickjs::Array<'js>,
    method: String,
    args: String,
) -> Result<Promised<impl std::future::Future<Output = Result<String>> + 'js>> {
    let (runtime, worker, target) = facet_target(&ctx, FacetAddress::from_js(&address)?)?;
    Ok(Promised(async move {
        runtime
            .object_call_here(&worker, target, method, args, None)
            .await
            .map_err(|err| crate::object::ops::throw_call_error(&ctx, err))
    }))
}

/// `fetch()` on a facet of a Dynamic Worker's class; `request` is `[method, url, headers, body]`.
fn op_loader_facet_fetch<'js>(
    ctx: Ctx<'js>,
    address: rquickjs::Array<'js>,
    request: rquickjs::Array<'js>,
) -> Result<Promised<impl std::future::Future<Output = Result<FetchResult>> + 'js>> {
    let (request, url) = crate::web::fetch::request_from_js(&ctx, &request)?;
    let (runtime, worker, target) = facet_target(&ctx, FacetAddress::from_js(&address)?)?;
    Ok(Promised(async move {
        let response = runtime
            .object_fetch_here(&worker, target, request)
            .await
            .map_err(|err| crate::object::ops::throw_call_error(&ctx, err))?;
        Ok(FetchResult::from_response(response, url))
    }))
}
