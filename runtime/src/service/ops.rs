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
        Exception::throw_message(
            ctx,
            &format!(
                "Service binding {:?} names the worker {:?}, which this node is not running.",
                binding.binding, binding.service
            ),
        )
    })?;
    Ok((binding, worker, runtime))
}

/// `env.SVC.fetch()`: `request` is `[method, url, headers, body]`.
fn op_service_fetch<'js>(
    ctx: Ctx<'js>,
    index: u32,
    request: rquickjs::Array<'js>,
) -> Result<Promised<impl std::future::Future<Output = Result<FetchResult>> + 'js>> {
    isolate::data(&ctx)?.count_subrequest(&ctx)?;
    let (request, url) = request_from_js(&ctx, &request)?;
    let (binding, worker, runtime) = resolve(&ctx, index)?;
    Ok(Promised(async move {
        let response = runtime
            .fetch_with_props(&worker, request, binding.entrypoint, binding.props)
            .await
            .map_err(|err| throw_call_error(&ctx, err))?;
        Ok(FetchResult::from_response(response, url))
    }))
}

/// `env.SVC.method(...args)`: `args` and the result are serialized values.
fn op_service_call<'js>(
    ctx: Ctx<'js>,
    index: u32,
    method: String,
    args: String,
) -> Result<Promised<impl std::future::Future<Output = Result<String>> + 'js>> {
    isolate::data(&ctx)?.count_subrequest(&ctx)?;
    let (binding, worker, runtime) = resolve(&ctx, index)?;
    Ok(Promised(async move {
        runtime
            .entrypoint_call(&worker, binding.entrypoint, binding.props, method, args)
            .await
            .map_err(|err| throw_call_error(&ctx, err))
    }))
}

/// This worker itself, as `ctx.exports` reaches it.
fn own(ctx: &Ctx<'_>) -> Result<(Arc<Worker>, crate::Runtime)> {
    let data = isolate::data(ctx)?;
    Ok((Arc::clone(&data.worker), data.services.runtime.clone()))
}

/// `ctx.exports.X.fetch()`: `request` is `[method, url, headers, body]`.
fn op_self_fetch<'js>(
    ctx: Ctx<'js>,
    entrypoint: Option<String>,
    props: Option<String>,
    request: rquickjs::Array<'js>,
) -> Result<Promised<impl std::future::Future<Output = Result<FetchResult>> + 'js>> {
    isolate::data(&ctx)?.count_subrequest(&ctx)?;
    let (http_request, url) = request_from_js(&ctx, &request)?;
    let (worker, runtime) = own(&ctx)?;
    Ok(Promised(async move {
        let response = runtime
            .fetch_with_props(&worker, http_request, entrypoint, props)
            .await
            .map_err(|err| throw_call_error(&ctx, err))?;
        Ok(FetchResult::from_response(response, url))
    }))
}

/// `ctx.exports.X.method(...args)`.
fn op_self_call<'js>(
    ctx: Ctx<'js>,
    entrypoint: Option<String>,
    props: Option<String>,
    method: String,
    args: String,
) -> Result<Promised<impl std::future::Future<Output = Result<String>> + 'js>> {
    isolate::data(&ctx)?.count_subrequest(&ctx)?;
    let (worker, runtime) = own(&ctx)?;
    Ok(Promised(async move {
        runtime
            .entrypoint_call(&worker, entrypoint, props, method, args)
            .await
            .map_err(|err| throw_call_error(&ctx, err))
    }))
}
