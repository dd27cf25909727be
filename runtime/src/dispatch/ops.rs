//! The JavaScript-facing operation of dispatch namespaces: `env.DISPATCHER.get()` builds (or
//! finds cached) the named script's worker and returns a handle its entrypoints are reached by
//! (the same handles Dynamic Workers use).

use std::sync::Arc;

use rquickjs::prelude::Func;
use rquickjs::{Ctx, Exception, Object, Result};
use sha2::{Digest, Sha256};

use super::DispatchBinding;
use crate::isolate;
use crate::object::ops::store;
use crate::service::ServiceBinding;
use crate::worker::{Outbound, Worker, WorkerLimits};

pub fn register(_ctx: &Ctx<'_>, ops: &Object<'_>) -> Result<()> {
    ops.set("op_dispatch_get", Func::from(op_dispatch_get))?;
    Ok(())
}

fn binding(ctx: &Ctx<'_>, index: u32) -> Result<DispatchBinding> {
    isolate::data(ctx)?
        .worker
        .script()
        .dispatch_namespaces
        .get(index as usize)
        .cloned()
        .ok_or_else(|| Exception::throw_internal(ctx, "unknown dispatch namespace"))
}

/// `get(name, args, {limits, outbound})`: `outbound` is the JSON of the outbound parameters.
fn op_dispatch_get(
    ctx: Ctx<'_>,
    index: u32,
    name: String,
    cpu_ms: Option<f64>,
    subrequests: Option<f64>,
    outbound: Option<String>,
) -> Result<String> {
    let binding = binding(&ctx, index)?;
    let store = store(&ctx)?;
    let record = super::read_script(store.as_ref(), &binding.namespace, &name)
        .map_err(|err| crate::web::throw_error(&ctx, &err))?
        .ok_or_else(|| {
            crate::web::throw_error(
                &ctx,
                &format!(
                    "Worker not found: there is no script {name:?} in dispatch namespace {:?}.",
                    binding.namespace
                ),
            )
        })?;
    let runtime = isolate::data(&ctx)?.services.runtime.clone();
    let mut limits = WorkerLimits::default();
    if let Some(ms) = cpu_ms.filter(|ms| ms.is_finite() && *ms >= 1.0) {
        limits.cpu_ms = (ms as u64).min(limits.cpu_ms);
    }
    if let Some(count) = subrequests.filter(|n| n.is_finite() && *n >= 0.0) {
        limits.subrequests = (count as u32).min(limits.subrequests);
    }
    let outbound_json = outbound.unwrap_or_else(|| "{}".into());
    let key = format!(
        "{}/{name}/{}/{}/{}/{}",
        binding.namespace,
        record.etag,
        limits.cpu_ms,
        limits.subrequests,
        crate::object::to_hex(&Sha256::digest(outbound_json.as_bytes())[..8])
    );
    let dynamic = runtime.dynamic_workers();
    if let Some(handle) = dynamic.cached("dispatch", &key) {
        return Ok(handle);
    }
    let mut script = record
        .script(&name, limits)
        .map_err(|err| crate::web::throw_error(&ctx, &err.message))?;
    script.dispatch_namespace = Some(binding.namespace.clone());
    if let Some(outbound) = &binding.outbound {
        let parameters: serde_json::Map<String, serde_json::Value> =
            match serde_json::from_str(&outbound_json) {
                Ok(serde_json::Value::Object(map)) => map,
                _ => serde_json::Map::new(),
            };
        let service = outbound_worker(&ctx, &runtime, outbound, &parameters)?;
        script.outbound = Outbound::Service(ServiceBinding {
            binding: String::new(),
            service,
            entrypoint: None,
            props: None,
        });
    }
    let worker = Worker::new(script)
        .map_err(|err| crate::web::throw_error(&ctx, &format!("script {name:?}: {err}")))?;
    Ok(dynamic.insert("dispatch", Some(&key), worker))
}

/// The outbound worker with the declared parameters in its `env`: a version of it registered
/// under a name derived from the values, built once per set of values.
fn outbound_worker(
    ctx: &Ctx<'_>,
    runtime: &crate::Runtime,
    outbound: &super::DispatchOutbound,
    values: &serde_json::Map<String, serde_json::Value>,
) -> Result<String> {
    let mut env = serde_json::Map::new();
    for parameter in &outbound.parameters {
        env.insert(
            parameter.clone(),
            values
                .get(parameter)
                .cloned()
                .unwrap_or(serde_json::Value::Null),
        );
    }
    let digest = Sha256::digest(
        serde_json::Value::Object(env.clone())
            .to_string()
            .as_bytes(),
    );
    let name = format!(
        "{}#{}",
        outbound.service,
        crate::object::to_hex(&digest[..8])
    );
    if runtime.worker(&name).is_some() {
        return Ok(name);
    }
    let base: Arc<Worker> = runtime.worker(&outbound.service).ok_or_else(|| {
        crate::web::throw_error(
            ctx,
            &format!("The outbound worker {:?} is not running.", outbound.service),
        )
    })?;
    let mut script = base.script().clone();
    script.name = name.clone();
    script.env.extend(env);
    let worker =
        Worker::new(script).map_err(|err| crate::web::throw_error(ctx, &err.to_string()))?;
    runtime.register_as(&name, &worker);
    Ok(name)
}
