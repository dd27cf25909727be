//! The Web APIs a worker sees, and the glue that installs them into a fresh isolate.
//!
//! Most of the API surface is JavaScript (`web/<api>/NN_<api>.js`, concatenated in order into
//! one prelude module compiled to bytecode once per process); it calls into Rust through
//! `op_<api>_<verb>` functions that only the prelude can reach. URL and streams come from AWS
//! LLRT's crates (`llrt_url`, `llrt_stream_web`).

pub mod cache;
pub mod compression;
pub mod console;
pub mod crypto;
pub mod encoding;
pub mod engine;
pub mod fetch;
pub mod html_rewriter;
pub mod timers;
pub mod url_pattern;

use std::rc::Rc;
use std::sync::Arc;

use rquickjs::module::{Declarations, Exports, ModuleDef};
use rquickjs::prelude::Func;
use rquickjs::{Ctx, Exception, Function, Object, Persistent, Result, Value};

use crate::isolate::{self, IsolateData};
use crate::pool::Services;
use crate::worker::Worker;

/// The prelude: every JavaScript Web API, in dependency order.
pub const PRELUDE_JS: &str = concat!(
    "const ops = globalThis.__kiln_ops; delete globalThis.__kiln_ops;\n",
    include_str!("engine/00_v8_compat.js"),
    include_str!("engine/01_intl.js"),
    include_str!("engine/02_es_additions.js"),
    include_str!("compat/00_compat.js"),
    include_str!("console/01_console.js"),
    include_str!("encoding/02_encoding.js"),
    include_str!("events/03_events.js"),
    include_str!("timers/04_timers.js"),
    include_str!("crypto/05_crypto.js"),
    include_str!("blob/06_blob.js"),
    include_str!("streams/07_streams.js"),
    include_str!("fetch/08_headers.js"),
    include_str!("fetch/09_body.js"),
    include_str!("fetch/10_request.js"),
    include_str!("fetch/11_response.js"),
    include_str!("fetch/12_formdata.js"),
    include_str!("fetch/13_fetch.js"),
    include_str!("clone/14_structured_clone.js"),
    include_str!("dispatch/15_dispatch.js"),
    include_str!("durable_object/16_serialize.js"),
    include_str!("rpc/16_rpc.js"),
    include_str!("durable_object/17_storage.js"),
    include_str!("durable_object/17_sql.js"),
    include_str!("durable_object/18_actor.js"),
    include_str!("durable_object/18_facets.js"),
    include_str!("durable_object/19_namespace.js"),
    include_str!("d1/28_d1.js"),
    include_str!("r2/29_r2.js"),
    include_str!("websocket/20_websocket.js"),
    include_str!("kv/21_kv.js"),
    include_str!("service/22_service.js"),
    include_str!("loader/23_loader.js"),
    include_str!("dispatch/24_dispatcher.js"),
    include_str!("dispatch/25_service_worker.js"),
    include_str!("assets/26_assets.js"),
    include_str!("modules/27_commonjs.js"),
    include_str!("cache/30_cache.js"),
    include_str!("html_rewriter/31_html_rewriter.js"),
    include_str!("compression/32_compression.js"),
    include_str!("url_pattern/33_url_pattern.js"),
    include_str!("queue/34_queue.js"),
    include_str!("connect/35_connect.js"),
    include_str!("bindings/36_simple_bindings.js"),
    include_str!("workflows/37_workflows.js"),
    include_str!("site/38_site.js"),
    include_str!("messaging/39_message_channel.js"),
    include_str!("messaging/39_event_source.js"),
    // Node's modules are one function's body, called only when a worker needs them.
    "function makeNodeModules() {\n",
    include_str!("node/40_buffer.js"),
    include_str!("node/41_process.js"),
    include_str!("node/42_events.js"),
    include_str!("node/43_crypto.js"),
    include_str!("node/43_crypto_keys.js"),
    include_str!("node/43_crypto_x509.js"),
    include_str!("node/44_util.js"),
    include_str!("node/46_async_hooks.js"),
    include_str!("node/47_path.js"),
    include_str!("node/48_assert.js"),
    include_str!("node/49_string_decoder.js"),
    include_str!("node/50_url_timers.js"),
    include_str!("node/51_diagnostics_channel.js"),
    include_str!("node/52_stream.js"),
    include_str!("node/53_zlib.js"),
    include_str!("node/54_node_more.js"),
    include_str!("node/55_http_server.js"),
    "return { nodeBuiltinValues, nodeBuffer, nodeProcess, nodeEvents, nodeCrypto, nodeUtil, nodeAsyncHooks, nodePath, nodeAssert, nodeStringDecoder, nodeUrl, nodeTimers, nodeTimersPromises, nodeDiagnosticsChannel, installNodeGlobals, populateProcessEnv };\n}\n",
    include_str!("node/45_node.js"),
);

/// The `env` entry in which a Dynamic Worker's parent passes stubs and functions by reference
/// (an RPC message; `23_loader.js`).
const RPC_ENV_KEY: &str = "__kiln_rpc_env";

/// Kiln's `cloudflare:` modules: (name, source).
pub const CLOUDFLARE_MODULES: &[(&str, &str)] = &[
    ("cloudflare:workers", include_str!("cloudflare/workers.js")),
    ("cloudflare:email", include_str!("cloudflare/email.js")),
    (
        "cloudflare:workflows",
        include_str!("cloudflare/workflows.js"),
    ),
    ("cloudflare:sockets", include_str!("cloudflare/sockets.js")),
    ("cloudflare:node", include_str!("cloudflare/node.js")),
];

const PRELUDE_NAME: &str = "kiln:prelude";

/// Installs the Web API globals into a new context and returns the prelude's exports. Nothing
/// here depends on a worker, so a spare isolate can be prepared before anyone needs it.
pub fn install_globals<'js>(ctx: &Ctx<'js>) -> Result<Object<'js>> {
    llrt_url::init(ctx)?;
    llrt_stream_web::init(ctx)?;

    let ops = Object::new(ctx.clone())?;
    // LLRT's `pipeTo()` takes only its own AbortSignal: `07_streams.js` forwards a Kiln
    // AbortSignal to one made by this class (`ops.AbortController`).
    rquickjs::Class::<llrt_abort::AbortController>::define(&ops)?;
    engine::register(ctx, &ops)?;
    crate::isolate::async_context::register(ctx, &ops)?;
    console::register(ctx, &ops)?;
    encoding::register(ctx, &ops)?;
    crypto::register(ctx, &ops)?;
    timers::register(ctx, &ops)?;
    fetch::register(ctx, &ops)?;
    cache::register(ctx, &ops)?;
    html_rewriter::register(ctx, &ops)?;
    compression::register(ctx, &ops)?;
    url_pattern::register(ctx, &ops)?;
    crate::object::ops::register(ctx, &ops)?;
    crate::sql::ops::register(ctx, &ops)?;
    crate::socket::ops::register(ctx, &ops)?;
    crate::kv::ops::register(ctx, &ops)?;
    crate::r2::ops::register(ctx, &ops)?;
    crate::site::register(ctx, &ops)?;
    crate::queue::ops::register(ctx, &ops)?;
    crate::connect::register(ctx, &ops)?;
    crate::service::ops::register(ctx, &ops)?;
    crate::service::targets::register(ctx, &ops)?;
    crate::assets::ops::register(ctx, &ops)?;
    crate::isolate::commonjs::register(ctx, &ops)?;
    crate::loader::ops::register(ctx, &ops)?;
    crate::dispatch::ops::register(ctx, &ops)?;
    crate::cf::register(ctx, &ops)?;
    ctx.globals().set("__kiln_ops", ops)?;

    let prelude = isolate::loader::load_builtin(ctx, PRELUDE_NAME, PRELUDE_JS)?;
    let (prelude, promise) = prelude.eval()?;
    promise.finish::<()>()?;
    prelude.namespace()
}

/// Gives a context prepared by [`install_globals`] its worker: `env`, the bindings and the
/// isolate data.
pub fn install_worker<'js>(
    ctx: &Ctx<'js>,
    internals: Object<'js>,
    worker: Arc<Worker>,
    services: Rc<Services>,
    meter: Rc<crate::isolate::cpu_meter::CpuMeter>,
    serial: u64,
    traces: Rc<std::cell::RefCell<Vec<crate::trace::SharedRecorder>>>,
) -> Result<()> {
    let env_json = serde_json::Value::Object(worker.script().env.clone()).to_string();
    let env: Object = ctx
        .json_parse(env_json)?
        .into_object()
        .ok_or_else(|| Exception::throw_internal(ctx, "env is not an object"))?;

    // [binding name (empty for a hidden one), index, class name when the class is this
    // worker's own, class name].
    let namespaces = rquickjs::Array::new(ctx.clone())?;
    for (index, binding) in worker.script().durable_objects.iter().enumerate() {
        let entry = rquickjs::Array::new(ctx.clone())?;
        entry.set(0, binding.binding.clone())?;
        entry.set(1, index as u32)?;
        entry.set(
            2,
            binding.script.is_none().then(|| binding.class_name.clone()),
        )?;
        entry.set(3, binding.class_name.clone())?;
        namespaces.set(namespaces.len(), entry)?;
    }
    let kv_namespaces: Vec<String> = worker
        .script()
        .kv_namespaces
        .iter()
        .map(|kv| kv.binding.clone())
        .collect();
    if let Some(name) = worker
        .script()
        .assets
        .as_ref()
        .and_then(|a| a.binding.clone())
    {
        let install_assets: Function = internals.get("installAssetsBinding")?;
        install_assets.call::<_, ()>((env.clone(), name))?;
    }
    let install_kv: Function = internals.get("installKvBindings")?;
    install_kv.call::<_, ()>((env.clone(), kv_namespaces))?;
    let r2_buckets: Vec<String> = worker
        .script()
        .r2_buckets
        .iter()
        .map(|r2| r2.binding.clone())
        .collect();
    let install_r2: Function = internals.get("installR2Bindings")?;
    install_r2.call::<_, ()>((env.clone(), r2_buckets))?;
    let queues: Vec<String> = worker
        .script()
        .queues
        .iter()
        .map(|q| q.binding.clone())
        .collect();
    let install_queues: Function = internals.get("installQueueBindings")?;
    install_queues.call::<_, ()>((env.clone(), queues))?;
    let hyperdrive: Vec<Vec<String>> = worker
        .script()
        .hyperdrive
        .iter()
        .map(|(binding, connection)| vec![binding.clone(), connection.clone()])
        .collect();
    let install_hyperdrive: Function = internals.get("installHyperdriveBindings")?;
    install_hyperdrive.call::<_, ()>((env.clone(), hyperdrive))?;
    let simple = serde_json::Value::Array(worker.script().simple_bindings.clone()).to_string();
    let install_simple: Function = internals.get("installSimpleBindings")?;
    install_simple.call::<_, ()>((env.clone(), simple))?;
    if let Some(site) = &worker.script().site {
        let install_site: Function = internals.get("installSiteBinding")?;
        install_site.call::<_, ()>((env.clone(), site.manifest_json()))?;
    }
    let service_bindings: Vec<String> = worker
        .script()
        .services
        .iter()
        .map(|s| s.binding.clone())
        .collect();
    let install_services: Function = internals.get("installServiceBindings")?;
    install_services.call::<_, ()>((env.clone(), service_bindings))?;
    let install_loaders: Function = internals.get("installWorkerLoaders")?;
    install_loaders.call::<_, ()>((env.clone(), worker.script().worker_loaders.clone()))?;
    if worker.script().env.contains_key(RPC_ENV_KEY) {
        let install_rpc_env: Function = internals.get("installRpcEnv")?;
        install_rpc_env.call::<_, ()>((env.clone(),))?;
    }
    let dispatchers: Vec<String> = worker
        .script()
        .dispatch_namespaces
        .iter()
        .map(|d| d.binding.clone())
        .collect();
    let install_dispatchers: Function = internals.get("installDispatchers")?;
    install_dispatchers.call::<_, ()>((env.clone(), dispatchers))?;
    let idle_evict_ms = worker.script().limits.object_idle_evict_ms as f64;
    let install_compat: Function = internals.get("installCompat")?;
    let enabled = crate::compat::enabled(worker.script());
    if enabled.contains(&"nodejs_compat_populate_process_env") {
        let populate: Function = internals.get("populateProcessEnv")?;
        populate.call::<_, ()>((env.clone(),))?;
    }
    install_compat.call::<_, ()>((enabled,))?;
    let install_bindings: Function = internals.get("installBindings")?;
    install_bindings.call::<_, ()>((env.clone(), namespaces, idle_evict_ms))?;

    let data = IsolateData {
        worker,
        services,
        meter,
        internals: Persistent::save(ctx, internals),
        env: Persistent::save(ctx, env),
        exports: Default::default(),
        bodies: Default::default(),
        next_body_id: Default::default(),
        timers: Default::default(),
        next_timer_id: Default::default(),
        sockets: Default::default(),
        sql: Default::default(),
        tcp: Default::default(),
        serial,
        traces,
    };
    if ctx.store_userdata(data).is_err() {
        return Err(Exception::throw_internal(
            ctx,
            "isolate data already installed",
        ));
    }
    Ok(())
}

/// The microtask checkpoint that precedes every task (an event from outside, a timer): runs
/// every pending promise job, as the HTML event loop does, so a new event never starts while the
/// continuation of earlier work (such as code awaiting a storage read, which holds an object's
/// input gate until it runs) is still queued. rquickjs may leave jobs queued when it yields, so
/// this cannot be left to its scheduler. Runaway job chains are stopped by the CPU limit.
pub fn run_microtasks(ctx: &Ctx<'_>) {
    while ctx.execute_pending_job() {}
}

/// Returns the prelude's exported function `name`.
pub fn internal<'js>(ctx: &Ctx<'js>, name: &str) -> Result<Function<'js>> {
    let data = isolate::data(ctx)?;
    let internals = data.internals.clone().restore(ctx)?;
    internals.get(name)
}

/// Throws `new Error(message)`, made by the global Error constructor so that its `stack` starts
/// with the `Error: message` line (rquickjs's `Exception::throw_message` sets the message
/// after the stack was captured, leaving just "Error") and long messages are not cut.
pub fn throw_error(ctx: &Ctx<'_>, message: &str) -> rquickjs::Error {
    let made = ctx
        .globals()
        .get::<_, rquickjs::Function>("Error")
        .and_then(|constructor| constructor.call::<_, rquickjs::Value>((message,)));
    match made {
        Ok(error) => ctx.throw(error),
        Err(err) => err,
    }
}

/// Renders a JavaScript error as Cloudflare's logs do: `Name: message` and the stack, whose
/// frames carry `file:line:col`.
pub fn describe_error(ctx: &Ctx<'_>, err: rquickjs::Error) -> String {
    match err {
        rquickjs::Error::Exception => describe_value(&ctx.catch()),
        other => other.to_string(),
    }
}

/// Renders a thrown JavaScript value.
pub fn describe_value(value: &Value<'_>) -> String {
    if let Some(exception) = value.as_exception() {
        let message = exception.message().unwrap_or_default();
        let name: String = exception
            .get::<_, Option<String>>("name")
            .ok()
            .flatten()
            .unwrap_or_else(|| "Error".into());
        let mut text = format!("{name}: {message}");
        let file: Option<String> = exception.get("fileName").ok().flatten();
        let line: Option<i32> = exception.get("lineNumber").ok().flatten();
        let column: Option<i32> = exception.get("columnNumber").ok().flatten();
        if let (Some(file), Some(line)) = (file, line) {
            match column {
                Some(column) => text.push_str(&format!("\n    at {file}:{line}:{column}")),
                None => text.push_str(&format!("\n    at {file}:{line}")),
            }
        }
        if let Some(stack) = exception.stack() {
            // The stack's own `Name: message` line (V8's format) repeats the one above.
            let stack = stack.trim_end();
            let stack = if stack.starts_with("    at") || stack.is_empty() {
                stack
            } else {
                stack.split_once('\n').map_or("", |(_, frames)| frames)
            };
            if !stack.is_empty() {
                text.push('\n');
                text.push_str(stack);
            }
        }
        return text;
    }
    if let Some(string) = value.as_string() {
        return string.to_string().unwrap_or_default();
    }
    match value.get::<rquickjs::Coerced<String>>() {
        Ok(rquickjs::Coerced(text)) => text,
        Err(_) => format!("{value:?}"),
    }
}

/// The `kiln:internal` module: what generated modules and `cloudflare:workers` need from Rust.
pub struct InternalModule;

impl ModuleDef for InternalModule {
    fn declare(declare: &Declarations) -> Result<()> {
        declare.declare("moduleData")?;
        declare.declare("env")?;
        declare.declare("nodeModules")?;
        declare.declare("nodeBuiltin")?;
        declare.declare("workerExports")?;
        declare.declare("tcpConnect")?;
        declare.declare("RpcTarget")?;
        declare.declare("commonJsExports")?;
        Ok(())
    }

    fn evaluate<'js>(ctx: &Ctx<'js>, exports: &Exports<'js>) -> Result<()> {
        exports.export(
            "moduleData",
            Func::from(crate::isolate::commonjs::op_module_bytes),
        )?;
        let (env, internals) = {
            let data = isolate::data(ctx)?;
            (data.env.clone(), data.internals.clone())
        };
        exports.export("env", env.restore(ctx)?)?;
        let internals = internals.restore(ctx)?;
        // A function, so importing `kiln:internal` does not make Node's modules.
        let node_modules: rquickjs::Value = internals.get("nodeModules")?;
        exports.export("nodeModules", node_modules)?;
        let node_builtin: rquickjs::Value = internals.get("nodeBuiltin")?;
        exports.export("nodeBuiltin", node_builtin)?;
        let worker_exports: rquickjs::Value = internals.get("workerExports")?;
        exports.export("workerExports", worker_exports)?;
        let tcp_connect: rquickjs::Value = internals.get("tcpConnect")?;
        exports.export("tcpConnect", tcp_connect)?;
        let rpc_target: rquickjs::Value = internals.get("RpcTarget")?;
        exports.export("RpcTarget", rpc_target)?;
        let common_js: rquickjs::Value = internals.get("commonJsExports")?;
        exports.export("commonJsExports", common_js)?;
        Ok(())
    }
}
