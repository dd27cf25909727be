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

pub const KILN_INTERNAL: &str = "kiln:internal";
/// Node's modules Kiln has, for workers with `nodejs_compat`: (name without `node:`, its named
/// exports). Each is reachable as `node:<name>` and as `<name>`; its source is made by
/// [`node_module_source`]. A named export the module's object lacks is `undefined`, so a bundle
/// that imports a name Kiln does not implement still links.
const NODE_MODULES: &[(&str, &str)] = &[
    ("_stream_duplex", ""),
    ("_stream_passthrough", ""),
    ("_stream_readable", ""),
    ("_stream_transform", ""),
    ("_stream_writable", ""),
    ("assert", "AssertionError ok equal notEqual strictEqual notStrictEqual deepEqual notDeepEqual deepStrictEqual notDeepStrictEqual fail match doesNotMatch throws doesNotThrow rejects doesNotReject ifError strict"),
    ("assert/strict", "AssertionError ok equal notEqual strictEqual notStrictEqual deepEqual notDeepEqual deepStrictEqual notDeepStrictEqual fail match doesNotMatch throws doesNotThrow rejects doesNotReject ifError strict"),
    ("async_hooks", "AsyncLocalStorage AsyncResource executionAsyncId triggerAsyncId executionAsyncResource createHook"),
    ("buffer", "Buffer kMaxLength kStringMaxLength constants SlowBuffer atob btoa Blob File isUtf8 isAscii transcode INSPECT_MAX_BYTES resolveObjectURL"),
    ("child_process", "exec execFile execFileSync execSync fork spawn spawnSync ChildProcess"),
    ("cluster", "fork setupPrimary setupMaster disconnect isMaster isPrimary isWorker workers settings"),
    ("console", "log info warn error debug trace dir dirxml table time timeEnd timeLog assert count countReset group groupEnd groupCollapsed"),
    ("constants", ""),
    ("crypto", "createHash createHmac Hash Hmac randomBytes randomInt randomUUID randomFillSync randomFill getRandomValues timingSafeEqual getHashes getCiphers getCurves webcrypto subtle pbkdf2 pbkdf2Sync hkdf hkdfSync scrypt scryptSync createCipheriv createDecipheriv createSign createVerify createPublicKey createPrivateKey createSecretKey generateKeyPair generateKeyPairSync KeyObject constants sign verify X509Certificate createECDH createDiffieHellman getDiffieHellman diffieHellman publicEncrypt privateDecrypt privateEncrypt publicDecrypt generatePrime generatePrimeSync checkPrime checkPrimeSync hash generateKey generateKeySync Certificate Cipher Decipher Sign Verify DiffieHellman ECDH secureHeapUsed getFips setFips"),
    ("dgram", "createSocket Socket"),
    ("diagnostics_channel", "channel hasSubscribers subscribe unsubscribe tracingChannel Channel"),
    ("dns", "lookup lookupService resolve resolve4 resolve6 resolveAny resolveCaa resolveCname resolveMx resolveNaptr resolveNs resolvePtr resolveSoa resolveSrv resolveTxt reverse promises getServers setServers setDefaultResultOrder getDefaultResultOrder Resolver"),
    ("dns/promises", "lookup lookupService resolve resolve4 resolve6 resolveAny resolveCaa resolveCname resolveMx resolveNaptr resolveNs resolvePtr resolveSoa resolveSrv resolveTxt reverse Resolver"),
    ("domain", "create createDomain active"),
    ("events", "EventEmitter errorMonitor once on getEventListeners getMaxListeners setMaxListeners listenerCount addAbortListener captureRejectionSymbol EventEmitterAsyncResource defaultMaxListeners captureRejections"),
    ("fs", "access appendFile chmod chown copyFile cp lchown link lstat mkdir mkdtemp open opendir readdir readFile readlink realpath rename rm rmdir stat statfs symlink truncate unlink utimes writeFile close read write fstat fsync accessSync appendFileSync chmodSync chownSync copyFileSync cpSync lchownSync linkSync lstatSync mkdirSync mkdtempSync openSync opendirSync readdirSync readFileSync readlinkSync realpathSync renameSync rmSync rmdirSync statSync statfsSync symlinkSync truncateSync unlinkSync utimesSync writeFileSync closeSync readSync writeSync fstatSync fsyncSync constants existsSync exists createReadStream createWriteStream watch watchFile unwatchFile promises"),
    ("fs/promises", "access appendFile chmod chown copyFile cp lchown link lstat mkdir mkdtemp open opendir readdir readFile readlink realpath rename rm rmdir stat statfs symlink truncate unlink utimes writeFile close read write fstat fsync constants"),
    ("http", "request get createServer STATUS_CODES METHODS Agent globalAgent maxHeaderSize validateHeaderName validateHeaderValue Server ClientRequest IncomingMessage ServerResponse OutgoingMessage"),
    ("https", "request get createServer STATUS_CODES METHODS Agent globalAgent maxHeaderSize validateHeaderName validateHeaderValue Server ClientRequest IncomingMessage ServerResponse OutgoingMessage"),
    ("http2", "connect createServer createSecureServer getDefaultSettings getPackedSettings getUnpackedSettings constants sensitiveHeaders"),
    ("inspector", "open close waitForDebugger url console Session"),
    ("module", "Module builtinModules createRequire isBuiltin register syncBuiltinESMExports findSourceMap"),
    ("net", "connect createConnection createServer isIP isIPv4 isIPv6 Socket Server BlockList SocketAddress getDefaultAutoSelectFamily setDefaultAutoSelectFamily"),
    ("os", "EOL devNull availableParallelism arch cpus endianness freemem totalmem getPriority setPriority homedir hostname loadavg machine networkInterfaces platform release tmpdir type uptime userInfo version constants"),
    ("path", "sep delimiter normalize join resolve isAbsolute relative dirname basename extname parse format toNamespacedPath matchesGlob posix win32"),
    ("path/posix", "sep delimiter normalize join resolve isAbsolute relative dirname basename extname parse format toNamespacedPath matchesGlob posix win32"),
    ("path/win32", "sep delimiter normalize join resolve isAbsolute relative dirname basename extname parse format toNamespacedPath matchesGlob posix win32"),
    ("perf_hooks", "performance PerformanceObserver PerformanceEntry PerformanceMark PerformanceMeasure monitorEventLoopDelay createHistogram constants"),
    ("process", "env argv argv0 execArgv execPath platform arch version versions release pid ppid title nextTick cwd chdir hrtime emitWarning exit abort uptime memoryUsage cpuUsage resourceUsage features config exitCode getBuiltinModule umask on once off emit addListener removeListener removeAllListeners listeners listenerCount stdout stderr stdin"),
    ("punycode", "version encode decode toASCII toUnicode ucs2"),
    ("querystring", "escape unescape stringify parse encode decode"),
    ("readline", "createInterface clearLine clearScreenDown cursorTo moveCursor emitKeypressEvents Interface promises"),
    ("readline/promises", "createInterface Interface Readline"),
    ("repl", "start builtinModules"),
    ("stream", "Stream Readable Writable Duplex Transform PassThrough pipeline compose finished addAbortSignal promises isReadable isWritable isErrored isDisturbed getDefaultHighWaterMark setDefaultHighWaterMark duplexPair destroy isDestroyed"),
    ("stream/consumers", "arrayBuffer blob buffer text json"),
    ("stream/promises", "pipeline finished"),
    ("stream/web", "ReadableStream ReadableStreamDefaultReader ReadableStreamBYOBReader ReadableByteStreamController ReadableStreamDefaultController ReadableStreamBYOBRequest TransformStream TransformStreamDefaultController WritableStream WritableStreamDefaultWriter WritableStreamDefaultController ByteLengthQueuingStrategy CountQueuingStrategy TextEncoderStream TextDecoderStream CompressionStream DecompressionStream"),
    ("string_decoder", "StringDecoder"),
    ("sys", "promisify callbackify inherits deprecate format formatWithOptions inspect isArray isDeepStrictEqual types TextEncoder TextDecoder debuglog debug stripVTControlCharacters toUSVString parseArgs styleText getSystemErrorName getSystemErrorMap MIMEType MIMEParams aborted transferableAbortSignal transferableAbortController"),
    ("timers", "setTimeout clearTimeout setInterval clearInterval setImmediate clearImmediate promises active enroll unenroll"),
    ("timers/promises", "setTimeout setImmediate setInterval scheduler"),
    ("tls", "connect createServer createSecureContext createSecurePair TLSSocket Server SecureContext rootCertificates DEFAULT_ECDH_CURVE DEFAULT_MIN_VERSION DEFAULT_MAX_VERSION checkServerIdentity getCiphers"),
    ("trace_events", "createTracing getEnabledCategories"),
    ("tty", "isatty ReadStream WriteStream"),
    ("url", "URL URLSearchParams fileURLToPath pathToFileURL parse format resolve resolveObject domainToASCII domainToUnicode urlToHttpOptions Url"),
    ("util", "promisify callbackify inherits deprecate format formatWithOptions inspect isArray isDeepStrictEqual types TextEncoder TextDecoder debuglog debug stripVTControlCharacters toUSVString parseArgs styleText getSystemErrorName getSystemErrorMap MIMEType MIMEParams aborted transferableAbortSignal transferableAbortController _extend isBoolean isBuffer isDate isError isFunction isNull isNullOrUndefined isNumber isObject isPrimitive isRegExp isString isSymbol isUndefined log getCallSites parseEnv"),
    ("util/types", "isAnyArrayBuffer isArrayBuffer isArrayBufferView isAsyncFunction isBigInt64Array isBigUint64Array isBooleanObject isBoxedPrimitive isDataView isDate isExternal isFloat32Array isFloat64Array isGeneratorFunction isGeneratorObject isInt8Array isInt16Array isInt32Array isMap isMapIterator isModuleNamespaceObject isNativeError isNumberObject isPromise isProxy isRegExp isSet isSetIterator isSharedArrayBuffer isStringObject isSymbolObject isTypedArray isUint8Array isUint8ClampedArray isUint16Array isUint32Array isWeakMap isWeakSet isKeyObject isCryptoKey"),
    ("v8", "serialize deserialize writeHeapSnapshot getHeapSnapshot takeCoverage stopCoverage cachedDataVersionTag getHeapStatistics getHeapSpaceStatistics setFlagsFromString"),
    ("vm", "runInContext runInNewContext runInThisContext compileFunction createContext measureMemory isContext Script"),
    ("wasi", "WASI"),
    ("worker_threads", "isMainThread parentPort threadId workerData resourceLimits SHARE_ENV Worker MessageChannel MessagePort BroadcastChannel getEnvironmentData setEnvironmentData receiveMessageOnPort markAsUntransferable moveMessagePortToContext"),
    ("zlib", "constants crc32 Deflate Inflate Gzip Gunzip DeflateRaw InflateRaw Unzip createDeflate createInflate createGzip createGunzip createDeflateRaw createInflateRaw createUnzip deflateSync inflateSync gzipSync gunzipSync deflateRawSync inflateRawSync unzipSync deflate inflate gzip gunzip deflateRaw inflateRaw unzip BrotliCompress BrotliDecompress createBrotliCompress createBrotliDecompress brotliCompress brotliDecompress brotliCompressSync brotliDecompressSync ZstdCompress ZstdDecompress createZstdCompress createZstdDecompress zstdCompress zstdDecompress zstdCompressSync zstdDecompressSync codes"),
];

/// The bare name of Node's module `name` (`node:fs`, `fs`) and its named exports, if Kiln has it.
fn node_module(name: &str) -> Option<(&'static str, &'static str)> {
    let bare = name.strip_prefix("node:").unwrap_or(name);
    NODE_MODULES.iter().copied().find(|(n, _)| *n == bare)
}

/// The ES module that stands for Node's module `bare`: its default export is what `require()`
/// gives (`nodeBuiltin`), its named exports that object's properties.
fn node_module_source(bare: &str, exports: &str) -> String {
    let mut source = format!(
        "import {{ nodeBuiltin }} from \"kiln:internal\";\nconst m = nodeBuiltin(\"node:{bare}\", false);\n"
    );
    let names: Vec<&str> = exports.split_whitespace().collect();
    if !names.is_empty() {
        source.push_str(&format!("export const {{ {} }} = m;\n", names.join(", ")));
    }
    source.push_str("export default m;\n");
    source
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
        if name == KILN_INTERNAL || web::CLOUDFLARE_MODULES.iter().any(|(n, _)| *n == name) {
            return Ok(name.to_owned());
        }
        if let Some((bare, _)) = node_module(name) {
            let full = format!("node:{bare}");
            if node_compat(&self.worker, &full) {
                return Ok(full);
            }
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
        if name == KILN_INTERNAL {
            return Module::declare_def::<web::InternalModule, _>(ctx.clone(), name);
        }
        if let Some((_, source)) = web::CLOUDFLARE_MODULES.iter().find(|(n, _)| *n == name) {
            return load_builtin(ctx, name, source);
        }
        if let Some((bare, exports)) = node_module(name).filter(|_| name.starts_with("node:")) {
            return load_builtin(ctx, name, &node_module_source(bare, exports));
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
type BuiltinCode = HashMap<String, Arc<[u8]>>;

/// Declares one of Kiln's own modules (the prelude, `cloudflare:workers`). Each is compiled
/// once per process, without source text or debug information, which makes every isolate
/// smaller and faster to start; builtins are few and never evicted.
pub fn load_builtin<'js>(
    ctx: &Ctx<'js>,
    name: &str,
    source: &str,
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
                .insert(name.to_owned(), Arc::clone(&code));
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

#[cfg(test)]
mod node_module_tests {
    use super::NODE_MODULES;

    #[test]
    fn no_node_module_names_an_export_twice() {
        for (name, exports) in NODE_MODULES {
            let mut seen = std::collections::HashSet::new();
            for export in exports.split_whitespace() {
                assert!(seen.insert(export), "node:{name} names {export} twice");
            }
        }
    }
}
