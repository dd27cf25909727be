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
  TextEncoder,
  TextDecoder,
};

