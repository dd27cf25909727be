//! Module resolution and loading for one worker: its own modules by path, wrangler's module
//! rules (text, data, JSON), and the built-in `cloudflare:workers` and `kiln:internal` modules.
//!
//! ES modules are compiled to QuickJS bytecode once per process (see [`crate::bytecode`]); every
//! later isolate of the same source loads the bytecode instead of parsing again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rquickjs::loader::{Loader, Resolver};
use rquickjs::module::Declared;
use rquickjs::{Ctx, Error, Exception, Module, Result};

use crate::bytecode;
use crate::web;
use crate::worker::{ModuleKind, Worker};

pub const CLOUDFLARE_WORKERS: &str = "cloudflare:workers";
pub const KILN_INTERNAL: &str = "kiln:internal";
/// Node's modules Kiln has, for workers with `nodejs_compat`: (name, source). Each is also
/// reachable without its `node:` prefix.
const NODE_MODULES: &[(&str, &str)] = &[
    (
        "node:buffer",
        "import { nodeModules } from \"kiln:internal\";\nconst { nodeBuffer } = nodeModules();\nexport const { Buffer, kMaxLength, kStringMaxLength, constants, SlowBuffer, atob, btoa, Blob, File } = nodeBuffer;\nexport default nodeBuffer;\n",
    ),
    (
        "node:crypto",
        "import { nodeModules } from \"kiln:internal\";\nconst { nodeCrypto } = nodeModules();\nexport const { createHash, createHmac, Hash, Hmac, randomBytes, randomInt, randomUUID, getRandomValues, timingSafeEqual, getHashes, webcrypto, subtle } = nodeCrypto;\nexport default nodeCrypto;\n",
    ),
    (
        "node:util",
        "import { nodeModules } from \"kiln:internal\";\nconst { nodeUtil } = nodeModules();\nexport const { promisify, callbackify, inherits, deprecate, format, inspect, isArray, isDeepStrictEqual, types, TextEncoder, TextDecoder } = nodeUtil;\nexport default nodeUtil;\n",
    ),
    (
        "node:events",
        "import { nodeModules } from \"kiln:internal\";\nconst { nodeEvents } = nodeModules();\nexport const { EventEmitter, errorMonitor, once } = nodeEvents;\nexport default nodeEvents.EventEmitter;\n",
    ),
    (
        "node:async_hooks",
        "import { nodeModules } from \"kiln:internal\";\nconst { nodeAsyncHooks } = nodeModules();\nexport const { AsyncLocalStorage, AsyncResource, executionAsyncId, triggerAsyncId, executionAsyncResource, createHook } = nodeAsyncHooks;\nexport default nodeAsyncHooks;\n",
    ),
    (
        "node:path",
        "import { nodeModules } from \"kiln:internal\";\nconst { nodePath } = nodeModules();\nexport const { sep, delimiter, normalize, join, resolve, isAbsolute, relative, dirname, basename, extname, parse, format, toNamespacedPath, posix } = nodePath;\nexport default nodePath;\n",
    ),
    (
        "node:path/posix",
        "import { nodeModules } from \"kiln:internal\";\nconst { nodePath } = nodeModules();\nexport const { sep, delimiter, normalize, join, resolve, isAbsolute, relative, dirname, basename, extname, parse, format } = nodePath;\nexport default nodePath;\n",
    ),
    (
        "node:assert",
        "import { nodeModules } from \"kiln:internal\";\nconst { nodeAssert } = nodeModules();\nexport const { AssertionError, ok, equal, notEqual, strictEqual, notStrictEqual, deepEqual, notDeepEqual, deepStrictEqual, notDeepStrictEqual, fail, match, doesNotMatch, throws, doesNotThrow, rejects, doesNotReject, ifError, strict } = nodeAssert;\nexport default nodeAssert;\n",
    ),
    (
        "node:assert/strict",
        "import { nodeModules } from \"kiln:internal\";\nconst { nodeAssert } = nodeModules();\nconst strict = nodeAssert.strict;\nexport const { AssertionError, ok, equal, notEqual, strictEqual, notStrictEqual, deepEqual, notDeepEqual, deepStrictEqual, notDeepStrictEqual, fail, match, doesNotMatch, throws, doesNotThrow, rejects, doesNotReject, ifError } = strict;\nexport default strict;\n",
    ),
    (
        "node:string_decoder",
        "import { nodeModules } from \"kiln:internal\";\nconst { nodeStringDecoder } = nodeModules();\nexport const { StringDecoder } = nodeStringDecoder;\nexport default nodeStringDecoder;\n",
    ),
    (
        "node:url",
        "import { nodeModules } from \"kiln:internal\";\nconst { nodeUrl } = nodeModules();\nexport const { URL, URLSearchParams, fileURLToPath, pathToFileURL, parse, format, resolve, domainToASCII, domainToUnicode } = nodeUrl;\nexport default nodeUrl;\n",
    ),
    (
        "node:timers",
        "import { nodeModules } from \"kiln:internal\";\nconst { nodeTimers } = nodeModules();\nexport const { setTimeout, clearTimeout, setInterval, clearInterval, setImmediate, clearImmediate, promises } = nodeTimers;\nexport default nodeTimers;\n",
    ),
    (
        "node:timers/promises",
        "import { nodeModules } from \"kiln:internal\";\nconst { nodeTimersPromises } = nodeModules();\nexport const { setTimeout, setImmediate, setInterval, scheduler } = nodeTimersPromises;\nexport default nodeTimersPromises;\n",
    ),
    (
        "node:diagnostics_channel",
        "import { nodeModules } from \"kiln:internal\";\nconst { nodeDiagnosticsChannel } = nodeModules();\nexport const { channel, hasSubscribers, subscribe, unsubscribe, tracingChannel, Channel } = nodeDiagnosticsChannel;\nexport default nodeDiagnosticsChannel;\n",
    ),
    (
        "node:process",
        "import { nodeModules } from \"kiln:internal\";\nconst { nodeProcess } = nodeModules();\nexport const { env, argv, platform, arch, version, versions, nextTick, cwd, hrtime, emitWarning, exit, uptime, memoryUsage } = nodeProcess;\nexport default nodeProcess;\n",
    ),
];

/// The `node:` module `name` (or its bare alias) stands for, if Kiln has it.
fn node_module(name: &str) -> Option<(&'static str, &'static str)> {
    NODE_MODULES
        .iter()
        .copied()
        .find(|(full, _)| *full == name || full.strip_prefix("node:") == Some(name))
}

/// Whether `worker` may import Node's module `full` (the `nodejs_compat` flags; `nodejs_als`
/// gives `node:async_hooks` alone).
fn node_compat(worker: &Worker, full: &str) -> bool {
    worker.script().compatibility_flags.iter().any(|f| {
        f == "nodejs_compat"
            || f == "nodejs_compat_v2"
            || (f == "nodejs_als" && full == "node:async_hooks")
    })
}

pub struct WorkerResolver {
    pub worker: Arc<Worker>,
}

/// What a bundler tries after a relative specifier that names no module as it is.
const RESOLVE_SUFFIXES: [&str; 6] = [
    ".js",
    ".mjs",
    ".cjs",
    "/index.js",
    "/index.mjs",
    "/index.cjs",
];

/// The module of `worker` that `name`, imported or required from module `base`, names: as
/// written (relative to `base`, or from the root), then as a bundler would try it.
pub fn resolve_module(worker: &Worker, base: &str, name: &str) -> Option<String> {
    let candidate = if name.starts_with("./") || name.starts_with("../") {
        join(base, name)
    } else {
        name.trim_start_matches('/').to_owned()
    };
    if worker.module(&candidate).is_some() {
        return Some(candidate);
    }
    RESOLVE_SUFFIXES.iter().find_map(|suffix| {
        let extended = format!("{}{suffix}", candidate.trim_end_matches('/'));
        worker.module(&extended).is_some().then_some(extended)
    })
}

impl Resolver for WorkerResolver {
    fn resolve<'js>(&mut self, _ctx: &Ctx<'js>, base: &str, name: &str) -> Result<String> {
        if name == CLOUDFLARE_WORKERS || name == KILN_INTERNAL {
            return Ok(name.to_owned());
        }
        if let Some((full, _)) =
            node_module(name).filter(|(full, _)| node_compat(&self.worker, full))
        {
            return Ok(full.to_owned());
        }
        if let Some(found) = resolve_module(&self.worker, base, name) {
            return Ok(found);
        }
        let candidate = if name.starts_with("./") || name.starts_with("../") {
            join(base, name)
        } else {
            name.trim_start_matches('/').to_owned()
        };
        Err(Error::new_resolving_message(
            base,
            name,
            format!("No such module \"{candidate}\"."),
        ))
    }
}

/// Joins a relative specifier to the directory of the importing module's name.
fn join(base: &str, relative: &str) -> String {
    let mut parts: Vec<&str> = base.split('/').collect();
    parts.pop();
    for segment in relative.split('/') {
        match segment {
            "." | "" => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

pub struct WorkerLoader {
    pub worker: Arc<Worker>,
}

impl Loader for WorkerLoader {
    fn load<'js>(&mut self, ctx: &Ctx<'js>, name: &str) -> Result<Module<'js, Declared>> {
        match name {
            CLOUDFLARE_WORKERS => {
                return load_builtin(ctx, CLOUDFLARE_WORKERS, web::CLOUDFLARE_WORKERS_JS)
            }
            KILN_INTERNAL => {
                return Module::declare_def::<web::InternalModule, _>(ctx.clone(), name)
            }

            _ => {}
        }
        if let Some((full, source)) = node_module(name).filter(|(full, _)| *full == name) {
            return load_builtin(ctx, full, source);
        }
        let Some(module) = self.worker.module(name) else {
            return Err(Error::new_loading_message(name, "module not found"));
        };
        match module.kind {
            ModuleKind::EsModule => {
                let key = self
                    .worker
                    .module_key(name)
                    .unwrap_or_else(|| bytecode::key(name, &module.content));
                load_es_module(ctx, name, &module.content, key)
            }
            ModuleKind::Text => {
                let text = String::from_utf8_lossy(&module.content);
                let source = format!("export default {};", json_string(&text));
                Module::declare(ctx.clone(), name, source)
            }
            ModuleKind::Json => {
                let text = String::from_utf8_lossy(&module.content);
                if let Err(err) = serde_json::from_str::<serde_json::Value>(&text) {
                    return Err(Exception::throw_syntax(ctx, &format!("{name}: {err}")));
                }
                let source = format!("export default JSON.parse({});", json_string(&text));
                Module::declare(ctx.clone(), name, source)
            }
            ModuleKind::Data => {
                let source = format!(
                    "import {{ moduleData }} from \"{KILN_INTERNAL}\";\nexport default moduleData({});",
                    json_string(name)
                );
                Module::declare(ctx.clone(), name, source)
            }
            ModuleKind::CommonJs => {
                // Evaluated by the prelude (`commonJsExports`), which `require()` shares.
                let source = format!(
                    "import {{ commonJsExports }} from \"{KILN_INTERNAL}\";\nexport default commonJsExports({});",
                    json_string(name)
                );
                Module::declare(ctx.clone(), name, source)
            }
            ModuleKind::Wasm => Err(Exception::throw_type(
                ctx,
                &format!(
                    "cannot import WebAssembly module \"{name}\": Kiln runs JavaScript on QuickJS, which has no WebAssembly"
                ),
            )),
        }
    }
}

fn json_string(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

/// Declares an ES module of the worker's from source, through the process-wide bytecode cache.
/// The bytecode keeps its source text and line tables, for `Function.prototype.toString` and
/// file:line:col in stacks.
pub fn load_es_module<'js>(
    ctx: &Ctx<'js>,
    name: &str,
    source: &[u8],
    key: bytecode::Key,
) -> Result<Module<'js, Declared>> {
    if let Some(code) = bytecode::get(&key) {
        // SAFETY: the bytes were written by `Module::write` of this same QuickJS build in this
        // process, and are immutable since.
        return unsafe { Module::load(ctx.clone(), &code) };
    }
    let source = super::import_attributes::strip(source).unwrap_or_else(|| source.to_vec());
    let module = Module::declare(ctx.clone(), name, source)?;
    if let Ok(code) = module.write(rquickjs::module::WriteOptions::default()) {
        bytecode::put(key, code);
    }
    Ok(module)
}

/// Compiled builtins, by module name.
type BuiltinCode = HashMap<&'static str, Arc<[u8]>>;

/// Declares one of Kiln's own modules (the prelude, `cloudflare:workers`). Each is compiled
/// once per process, without source text or debug information, which makes every isolate
/// smaller and faster to start; builtins are few and never evicted.
pub fn load_builtin<'js>(
    ctx: &Ctx<'js>,
    name: &'static str,
    source: &'static str,
) -> Result<Module<'js, Declared>> {
    static BUILTINS: std::sync::OnceLock<Mutex<BuiltinCode>> = std::sync::OnceLock::new();
    let builtins = BUILTINS.get_or_init(Mutex::default);
    let cached = builtins
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(name)
        .cloned();
    let code = match cached {
        Some(code) => code,
        None => {
            let code: Arc<[u8]> = compile_stripped(name, source.as_bytes())
                .map_err(|err| Exception::throw_internal(ctx, &format!("builtin {name}: {err}")))?
                .into();
            builtins
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(name, Arc::clone(&code));
            code
        }
    };
    // SAFETY: the bytes were written by `Module::write` of this same QuickJS build in this
    // process, and are immutable since.
    unsafe { Module::load(ctx.clone(), &code) }
}

/// Compiles a builtin module in a scratch runtime (declaring a module registers it by name, so
/// the isolate's own context must only load it once) and returns its bytecode without source
/// text or debug information. Compiling loads the modules it imports, so the scratch runtime
/// knows `kiln:internal`, the only one builtins import.
fn compile_stripped(name: &str, source: &[u8]) -> std::result::Result<Vec<u8>, rquickjs::Error> {
    let runtime = rquickjs::Runtime::new()?;
    runtime.set_loader(InternalOnly, InternalOnly);
    let context = rquickjs::Context::full(&runtime)?;
    context.with(|ctx| {
        let module = Module::declare(ctx.clone(), name, source.to_vec())?;
        module.write(rquickjs::module::WriteOptions {
            strip_source: true,
            strip_debug: true,
            ..Default::default()
        })
    })
}

/// The scratch runtime's resolver and loader: `kiln:internal` and nothing else.
struct InternalOnly;

impl Resolver for InternalOnly {
    fn resolve(&mut self, _ctx: &Ctx<'_>, _base: &str, name: &str) -> Result<String> {
        if name == KILN_INTERNAL {
            Ok(name.to_owned())
        } else {
            Err(Error::new_resolving(_base, name))
        }
    }
}

impl Loader for InternalOnly {
    fn load<'js>(&mut self, ctx: &Ctx<'js>, name: &str) -> Result<Module<'js, Declared>> {
        if name == KILN_INTERNAL {
            Module::declare_def::<web::InternalModule, _>(ctx.clone(), name)
        } else {
            Err(Error::new_loading(name))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::join;

    #[test]
    fn joins_relative_specifiers() {
        assert_eq!(join("src/index.js", "./lib/a.js"), "src/lib/a.js");
        assert_eq!(join("src/index.js", "../data.txt"), "data.txt");
        assert_eq!(join("index.js", "./a.js"), "a.js");
        assert_eq!(join("a/b/c.js", "../../d.js"), "d.js");
    }
}
