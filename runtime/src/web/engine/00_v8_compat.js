// Where QuickJS-ng differs from V8 in ways Workers code can see, made to look like V8:
// - `error.stack` starts with the `Name: message` line and lists the worker's own frames only
//   (Kiln's prelude has no file name);
// - `Symbol.dispose` and `Symbol.asyncDispose` exist (RPC stubs and `using` lowered by bundlers
//   call them);
// - a Date's `toString()` names its time zone, as V8 does for UTC (workers run in UTC).
// Native (runtime/src/web/engine/mod.rs says why).
Error.prepareStackTrace = ops.op_format_stack;

// QuickJS-ng has no WebAssembly. Cloudflare refuses to compile WebAssembly from bytes at run
// time, so code that tries gets a rejected promise there; here every entry point says why.
if (typeof globalThis.WebAssembly === "undefined") {
  const unsupported = () => new Error("WebAssembly is not supported by Kiln: its JavaScript engine (QuickJS-ng) has no WebAssembly.");
  const rejecting = () => Promise.reject(unsupported());
  const throwing = function () { throw unsupported(); };
  const errorClass = (name) => ({ [name]: class extends Error { constructor(message) { super(message); this.name = name; } } })[name];
  const WebAssembly = {
    compile: rejecting, compileStreaming: rejecting, instantiate: rejecting, instantiateStreaming: rejecting,
    validate: () => false,
    Module: throwing, Instance: throwing, Memory: throwing, Table: throwing, Global: throwing, Tag: throwing, Exception: throwing,
    CompileError: errorClass("CompileError"), LinkError: errorClass("LinkError"), RuntimeError: errorClass("RuntimeError"),
  };
  Object.defineProperty(WebAssembly, Symbol.toStringTag, { value: "WebAssembly" });
  Object.defineProperty(globalThis, "WebAssembly", { value: WebAssembly, writable: true, configurable: true, enumerable: false });
}

// llrt_url's URL and URL.canParse take only a string base; WHATWG URL converts any base (a
// URL object, anything with toString) to a string first.
{
  const NativeURL = globalThis.URL;
  const stringBase = (args) => {
    if (args.length > 1 && args[1] !== undefined && typeof args[1] !== "string") args[1] = String(args[1]);
    if (args.length > 0 && typeof args[0] !== "string" && !(args[0] instanceof NativeURL)) args[0] = String(args[0]);
    return args;
  };
  const canParse = NativeURL.canParse;
  const parse = NativeURL.parse;
  const URL = new Proxy(NativeURL, {
    construct(target, args, newTarget) {
      return Reflect.construct(target, stringBase(args), newTarget === URL ? target : newTarget);
    },
    get(target, name, receiver) {
      if (name === "canParse" && typeof canParse === "function") return (...args) => canParse.apply(target, stringBase(args));
      if (name === "parse" && typeof parse === "function") return (...args) => parse.apply(target, stringBase(args));
      return Reflect.get(target, name, receiver);
    },
  });
  Object.defineProperty(globalThis, "URL", { value: URL, writable: true, configurable: true, enumerable: false });
}

// V8 formats `error.stack` when it is first read, so a subclass that sets `this.name` (or
// `this.message`) after `super()` sees its own name in the first line ("TRPCError: ..."). QuickJS
// formats it at construction; so assigning `name` or `message` to an error rewrites that first
// line, and the value becomes the instance's own property, as an assignment makes it in V8.
{
  const header = (name, message) => (message === "" ? String(name) : `${name}: ${message}`);
  const redefine = (error, key, value, oldName, oldMessage) => {
    Object.defineProperty(error, key, { value, writable: true, enumerable: true, configurable: true });
    const stack = Object.getOwnPropertyDescriptor(error, "stack");
    if (stack === undefined || typeof stack.value !== "string" || !stack.writable) return;
    const before = header(oldName, String(oldMessage ?? ""));
    if (!stack.value.startsWith(before)) return;
    const after = header(key === "name" ? value : oldName, String(key === "message" ? value : oldMessage ?? ""));
    error.stack = after + stack.value.slice(before.length);
  };
  const natives = [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError];
  if (typeof AggregateError === "function") natives.push(AggregateError);
  // Each native error prototype has its own `name` and `message` (TypeError.prototype.message
  // is ""), so each gets the accessors.
  for (const NativeError of natives) {
    const proto = NativeError.prototype;
    for (const key of ["name", "message"]) {
      const own = Object.getOwnPropertyDescriptor(proto, key);
      if (own === undefined || !("value" in own)) continue;
      const base = own.value;
      Object.defineProperty(proto, key, {
        get() { return base; },
        set(value) {
          if (this === proto) {
            Object.defineProperty(proto, key, { value, writable: true, enumerable: false, configurable: true });
          } else {
            redefine(this, key, value, this.name, this.message);
          }
        },
        enumerable: false, configurable: true,
      });
    }
  }
}

for (const name of ["dispose", "asyncDispose"]) {
  if (typeof Symbol[name] !== "symbol") {
    Object.defineProperty(Symbol, name, { value: Symbol(`Symbol.${name}`), writable: false, enumerable: false, configurable: false });
  }
}

{
  const dateToString = Date.prototype.toString;
  const dateToTimeString = Date.prototype.toTimeString;
  const zoneName = (date) => (date.getTimezoneOffset() === 0 ? " (Coordinated Universal Time)" : "");
  Object.defineProperty(Date.prototype, "toString", {
    value: function toString() {
      const text = dateToString.call(this);
      return Number.isNaN(this.getTime()) ? text : text + zoneName(this);
    },
    writable: true, enumerable: false, configurable: true,
  });
  Object.defineProperty(Date.prototype, "toTimeString", {
    value: function toTimeString() {
      const text = dateToTimeString.call(this);
      return Number.isNaN(this.getTime()) ? text : text + zoneName(this);
    },
    writable: true, enumerable: false, configurable: true,
  });
}
