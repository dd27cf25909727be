// Node's `util` for `nodejs_compat` workers (`node:util`): promisify, callbackify, inherits,
// format/inspect (the console's), deprecate, types, and the encoders.
const kCustomPromisify = Symbol.for("nodejs.util.promisify.custom");

function promisify(original) {
  if (typeof original !== "function") throw new TypeError("The \"original\" argument must be of type function.");
  if (typeof original[kCustomPromisify] === "function") return original[kCustomPromisify];
  function promisified(...args) {
    return new Promise((resolve, reject) => {
      original.call(this, ...args, (err, ...values) => {
        if (err) reject(err);
        else resolve(values.length > 1 ? values : values[0]);
      });
    });
  }
  Object.setPrototypeOf(promisified, Object.getPrototypeOf(original));
  return promisified;
}
promisify.custom = kCustomPromisify;

function callbackify(original) {
  if (typeof original !== "function") throw new TypeError("The \"original\" argument must be of type function.");
  return function (...args) {
    const callback = args.pop();
    if (typeof callback !== "function") throw new TypeError("The last argument must be of type function.");
    original.apply(this, args).then((value) => callback(null, value), (err) => callback(err ?? new Error("Promise was rejected with a falsy value")));
  };
}

function inherits(constructor, superConstructor) {
  Object.defineProperty(constructor, "super_", { value: superConstructor, writable: true, configurable: true });
  Object.setPrototypeOf(constructor.prototype, superConstructor.prototype);
}

function deprecate(fn, message) {
  let warned = false;
  return function (...args) {
    if (!warned) { warned = true; console.warn(`DeprecationWarning: ${message}`); }
    return new.target ? Reflect.construct(fn, args, new.target) : fn.apply(this, args);
  };
}

const nodeUtilTypes = {
  isPromise: (v) => v instanceof Promise,
  isDate: (v) => v instanceof Date,
  isRegExp: (v) => v instanceof RegExp,
  isMap: (v) => v instanceof Map,
  isSet: (v) => v instanceof Set,
  isArrayBuffer: (v) => v instanceof ArrayBuffer,
  isAnyArrayBuffer: (v) => v instanceof ArrayBuffer,
  isArrayBufferView: (v) => ArrayBuffer.isView(v),
  isTypedArray: (v) => ArrayBuffer.isView(v) && !(v instanceof DataView),
  isUint8Array: (v) => v instanceof Uint8Array,
  isNativeError: (v) => v instanceof Error,
  isAsyncFunction: (v) => typeof v === "function" && v[Symbol.toStringTag] === "AsyncFunction",
  isGeneratorFunction: (v) => typeof v === "function" && /^(async\s+)?function\s*\*/.test(Function.prototype.toString.call(v)),
};

const nodeUtil = {
  promisify,
  callbackify,
  inherits,
  deprecate,
  format: (...args) => formatLog(args),
  inspect: (value) => (typeof value === "string" ? `'${value}'` : inspect(value)),
  isArray: Array.isArray,
  isDeepStrictEqual: (a, b) => {
    try { return JSON.stringify(structuredClone(a)) === JSON.stringify(structuredClone(b)); } catch { return a === b; }
  },
  types: nodeUtilTypes,
  // The deprecated type checks and helpers old libraries still call.
  _extend: (target, source) => (source === null || typeof source !== "object" ? target : Object.assign(target, source)),
  isBoolean: (v) => typeof v === "boolean",
  isBuffer: (v) => nodeBuffer.Buffer.isBuffer(v),
  isDate: (v) => v instanceof Date,
  isError: (v) => v instanceof Error,
  isFunction: (v) => typeof v === "function",
  isNull: (v) => v === null,
  isNullOrUndefined: (v) => v === null || v === undefined,
  isNumber: (v) => typeof v === "number",
  isObject: (v) => v !== null && typeof v === "object",
  isPrimitive: (v) => v === null || (typeof v !== "object" && typeof v !== "function"),
  isRegExp: (v) => v instanceof RegExp,
  isString: (v) => typeof v === "string",
  isSymbol: (v) => typeof v === "symbol",
  isUndefined: (v) => v === undefined,
  log: (...args) => {
    const d = new Date();
    const pad = (n) => String(n).padStart(2, "0");
    const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    console.log(`${d.getDate()} ${months[d.getMonth()]} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} - ${formatLog(args)}`);
  },
  getCallSites: () => [],
  // dotenv text to an object, as util.parseEnv does.
  parseEnv(text) {
    const out = {};
    for (const line of String(text).split(/\r?\n/)) {
      const m = /^\s*(?:export\s+)?([\w.-]+)\s*=\s*(.*)?\s*$/.exec(line);
      if (!m) continue;
      let value = (m[2] ?? "").trim();
      const quote = value[0];
      if ((quote === '"' || quote === "'" || quote === "`") && value.endsWith(quote) && value.length > 1) {
        value = value.slice(1, -1);
        if (quote === '"') value = value.replace(/\\n/g, "\n");
      } else {
        value = value.replace(/\s+#.*$/, "");
      }
      out[m[1]] = value;
    }
    return out;
  },
  TextEncoder,
  TextDecoder,
};

