// Where QuickJS-ng differs from V8 in ways Workers code can see, made to look like V8:
// - `error.stack` starts with the `Name: message` line and lists the worker's own frames only
//   (Kiln's prelude has no file name);
// - `Symbol.dispose` and `Symbol.asyncDispose` exist (RPC stubs and `using` lowered by bundlers
//   call them);
// - a Date's `toString()` names its time zone, as V8 does for UTC (workers run in UTC).
// Native (runtime/src/web/engine/mod.rs says why).
Error.prepareStackTrace = ops.op_format_stack;

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
