//! The JavaScript-facing operations of service bindings (`op_service_*`).

use std::sync::Arc;

use rquickjs::prelude::{Func, Promised};
use rquickjs::{Ctx, Exception, Object, Result};

use super::ServiceBinding;
use crate::isolate;
use crate::object::ops::throw_call_error;
use crate::web::fetch::{request_from_js, FetchResult};
use crate::worker::Worker;

pub fn register(_ctx: &Ctx<'_>, ops: &Object<'_>) -> Result<()> {
    ops.set("op_service_fetch", Func::from(op_service_fetch))?;
    ops.set("op_worker_exports", Func::from(op_worker_exports))?;
    ops.set("op_service_call", Func::from(op_service_call))?;
    ops.set("op_self_fetch", Func::from(op_self_fetch))?;
    ops.set("op_self_call", Func::from(op_self_call))?;
    Ok(())
}

/// The binding and the worker it reaches now.
fn resolve(ctx: &Ctx<'_>, index: u32) -> Result<(ServiceBinding, Arc<Worker>, crate::Runtime)> {
    let data = isolate::data(ctx)?;
    let binding = data
        .worker
        .script()
        .services
        .get(index as usize)
        .cloned()
        .ok_or_else(|| Exception::throw_internal(ctx, "unknown service binding"))?;
    let runtime = data.services.runtime.clone();
    let worker = runtime.worker(&binding.service).ok_or_else(|| {
        crate::web::throw_error(
            ctx,
            &format!(
                "Service binding {:?} names the worker {:?}, which this node is not running.",
                binding.binding, binding.service
            ),
        )
    })?;
    Ok((binding, worker, runtime))
}

/// Another worker's entrypoint (or this worker's own), as a call to it has found it.
pub(crate) struct Reached {
    pub worker: Arc<Worker>,
    pub runtime: crate::Runtime,
    pub entrypoint: Option<String>,
    pub props: Option<String>,
}

/// `fetch()` to an entrypoint, for service bindings, `ctx.exports` and Dynamic Workers alike:
/// counts the subrequest, reads `request` (`[method, url, headers, body]`), then asks `reach`
/// which entrypoint it goes to.
pub(crate) fn fetch_entrypoint<'js>(
    ctx: Ctx<'js>,
    request: rquickjs::Array<'js>,
    reach: impl FnOnce(&Ctx<'js>) -> Result<Reached>,
) -> Result<Promised<impl std::future::Future<Output = Result<FetchResult>> + 'js>> {
    isolate::data(&ctx)?.count_subrequest(&ctx)?;
    let (http_request, url) = request_from_js(&ctx, &request)?;
    let Reached {
        worker,
        runtime,
        entrypoint,
        props,
    } = reach(&ctx)?;
    Ok(Promised(async move {
        let response = runtime
            .fetch_with_props(&worker, http_request, entrypoint, props)
            .await
            .map_err(|err| throw_call_error(&ctx, err))?;
        Ok(FetchResult::from_response(response, url))
    }))
}

/// JS RPC to an entrypoint (`args` and the result are serialized values), for the same
/// callers as [`fetch_entrypoint`].
pub(crate) fn call_entrypoint<'js>(
    ctx: Ctx<'js>,
    method: String,
    args: String,
    reach: impl FnOnce(&Ctx<'js>) -> Result<Reached>,
) -> Result<Promised<impl std::future::Future<Output = Result<String>> + 'js>> {
    isolate::data(&ctx)?.count_subrequest(&ctx)?;
    let Reached {
        worker,
        runtime,
        entrypoint,
        props,
    } = reach(&ctx)?;
    Ok(Promised(async move {
        runtime
            .entrypoint_call(&worker, entrypoint, props, method, args)
            .await
            .map_err(|err| throw_call_error(&ctx, err))
    }))
}

/// The entrypoint service binding `index` reaches.
fn binding_target(ctx: &Ctx<'_>, index: u32) -> Result<Reached> {
    let (binding, worker, runtime) = resolve(ctx, index)?;
    Ok(Reached {
        worker,
        runtime,
        entrypoint: binding.entrypoint,
        props: binding.props,
    })
}

/// `env.SVC.fetch()`: `request` is `[method, url, headers, body]`.
fn op_service_fetch<'js>(
    ctx: Ctx<'js>,
    index: u32,
    request: rquickjs::Array<'js>,
) -> Result<Promised<impl std::future::Future<Output = Result<FetchResult>> + 'js>> {
    fetch_entrypoint(ctx, request, move |ctx| binding_target(ctx, index))
}

/// `env.SVC.method(...args)`: `args` and the result are serialized values.
fn op_service_call<'js>(
    ctx: Ctx<'js>,
    index: u32,
    method: String,
    args: String,
) -> Result<Promised<impl std::future::Future<Output = Result<String>> + 'js>> {
    call_entrypoint(ctx, method, args, move |ctx| binding_target(ctx, index))
}

/// This worker's own entrypoint, as `ctx.exports` reaches it.
fn own(ctx: &Ctx<'_>, entrypoint: Option<String>, props: Option<String>) -> Result<Reached> {
    let data = isolate::data(ctx)?;
    Ok(Reached {
        worker: Arc::clone(&data.worker),
        runtime: data.services.runtime.clone(),
        entrypoint,
        props,
    })
}

/// `ctx.exports.X.fetch()`: `request` is `[method, url, headers, body]`.
fn op_self_fetch<'js>(
    ctx: Ctx<'js>,
    entrypoint: Option<String>,
    props: Option<String>,
    request: rquickjs::Array<'js>,
) -> Result<Promised<impl std::future::Future<Output = Result<FetchResult>> + 'js>> {
    fetch_entrypoint(ctx, request, move |ctx| own(ctx, entrypoint, props))
}

/// `ctx.exports.X.method(...args)`.
fn op_self_call<'js>(
    ctx: Ctx<'js>,
    entrypoint: Option<String>,
    props: Option<String>,
    method: String,
    args: String,
) -> Result<Promised<impl std::future::Future<Output = Result<String>> + 'js>> {
    call_entrypoint(ctx, method, args, move |ctx| own(ctx, entrypoint, props))
}

/// The worker's main module's exports, once it has been evaluated (`exports` of
/// cloudflare:workers); undefined before.
fn op_worker_exports<'js>(ctx: Ctx<'js>) -> Result<Option<rquickjs::Object<'js>>> {
    let data = isolate::data(&ctx)?;
    let exports = data.exports.borrow().clone();
    exports.map(|e| e.restore(&ctx)).transpose()
}
