// Node's `process` for `nodejs_compat` workers (`node:process`, and the global with
// nodejs_compat_v2): `env` (the worker's text bindings, with
// nodejs_compat_populate_process_env), `nextTick`, and the fields libraries probe.
const nodeProcess = {
  env: {},
  argv: [],
  execArgv: [],
  platform: "linux",
  arch: "x64",
  version: "v22.0.0",
  versions: { node: "22.0.0" },
  release: { name: "node" },
  pid: 1,
  ppid: 0,
  title: "workerd",
  browser: false,
  exitCode: undefined,
  cwd() { return "/bundle"; },
  chdir() { throw new Error("process.chdir() is not supported by Workers."); },
  exit() { throw new Error("process.exit() is not supported by Workers."); },
  abort() { throw new Error("process.abort() is not supported by Workers."); },
  umask() { return 0o22; },
  uptime() { return performance.now() / 1000; },
  hrtime: Object.assign((previous) => {
    const now = performance.now();
    let seconds = Math.floor(now / 1000);
    let nanos = Math.floor((now % 1000) * 1e6);
    if (previous) {
      seconds -= previous[0];
      nanos -= previous[1];
      if (nanos < 0) { seconds -= 1; nanos += 1e9; }
    }
    return [seconds, nanos];
  }, { bigint: () => BigInt(Math.floor(performance.now() * 1e6)) }),
  memoryUsage() { return { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 }; },
  nextTick(callback, ...args) {
    if (typeof callback !== "function") throw new TypeError("The \"callback\" argument must be of type function.");
    queueMicrotask(() => callback(...args));
  },
  emitWarning(warning) { console.warn(String(warning?.message ?? warning)); },
  on() { return nodeProcess; },
  once() { return nodeProcess; },
  off() { return nodeProcess; },
  addListener() { return nodeProcess; },
  removeListener() { return nodeProcess; },
  removeAllListeners() { return nodeProcess; },
  emit() { return false; },
  listeners() { return []; },
  listenerCount() { return 0; },
  getBuiltinModule(id) { return nodeBuiltin(String(id)); },
  features: {},
};

// Fills process.env from the worker's env: its string values (vars and secrets), as Cloudflare
// does with nodejs_compat_populate_process_env.
function populateProcessEnv(env) {
  for (const [key, value] of Object.entries(env)) {
    if (typeof value === "string") nodeProcess.env[key] = value;
  }
}

function installProcessGlobal() {
  Object.defineProperty(globalThis, "process", { value: nodeProcess, writable: true, configurable: true, enumerable: false });
}

