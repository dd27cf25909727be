// console: formats arguments the way browsers and workerd do and writes one line per call.
const inspect = (() => {
  function inspect(value, depth = 2, seen = new Set()) {
    switch (typeof value) {
      case "string": return JSON.stringify(value);
      case "number": return Object.is(value, -0) ? "-0" : String(value);
      case "bigint": return `${value}n`;
      case "undefined": return "undefined";
      case "boolean": return String(value);
      case "symbol": return value.toString();
      case "function": return value.name ? `[Function: ${value.name}]` : "[Function (anonymous)]";
    }
    if (value === null) return "null";
    if (seen.has(value)) return "[Circular]";
    if (value instanceof Error) {
      // V8's stack starts with the `Name: message` line (see the prelude's prepareStackTrace).
      const stack = typeof value.stack === "string" ? value.stack : "";
      if (stack !== "" && !stack.startsWith("    at")) return stack.trimEnd();
      return stack ? `${value.name}: ${value.message}\n${stack}`.trimEnd() : `${value.name}: ${value.message}`;
    }
    if (value instanceof Date) return isNaN(value) ? "Invalid Date" : value.toISOString();
    if (value instanceof RegExp) return String(value);
    if (depth < 0) return Array.isArray(value) ? "[Array]" : "[Object]";
    seen.add(value);
    try {
      if (Array.isArray(value)) {
        return `[ ${value.map((v) => inspect(v, depth - 1, seen)).join(", ")} ]`.replace("[  ]", "[]");
      }
      if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
        return `${value.constructor.name}(${value.length}) [ ${Array.from(value).join(", ")} ]`;
      }
      if (value instanceof Map) {
        const items = [...value].map(([k, v]) => `${inspect(k, depth - 1, seen)} => ${inspect(v, depth - 1, seen)}`);
        return `Map(${value.size}) { ${items.join(", ")} }`;
      }
      if (value instanceof Set) {
        return `Set(${value.size}) { ${[...value].map((v) => inspect(v, depth - 1, seen)).join(", ")} }`;
      }
      const keys = Object.keys(value);
      const name = value.constructor && value.constructor !== Object ? `${value.constructor.name} ` : "";
      if (keys.length === 0) return `${name}{}`;
      const body = keys.map((k) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${inspect(value[k], depth - 1, seen)}`);
      return `${name}{ ${body.join(", ")} }`;
    } finally {
      seen.delete(value);
    }
  }
  return inspect;
})();

function formatLog(args) {
  let first = args[0];
  let rest = 1;
  let out = "";
  if (typeof first === "string" && first.includes("%") && args.length > 1) {
    out = first.replace(/%[sdifoOjc%]/g, (token) => {
      if (token === "%%") return "%";
      if (rest >= args.length) return token;
      const arg = args[rest++];
      switch (token) {
        case "%s": return typeof arg === "string" ? arg : inspect(arg, 1);
        case "%d": case "%i": return String(parseInt(arg, 10));
        case "%f": return String(parseFloat(arg));
        case "%c": return "";
        case "%j": {
          try {
            return JSON.stringify(arg) ?? "undefined";
          } catch (err) {
            return err instanceof TypeError && /circular/i.test(err.message) ? "[Circular]" : String(err);
          }
        }
        default: return inspect(arg);
      }
    });
  } else {
    out = typeof first === "string" ? first : inspect(first);
  }
  for (let i = rest; i < args.length; i++) {
    const arg = args[i];
    out += " " + (typeof arg === "string" ? arg : inspect(arg));
  }
  return out;
}

{
  const counts = new Map();
  const timers = new Map();
  const write = (level) => (...args) => ops.op_console_write(level, args.length ? formatLog(args) : "");
  const console = {
    log: write("log"), info: write("info"), debug: write("debug"), trace: write("trace"),
    warn: write("warn"), error: write("error"),
    dir: (value) => ops.op_console_write("log", inspect(value)),
    table: write("log"),
    assert: (cond, ...args) => { if (!cond) ops.op_console_write("error", "Assertion failed" + (args.length ? ": " + formatLog(args) : "")); },
    count: (label = "default") => { const n = (counts.get(label) || 0) + 1; counts.set(label, n); ops.op_console_write("log", `${label}: ${n}`); },
    countReset: (label = "default") => counts.delete(label),
    time: (label = "default") => timers.set(label, performance.now()),
    timeEnd: (label = "default") => { const t = timers.get(label); timers.delete(label); if (t !== undefined) ops.op_console_write("log", `${label}: ${(performance.now() - t).toFixed(3)}ms`); },
    timeLog: (label = "default", ...args) => { const t = timers.get(label); if (t !== undefined) ops.op_console_write("log", `${label}: ${(performance.now() - t).toFixed(3)}ms ${formatLog(args)}`.trimEnd()); },
    group: write("log"), groupCollapsed: write("log"), groupEnd: () => {},
    dirxml: write("log"),
    // Inspector-only methods: nothing to show without a debugger attached.
    clear: () => {}, timeStamp: () => {}, profile: () => {}, profileEnd: () => {},
    // A task runs its callback as it is; a context logs as the console does.
    createTask: () => ({ run: (callback) => callback() }),
    context: () => console,
  };
  Object.defineProperty(globalThis, "console", { value: console, writable: true, configurable: true, enumerable: false });
}
