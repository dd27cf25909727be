// The rest of Node's modules that wrangler leaves to the runtime under `nodejs_compat`, so a
// bundle that imports them starts: `querystring`, `util/types`, `path/win32`, `module`, `os`,
// `perf_hooks`, `punycode`, `tty`, `worker_threads`, `console`, `constants`, and, for what a
// worker cannot do here (sockets, files, DNS, servers, processes), modules whose functions
// throw Node's ERR_METHOD_NOT_IMPLEMENTED when called, as workerd's unimplemented ones do.

function nodeNotImplemented(module, name) {
  return function notImplemented() {
    throw nodeStreamError("ERR_METHOD_NOT_IMPLEMENTED", `The ${module}.${name}() method is not implemented in Kiln`);
  };
}

// A module whose listed functions throw when called.
function nodeStubModule(module, functions, extra = {}) {
  const out = { ...extra };
  for (const name of functions) if (!(name in out)) out[name] = nodeNotImplemented(module, name);
  return out;
}

// querystring ------------------------------------------------------------------------------

function qsEscape(text) {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function qsUnescape(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text.replace(/%([0-9a-fA-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
  }
}

function qsStringifyPrimitive(value) {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (typeof value === "bigint" || typeof value === "boolean") return String(value);
  return "";
}

const nodeQuerystring = {
  escape: qsEscape,
  unescape: qsUnescape,
  stringify(object, sep = "&", eq = "=", options = {}) {
    const encode = options.encodeURIComponent ?? nodeQuerystring.escape;
    if (object === null || typeof object !== "object") return "";
    const parts = [];
    for (const key of Object.keys(object)) {
      const value = object[key];
      const k = encode(qsStringifyPrimitive(key)) + eq;
      if (Array.isArray(value)) for (const item of value) parts.push(k + encode(qsStringifyPrimitive(item)));
      else parts.push(k + encode(qsStringifyPrimitive(value)));
    }
    return parts.join(sep);
  },
  parse(text, sep = "&", eq = "=", options = {}) {
    const out = Object.create(null);
    if (typeof text !== "string" || text.length === 0) return out;
    const decode = options.decodeURIComponent ?? nodeQuerystring.unescape;
    const maxKeys = options.maxKeys ?? 1000;
    let pairs = text.split(sep);
    if (maxKeys > 0) pairs = pairs.slice(0, maxKeys);
    for (const pair of pairs) {
      if (pair === "") continue;
      const at = pair.indexOf(eq);
      const rawKey = at >= 0 ? pair.slice(0, at) : pair;
      const rawValue = at >= 0 ? pair.slice(at + eq.length) : "";
      const key = decode(rawKey.replace(/\+/g, " "));
      const value = decode(rawValue.replace(/\+/g, " "));
      if (!(key in out)) out[key] = value;
      else if (Array.isArray(out[key])) out[key].push(value);
      else out[key] = [out[key], value];
    }
    return out;
  },
};
nodeQuerystring.encode = nodeQuerystring.stringify;
nodeQuerystring.decode = nodeQuerystring.parse;

// module -----------------------------------------------------------------------------------

const NODE_BUILTIN_NAMES = [
  "_stream_duplex", "_stream_passthrough", "_stream_readable", "_stream_transform", "_stream_writable",
  "assert", "assert/strict", "async_hooks", "buffer", "child_process", "cluster", "console", "constants",
  "crypto", "dgram", "diagnostics_channel", "dns", "dns/promises", "domain", "events", "fs", "fs/promises",
  "http", "http2", "https", "inspector", "module", "net", "os", "path", "path/posix", "path/win32",
  "perf_hooks", "process", "punycode", "querystring", "readline", "readline/promises", "repl", "stream",
  "stream/consumers", "stream/promises", "stream/web", "string_decoder", "sys", "timers", "timers/promises",
  "tls", "trace_events", "tty", "url", "util", "util/types", "v8", "vm", "wasi", "worker_threads", "zlib",
];

const nodeModule = {
  builtinModules: NODE_BUILTIN_NAMES.slice(),
  isBuiltin(name) {
    const bare = String(name).startsWith("node:") ? String(name).slice(5) : String(name);
    return NODE_BUILTIN_NAMES.includes(bare);
  },
  createRequire() {
    const require = (spec) => {
      const found = nodeBuiltin(String(spec));
      if (found !== undefined) return found;
      const err = new Error(`Cannot find module '${spec}': createRequire() reaches Node's built-in modules only`);
      err.code = "MODULE_NOT_FOUND";
      throw err;
    };
    require.resolve = (spec) => {
      if (nodeModule.isBuiltin(spec)) return String(spec);
      const err = new Error(`Cannot find module '${spec}'`);
      err.code = "MODULE_NOT_FOUND";
      throw err;
    };
    require.cache = Object.create(null);
    return require;
  },
  register: nodeNotImplemented("module", "register"),
  syncBuiltinESMExports() {},
  findSourceMap() { return undefined; },
};
nodeModule.Module = nodeModule;

// os ---------------------------------------------------------------------------------------

const nodeOs = {
  EOL: "\n",
  devNull: "/dev/null",
  availableParallelism: () => 1,
  arch: () => "x64",
  cpus: () => [],
  endianness: () => "LE",
  freemem: () => 0,
  totalmem: () => 0,
  getPriority: () => 0,
  setPriority() {},
  homedir: () => "/",
  hostname: () => "localhost",
  loadavg: () => [0, 0, 0],
  machine: () => "x86_64",
  networkInterfaces: () => ({}),
  platform: () => "linux",
  release: () => "",
  tmpdir: () => "/tmp",
  type: () => "Linux",
  uptime: () => 0,
  userInfo: () => ({ uid: -1, gid: -1, username: "", homedir: "/", shell: null }),
  version: () => "",
  constants: { signals: {}, errno: {}, priority: {} },
};

// punycode (RFC 3492) ----------------------------------------------------------------------

const PUNY_BASE = 36, PUNY_TMIN = 1, PUNY_TMAX = 26, PUNY_SKEW = 38, PUNY_DAMP = 700;
function punyAdapt(delta, points, first) {
  delta = first ? Math.floor(delta / PUNY_DAMP) : delta >> 1;
  delta += Math.floor(delta / points);
  let k = 0;
  while (delta > ((PUNY_BASE - PUNY_TMIN) * PUNY_TMAX) >> 1) {
    delta = Math.floor(delta / (PUNY_BASE - PUNY_TMIN));
    k += PUNY_BASE;
  }
  return k + Math.floor(((PUNY_BASE - PUNY_TMIN + 1) * delta) / (delta + PUNY_SKEW));
}
function punyDigit(d) { return d + 22 + 75 * (d < 26); }
function punyEncode(input) {
  const points = Array.from(String(input), (c) => c.codePointAt(0));
  let out = points.filter((c) => c < 0x80).map((c) => String.fromCharCode(c)).join("");
  const basic = out.length;
  let handled = basic;
  if (basic) out += "-";
  let n = 128, delta = 0, bias = 72;
  while (handled < points.length) {
    const m = Math.min(...points.filter((c) => c >= n));
    delta += (m - n) * (handled + 1);
    n = m;
    for (const c of points) {
      if (c < n) delta++;
      if (c === n) {
        let q = delta;
        for (let k = PUNY_BASE; ; k += PUNY_BASE) {
          const t = k <= bias ? PUNY_TMIN : k >= bias + PUNY_TMAX ? PUNY_TMAX : k - bias;
          if (q < t) break;
          out += String.fromCharCode(punyDigit(t + ((q - t) % (PUNY_BASE - t))));
          q = Math.floor((q - t) / (PUNY_BASE - t));
        }
        out += String.fromCharCode(punyDigit(q));
        bias = punyAdapt(delta, handled + 1, handled === basic);
        delta = 0;
        handled++;
      }
    }
    delta++;
    n++;
  }
  return out;
}
function punyDecode(input) {
  input = String(input);
  const out = [];
  let basic = input.lastIndexOf("-");
  if (basic < 0) basic = 0;
  for (let j = 0; j < basic; j++) out.push(input.charCodeAt(j));
  let n = 128, bias = 72, i = 0;
  for (let index = basic > 0 ? basic + 1 : 0; index < input.length;) {
    const oldi = i;
    for (let w = 1, k = PUNY_BASE; ; k += PUNY_BASE) {
      if (index >= input.length) throw new RangeError("Invalid input");
      const code = input.charCodeAt(index++);
      const digit = code - 48 < 10 ? code - 22 : code - 65 < 26 ? code - 65 : code - 97 < 26 ? code - 97 : PUNY_BASE;
      if (digit >= PUNY_BASE) throw new RangeError("Invalid input");
      i += digit * w;
      const t = k <= bias ? PUNY_TMIN : k >= bias + PUNY_TMAX ? PUNY_TMAX : k - bias;
      if (digit < t) break;
      w *= PUNY_BASE - t;
    }
    bias = punyAdapt(i - oldi, out.length + 1, oldi === 0);
    n += Math.floor(i / (out.length + 1));
    i %= out.length + 1;
    out.splice(i++, 0, n);
  }
  return String.fromCodePoint(...out);
}
const nodePunycode = {
  version: "2.1.0",
  encode: punyEncode,
  decode: punyDecode,
  toASCII: (domain) => String(domain).split(".").map((label) => (/[^\0-\x7f]/.test(label) ? `xn--${punyEncode(label)}` : label)).join("."),
  toUnicode: (domain) => String(domain).split(".").map((label) => (/^xn--/i.test(label) ? punyDecode(label.slice(4).toLowerCase()) : label)).join("."),
  ucs2: {
    decode: (text) => Array.from(String(text), (c) => c.codePointAt(0)),
    encode: (points) => String.fromCodePoint(...points),
  },
};

// What a worker cannot do here: sockets, files, DNS, servers, child processes.

function nodeFsError(syscall, path) {
  const err = new Error(`ENOENT: no such file or directory, ${syscall}${path === undefined ? "" : ` '${path}'`}`);
  err.code = "ENOENT";
  err.errno = -2;
  err.syscall = syscall;
  if (path !== undefined) err.path = String(path);
  return err;
}

const FS_FUNCTIONS = [
  "access", "appendFile", "chmod", "chown", "copyFile", "cp", "lchown", "link", "lstat", "mkdir", "mkdtemp",
  "open", "opendir", "readdir", "readFile", "readlink", "realpath", "rename", "rm", "rmdir", "stat", "statfs",
  "symlink", "truncate", "unlink", "utimes", "writeFile", "close", "read", "write", "fstat", "fsync",
];
const nodeFsPromises = {};
const nodeFs = {
  constants: { F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1, O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_CREAT: 64, O_EXCL: 128, O_TRUNC: 512, O_APPEND: 1024 },
  existsSync: () => false,
  exists: (path, callback) => queueMicrotask(() => callback(false)),
  createReadStream(path) {
    const stream = new Readable({ read() {} });
    queueMicrotask(() => stream.destroy(nodeFsError("open", path)));
    return stream;
  },
  createWriteStream(path) {
    const stream = new Writable({ write(chunk, encoding, cb) { cb(nodeFsError("open", path)); } });
    return stream;
  },
  watch: nodeNotImplemented("fs", "watch"),
  watchFile: nodeNotImplemented("fs", "watchFile"),
  unwatchFile() {},
  promises: nodeFsPromises,
};
for (const name of FS_FUNCTIONS) {
  nodeFs[`${name}Sync`] = (path) => { throw nodeFsError(name, typeof path === "number" ? undefined : path); };
  nodeFs[name] = (path, ...rest) => {
    const callback = rest.reverse().find((a) => typeof a === "function");
    const err = nodeFsError(name, typeof path === "number" ? undefined : path);
    if (callback) queueMicrotask(() => callback(err));
    else throw err;
  };
  nodeFsPromises[name] = async (path) => { throw nodeFsError(name, typeof path === "number" ? undefined : path); };
}
nodeFsPromises.constants = nodeFs.constants;

const HTTP_STATUS_CODES = {
  100: "Continue", 101: "Switching Protocols", 102: "Processing", 103: "Early Hints", 200: "OK", 201: "Created",
  202: "Accepted", 203: "Non-Authoritative Information", 204: "No Content", 205: "Reset Content",
  206: "Partial Content", 207: "Multi-Status", 208: "Already Reported", 226: "IM Used", 300: "Multiple Choices",
  301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified", 305: "Use Proxy",
  307: "Temporary Redirect", 308: "Permanent Redirect", 400: "Bad Request", 401: "Unauthorized",
  402: "Payment Required", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
  407: "Proxy Authentication Required", 408: "Request Timeout", 409: "Conflict", 410: "Gone",
  411: "Length Required", 412: "Precondition Failed", 413: "Payload Too Large", 414: "URI Too Long",
  415: "Unsupported Media Type", 416: "Range Not Satisfiable", 417: "Expectation Failed", 418: "I'm a Teapot",
  421: "Misdirected Request", 422: "Unprocessable Entity", 423: "Locked", 424: "Failed Dependency",
  425: "Too Early", 426: "Upgrade Required", 428: "Precondition Required", 429: "Too Many Requests",
  431: "Request Header Fields Too Large", 451: "Unavailable For Legal Reasons", 500: "Internal Server Error",
  501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
  505: "HTTP Version Not Supported", 506: "Variant Also Negotiates", 507: "Insufficient Storage",
  508: "Loop Detected", 509: "Bandwidth Limit Exceeded", 510: "Not Extended", 511: "Network Authentication Required",
};
const HTTP_METHODS = ["ACL", "BIND", "CHECKOUT", "CONNECT", "COPY", "DELETE", "GET", "HEAD", "LINK", "LOCK", "M-SEARCH",
  "MERGE", "MKACTIVITY", "MKCALENDAR", "MKCOL", "MOVE", "NOTIFY", "OPTIONS", "PATCH", "POST", "PROPFIND",
  "PROPPATCH", "PURGE", "PUT", "QUERY", "REBIND", "REPORT", "SEARCH", "SOURCE", "SUBSCRIBE", "TRACE", "UNBIND",
  "UNLINK", "UNLOCK", "UNSUBSCRIBE"];

class NodeHttpAgent extends nodeEvents.EventEmitter {
  constructor(options = {}) {
    super();
    this.options = options;
    this.maxSockets = options.maxSockets ?? Infinity;
    this.keepAlive = !!options.keepAlive;
  }
  destroy() {}
}

function nodeHttpModule(name) {
  return nodeStubModule(name, ["request", "get", "createServer"], {
    STATUS_CODES: HTTP_STATUS_CODES,
    METHODS: HTTP_METHODS,
    Agent: NodeHttpAgent,
    globalAgent: new NodeHttpAgent(),
    maxHeaderSize: 16384,
    validateHeaderName(header) {
      if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(String(header))) throw nodeStreamError("ERR_INVALID_HTTP_TOKEN", `Header name must be a valid HTTP token ["${header}"]`, TypeError);
    },
    validateHeaderValue(header, value) {
      if (value === undefined) throw nodeStreamError("ERR_HTTP_INVALID_HEADER_VALUE", `Invalid value "${value}" for header "${header}"`, TypeError);
      if (/[^\t\x20-\x7e\x80-\xff]/.test(String(value))) throw nodeStreamError("ERR_INVALID_CHAR", `Invalid character in header content ["${header}"]`, TypeError);
    },
    Server: nodeNotImplemented(name, "Server"),
    ClientRequest: nodeNotImplemented(name, "ClientRequest"),
    IncomingMessage: nodeNotImplemented(name, "IncomingMessage"),
    ServerResponse: nodeNotImplemented(name, "ServerResponse"),
    OutgoingMessage: nodeNotImplemented(name, "OutgoingMessage"),
  });
}

function nodeIsIPv4(input) {
  return /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(String(input));
}
function nodeIsIPv6(input) {
  const text = String(input).split("%")[0];
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(":")) return false;
  try { new URL(`http://[${text}]/`); return true; } catch { return false; }
}
const nodeNet = nodeStubModule("net", ["connect", "createConnection", "createServer"], {
  isIP: (input) => (nodeIsIPv4(input) ? 4 : nodeIsIPv6(input) ? 6 : 0),
  isIPv4: nodeIsIPv4,
  isIPv6: nodeIsIPv6,
  Socket: nodeNotImplemented("net", "Socket"),
  Server: nodeNotImplemented("net", "Server"),
  BlockList: nodeNotImplemented("net", "BlockList"),
  SocketAddress: nodeNotImplemented("net", "SocketAddress"),
  getDefaultAutoSelectFamily: () => false,
  setDefaultAutoSelectFamily() {},
});
const nodeTls = nodeStubModule("tls", ["connect", "createServer", "createSecureContext", "createSecurePair"], {
  TLSSocket: nodeNotImplemented("tls", "TLSSocket"),
  Server: nodeNotImplemented("tls", "Server"),
  SecureContext: nodeNotImplemented("tls", "SecureContext"),
  rootCertificates: [],
  DEFAULT_ECDH_CURVE: "auto",
  DEFAULT_MIN_VERSION: "TLSv1.2",
  DEFAULT_MAX_VERSION: "TLSv1.3",
  checkServerIdentity() { return undefined; },
  getCiphers: () => [],
});

const DNS_FUNCTIONS = ["lookup", "lookupService", "resolve", "resolve4", "resolve6", "resolveAny", "resolveCaa",
  "resolveCname", "resolveMx", "resolveNaptr", "resolveNs", "resolvePtr", "resolveSoa", "resolveSrv",
  "resolveTxt", "reverse"];
function nodeDnsError(name, host) {
  const err = new Error(`${name} ENOTIMP ${host ?? ""}`.trim());
  err.code = "ENOTIMP";
  err.syscall = name;
  if (host !== undefined) err.hostname = String(host);
  return err;
}
const nodeDnsPromises = {};
const nodeDns = {
  promises: nodeDnsPromises,
  getServers: () => [],
  setServers() {},
  setDefaultResultOrder() {},
  getDefaultResultOrder: () => "verbatim",
  Resolver: class Resolver { constructor() { Object.assign(this, nodeDns); } cancel() {} },
};
for (const name of DNS_FUNCTIONS) {
  nodeDns[name] = (host, ...rest) => {
    const callback = rest.reverse().find((a) => typeof a === "function");
    const err = nodeDnsError(name, host);
    if (callback) queueMicrotask(() => callback(err));
    else throw err;
  };
  nodeDnsPromises[name] = async (host) => { throw nodeDnsError(name, host); };
}
for (const code of ["NODATA", "FORMERR", "SERVFAIL", "NOTFOUND", "NOTIMP", "REFUSED", "BADQUERY", "BADNAME",
  "BADFAMILY", "BADRESP", "CONNREFUSED", "TIMEOUT", "EOF", "FILE", "NOMEM", "DESTRUCTION", "BADSTR", "BADFLAGS",
  "NONAME", "BADHINTS", "NOTINITIALIZED", "LOADIPHLPAPI", "ADDRGETNETWORKPARAMS", "CANCELLED"]) {
  nodeDns[code] = `E${code}`;
}
nodeDnsPromises.Resolver = nodeDns.Resolver;

const nodePerfHooks = {
  performance: globalThis.performance,
  PerformanceObserver: class PerformanceObserver { observe() {} disconnect() {} static get supportedEntryTypes() { return []; } },
  PerformanceEntry: globalThis.PerformanceEntry ?? class PerformanceEntry {},
  PerformanceMark: globalThis.PerformanceMark ?? class PerformanceMark {},
  PerformanceMeasure: globalThis.PerformanceMeasure ?? class PerformanceMeasure {},
  monitorEventLoopDelay: nodeNotImplemented("perf_hooks", "monitorEventLoopDelay"),
  createHistogram: nodeNotImplemented("perf_hooks", "createHistogram"),
  constants: {},
};

const nodeTty = {
  isatty: () => false,
  ReadStream: nodeNotImplemented("tty", "ReadStream"),
  WriteStream: nodeNotImplemented("tty", "WriteStream"),
};

const nodeWorkerThreads = nodeStubModule("worker_threads", ["receiveMessageOnPort", "markAsUntransferable", "moveMessagePortToContext"], {
  isMainThread: true,
  parentPort: null,
  threadId: 0,
  workerData: null,
  resourceLimits: {},
  SHARE_ENV: Symbol("SHARE_ENV"),
  Worker: nodeNotImplemented("worker_threads", "Worker"),
  MessageChannel: globalThis.MessageChannel,
  MessagePort: globalThis.MessagePort,
  BroadcastChannel: globalThis.BroadcastChannel,
  getEnvironmentData() { return undefined; },
  setEnvironmentData() {},
});

const nodeV8 = nodeStubModule("v8", ["serialize", "deserialize", "writeHeapSnapshot", "getHeapSnapshot", "takeCoverage", "stopCoverage"], {
  cachedDataVersionTag: () => 0,
  getHeapStatistics: () => ({ total_heap_size: 0, total_heap_size_executable: 0, total_physical_size: 0, total_available_size: 0, used_heap_size: 0, heap_size_limit: 0, malloced_memory: 0, peak_malloced_memory: 0, does_zap_garbage: 0, number_of_native_contexts: 1, number_of_detached_contexts: 0 }),
  getHeapSpaceStatistics: () => [],
  setFlagsFromString() {},
});

const nodeVm = nodeStubModule("vm", ["runInContext", "runInNewContext", "runInThisContext", "compileFunction", "createContext", "measureMemory"], {
  isContext: () => false,
  Script: nodeNotImplemented("vm", "Script"),
});

const nodeReadline = nodeStubModule("readline", ["createInterface", "clearLine", "clearScreenDown", "cursorTo", "moveCursor", "emitKeypressEvents"], {
  Interface: nodeNotImplemented("readline", "Interface"),
});
nodeReadline.promises = nodeStubModule("readline/promises", ["createInterface"], {
  Interface: nodeNotImplemented("readline/promises", "Interface"),
  Readline: nodeNotImplemented("readline/promises", "Readline"),
});

const nodeChildProcess = nodeStubModule("child_process", ["exec", "execFile", "execFileSync", "execSync", "fork", "spawn", "spawnSync"], {
  ChildProcess: nodeNotImplemented("child_process", "ChildProcess"),
});
const nodeCluster = nodeStubModule("cluster", ["fork", "setupPrimary", "setupMaster", "disconnect"], {
  isMaster: true, isPrimary: true, isWorker: false, workers: {}, settings: {},
});
const nodeDgram = nodeStubModule("dgram", ["createSocket"], { Socket: nodeNotImplemented("dgram", "Socket") });
const nodeHttp2 = nodeStubModule("http2", ["connect", "createServer", "createSecureServer", "getDefaultSettings", "getPackedSettings", "getUnpackedSettings"], {
  constants: {}, sensitiveHeaders: Symbol("nodejs.http2.sensitiveHeaders"),
});
const nodeInspector = nodeStubModule("inspector", ["open", "close", "waitForDebugger"], {
  url: () => undefined, console: globalThis.console, Session: nodeNotImplemented("inspector", "Session"),
});
const nodeRepl = nodeStubModule("repl", ["start"], { builtinModules: NODE_BUILTIN_NAMES.slice() });
const nodeTraceEvents = nodeStubModule("trace_events", ["createTracing", "getEnabledCategories"]);
const nodeDomain = nodeStubModule("domain", ["create", "createDomain"], { active: null });
const nodeWasi = nodeStubModule("wasi", [], { WASI: nodeNotImplemented("wasi", "WASI") });
const nodeConstants = { ...nodeFs.constants, ...nodeOs.constants.priority };

const nodePathWin32 = nodePath.win32 ?? nodePath;

// Every built-in module by name: what `require()`, `process.getBuiltinModule()` and an import's
// default export give (Node's `module.exports`); an import's named exports are its properties.
const nodeBuiltinValues = {
  _stream_duplex: Duplex, _stream_passthrough: PassThrough, _stream_readable: Readable,
  _stream_transform: Transform, _stream_writable: Writable,
  assert: nodeAssert, "assert/strict": nodeAssert.strict, async_hooks: nodeAsyncHooks,
  buffer: nodeBuffer, child_process: nodeChildProcess, cluster: nodeCluster, console: globalThis.console,
  constants: nodeConstants, crypto: nodeCrypto, dgram: nodeDgram, diagnostics_channel: nodeDiagnosticsChannel,
  dns: nodeDns, "dns/promises": nodeDnsPromises, domain: nodeDomain, events: EventEmitter, fs: nodeFs,
  "fs/promises": nodeFsPromises, http: nodeHttpModule("http"), http2: nodeHttp2, https: nodeHttpModule("https"),
  inspector: nodeInspector, module: nodeModule, net: nodeNet, os: nodeOs, path: nodePath,
  "path/posix": nodePath, "path/win32": nodePathWin32, perf_hooks: nodePerfHooks, process: nodeProcess,
  punycode: nodePunycode, querystring: nodeQuerystring, readline: nodeReadline,
  "readline/promises": nodeReadline.promises, repl: nodeRepl, stream: nodeStream,
  "stream/consumers": nodeStreamConsumers, "stream/promises": nodeStreamPromises, "stream/web": nodeStreamWeb,
  string_decoder: nodeStringDecoder, sys: nodeUtil, timers: nodeTimers, "timers/promises": nodeTimersPromises,
  tls: nodeTls, trace_events: nodeTraceEvents, tty: nodeTty, url: nodeUrl, util: nodeUtil,
  "util/types": nodeUtilTypes, v8: nodeV8, vm: nodeVm, wasi: nodeWasi, worker_threads: nodeWorkerThreads,
  zlib: nodeZlib,
};
