// structuredClone: the HTML structured clone algorithm over the types workers use, with cycles
// and shared references preserved. ArrayBuffers in the transfer list are detached once the
// clone is made (their bytes are copied into it: the result is the same, only not zero-copy).
const TYPED_ARRAYS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array];
const ERROR_TYPES = { Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError };

function structuredClone(value, options = undefined) {
  const transfer = [];
  if (options?.transfer !== undefined && options?.transfer !== null) {
    for (const item of options.transfer) {
      if (!(item instanceof ArrayBuffer)) throw new DOMException("Value not transferable", "DataCloneError");
      if (transfer.includes(item)) throw new DOMException(`ArrayBuffer at index ${transfer.length} is a duplicate of an earlier ArrayBuffer. Duplicate ArrayBuffers are not allowed.`, "DataCloneError");
      if (item.detached) throw new DOMException("An ArrayBuffer is detached and could not be cloned.", "DataCloneError");
      transfer.push(item);
    }
  }
  const memory = new Map();
  function uncloneable(v) {
    return new DOMException(`${typeof v === "function" ? "function" : Object.prototype.toString.call(v)} could not be cloned.`, "DataCloneError");
  }
  function clone(v) {
    if (v === null || (typeof v !== "object" && typeof v !== "function")) {
      if (typeof v === "symbol") throw uncloneable(v);
      return v;
    }
    if (typeof v === "function") throw uncloneable(v);
    if (memory.has(v)) return memory.get(v);
    let out;
    if (v instanceof Boolean) out = new Boolean(v.valueOf());
    else if (v instanceof Number) out = new Number(v.valueOf());
    else if (v instanceof String) out = new String(v.valueOf());
    else if (typeof BigInt !== "undefined" && v instanceof Object && Object.prototype.toString.call(v) === "[object BigInt]") out = Object(v.valueOf());
    else if (v instanceof Date) out = new Date(v.getTime());
    else if (v instanceof RegExp) out = new RegExp(v.source, v.flags);
    else if (v instanceof ArrayBuffer) out = v.slice(0);
    else if (v instanceof DataView) {
      out = new DataView(clone(v.buffer), v.byteOffset, v.byteLength);
    } else if (ArrayBuffer.isView(v)) {
      const T = TYPED_ARRAYS.find((T) => v instanceof T);
      if (!T) throw uncloneable(v);
      memory.set(v, null);
      out = new T(clone(v.buffer), v.byteOffset, v.length);
    } else if (v instanceof Map) {
      out = new Map();
      memory.set(v, out);
      for (const [k, val] of v) out.set(clone(k), clone(val));
      return out;
    } else if (v instanceof Set) {
      out = new Set();
      memory.set(v, out);
      for (const k of v) out.add(clone(k));
      return out;
    } else if (v instanceof Error) {
      const name = Object.prototype.hasOwnProperty.call(ERROR_TYPES, v.name) ? v.name : "Error";
      out = new ERROR_TYPES[name](v.message);
      memory.set(v, out);
      if (v.stack !== undefined) Object.defineProperty(out, "stack", { value: String(v.stack), writable: true, configurable: true });
      if ("cause" in v) out.cause = clone(v.cause);
      return out;
    } else if (v instanceof Blob) {
      out = v instanceof File ? new File([v], v.name, { type: v.type, lastModified: v.lastModified }) : new Blob([v], { type: v.type });
    } else if (Array.isArray(v)) {
      out = new Array(v.length);
      memory.set(v, out);
      for (const key of Object.keys(v)) out[key] = clone(v[key]);
      return out;
    } else {
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        const tag = Object.prototype.toString.call(v);
        if (tag !== "[object Object]" || typeof v.constructor === "function" && v.constructor !== Object) {
          if (v instanceof Promise || v instanceof WeakMap || v instanceof WeakSet || v instanceof ReadableStream || v instanceof Request || v instanceof Response) throw uncloneable(v);
        }
      }
      out = {};
      memory.set(v, out);
      for (const key of Object.keys(v)) out[key] = clone(v[key]);
      return out;
    }
    memory.set(v, out);
    return out;
  }
  const result = clone(value);
  for (const buffer of transfer) buffer.transfer();
  return result;
}

Object.defineProperty(globalThis, "structuredClone", { value: structuredClone, writable: true, configurable: true, enumerable: false });
