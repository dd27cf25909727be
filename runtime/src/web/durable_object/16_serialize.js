// Durable Object values and RPC messages as text: the structured clone algorithm's types
// (objects, arrays, primitives, BigInt, Date, RegExp, Map, Set, ArrayBuffer, typed arrays,
// DataView, Error, boxed primitives), with cycles and shared references preserved, written as
// tagged JSON. Functions and symbols throw DataCloneError, as V8's serializer does.
const SERIAL_TYPED = { Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array };
const SERIAL_ERRORS = { Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError };

function bytesToBase64(bytes) {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x2000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x2000));
  }
  return btoa(binary);
}

function base64ToBytes(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

// The size of `value` in V8's serialization format (what Cloudflare's limits measure: values,
// attachments), estimated from the types V8 writes: Kiln's own text encoding is larger for
// binary data (base64) and non-Latin-1 text (UTF-8), and smaller for small integers. Stops
// counting once past `limit`.
function varintBytes(n) {
  let bytes = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    bytes++;
  }
  return bytes;
}
function v8StringBytes(text) {
  // (A string the native count refuses holds a lone surrogate: two bytes a character.)
  const oneByte = ops.op_text_bytes(text, true)[1] === 1;
  const bytes = oneByte ? text.length : text.length * 2;
  return 1 + varintBytes(bytes) + bytes + (oneByte ? 0 : 1);
}
function v8SerializedBytes(root, limit = Infinity) {
  let size = 2; // version header
  const seen = new Set();
  const stack = [root];
  while (stack.length > 0 && size <= limit) {
    const v = stack.pop();
    switch (typeof v) {
      case "string": size += v8StringBytes(v); continue;
      case "number": size += Number.isInteger(v) && Math.abs(v) < 2 ** 30 ? 1 + varintBytes(Math.abs(v) * 2) : 9; continue;
      case "bigint": size += 2 + Math.ceil((v < 0n ? -v : v).toString(16).length / 16) * 8; continue;
      case "boolean": case "undefined": size += 1; continue;
    }
    if (v === null || (typeof v !== "object" && typeof v !== "function")) {
      size += 1;
      continue;
    }
    if (seen.has(v)) {
      size += 1 + varintBytes(seen.size);
      continue;
    }
    seen.add(v);
    if (v instanceof ArrayBuffer) {
      size += 1 + varintBytes(v.byteLength) + v.byteLength;
    } else if (ArrayBuffer.isView(v)) {
      // V8 writes the whole underlying buffer, then the view over it.
      if (!seen.has(v.buffer)) {
        seen.add(v.buffer);
        size += 1 + varintBytes(v.buffer.byteLength) + v.buffer.byteLength;
      }
      size += 2 + varintBytes(v.byteOffset) + varintBytes(v.byteLength) + 1;
    } else if (v instanceof Date) {
      size += 9;
    } else if (v instanceof RegExp) {
      size += 1 + v8StringBytes(v.source) + 1;
    } else if (v instanceof Map) {
      size += 2 + varintBytes(v.size * 2);
      v.forEach((value, key) => stack.push(key, value));
    } else if (v instanceof Set) {
      size += 2 + varintBytes(v.size);
      v.forEach((value) => stack.push(value));
    } else if (Array.isArray(v)) {
      size += 2 + varintBytes(v.length) * 2 + 1;
      for (let i = 0; i < v.length; i++) stack.push(v[i]);
    } else if (v instanceof Error) {
      size += 2 + v8StringBytes(String(v.message)) + (typeof v.stack === "string" ? v8StringBytes(v.stack) + 1 : 0);
    } else {
      const keys = Object.keys(v);
      size += 2 + varintBytes(keys.length);
      for (const key of keys) {
        size += v8StringBytes(key);
        stack.push(v[key]);
      }
    }
  }
  return size;
}

// `exporter` (RPC messages only): turns a function, RpcTarget or stub into a reference, or
// returns undefined for anything else.
function serializeValue(value, exporter = undefined) {
  const seen = new Map();
  let next = 0;
  function fail(v) {
    return new DOMException(`${typeof v === "function" ? "function" : String(v)} could not be cloned.`, "DataCloneError");
  }
  function enc(v) {
    switch (typeof v) {
      case "string":
      case "boolean":
        return v;
      case "number":
        return Number.isFinite(v) && !Object.is(v, -0) ? v : ["n", Object.is(v, -0) ? "-0" : String(v)];
      case "undefined":
        return ["u"];
      case "bigint":
        return ["b", v.toString()];
      case "symbol":
        throw fail(v);
      case "function": {
        const reference = exporter?.(v);
        if (reference !== undefined) return reference;
        throw fail(v);
      }
    }
    if (v === null) return null;
    if (exporter !== undefined) {
      const reference = exporter(v);
      if (reference !== undefined) return reference;
    }
    if (seen.has(v)) return ["@", seen.get(v)];
    const id = next++;
    seen.set(v, id);
    if (Array.isArray(v)) {
      const items = new Array(v.length);
      for (let i = 0; i < v.length; i++) items[i] = enc(v[i]);
      return ["a", id, items];
    }
    if (v instanceof Date) return ["d", id, v.getTime()];
    if (v instanceof RegExp) return ["r", id, v.source, v.flags];
    if (v instanceof Map) {
      const entries = [];
      for (const [key, item] of v) entries.push([enc(key), enc(item)]);
      return ["m", id, entries];
    }
    if (v instanceof Set) {
      const items = [];
      for (const item of v) items.push(enc(item));
      return ["s", id, items];
    }
    if (v instanceof ArrayBuffer) return ["ab", id, bytesToBase64(new Uint8Array(v))];
    if (v instanceof DataView) return ["dv", id, enc(v.buffer), v.byteOffset, v.byteLength];
    if (ArrayBuffer.isView(v)) {
      const type = Object.keys(SERIAL_TYPED).find((name) => v instanceof SERIAL_TYPED[name]);
      if (!type) throw fail(v);
      return ["t", id, type, enc(v.buffer), v.byteOffset, v.length];
    }
    if (v instanceof Error) {
      const known = SERIAL_ERRORS[v.name] !== undefined;
      const name = known ? v.name : "Error";
      // Over RPC, as workerd does: another class's name goes into the message, and an
      // `overloaded` flag survives.
      const message = exporter !== undefined && !known ? `${v.name}: ${v.message}` : String(v.message);
      const flags = exporter !== undefined && v.overloaded === true ? { overloaded: true } : null;
      return ["e", id, name, message, v.stack === undefined ? null : String(v.stack), flags];
    }
    if (v instanceof Boolean || v instanceof Number || v instanceof String) return ["B", id, enc(v.valueOf())];
    if (typeof v.then === "function" || v instanceof Promise) throw fail(v);
    if (v instanceof WeakMap || v instanceof WeakSet) throw fail(v);
    const fields = {};
    for (const key of Object.keys(v)) fields[key] = enc(v[key]);
    return ["o", id, fields];
  }
  return JSON.stringify(enc(value));
}

// `importer` (RPC messages only): makes the stub of a reference `serializeValue`'s exporter wrote.
function deserializeValue(text, importer = undefined) {
  const refs = [];
  function dec(x) {
    if (x === null || typeof x !== "object") return x;
    if (!Array.isArray(x)) throw new TypeError("Corrupt serialized value.");
    switch (x[0]) {
      case "n": return Number(x[1]);
      case "u": return undefined;
      case "b": return BigInt(x[1]);
      case "@": return refs[x[1]];
      case "a": {
        const out = new Array(x[2].length);
        refs[x[1]] = out;
        for (let i = 0; i < x[2].length; i++) out[i] = dec(x[2][i]);
        return out;
      }
      case "d": return (refs[x[1]] = new Date(x[2]));
      case "r": return (refs[x[1]] = new RegExp(x[2], x[3]));
      case "m": {
        const out = new Map();
        refs[x[1]] = out;
        for (const [key, item] of x[2]) out.set(dec(key), dec(item));
        return out;
      }
      case "s": {
        const out = new Set();
        refs[x[1]] = out;
        for (const item of x[2]) out.add(dec(item));
        return out;
      }
      case "ab": return (refs[x[1]] = base64ToBytes(x[2]).buffer);
      case "dv": {
        const slot = x[1];
        const buffer = dec(x[2]);
        return (refs[slot] = new DataView(buffer, x[3], x[4]));
      }
      case "t": {
        const slot = x[1];
        const buffer = dec(x[3]);
        return (refs[slot] = new SERIAL_TYPED[x[2]](buffer, x[4], x[5]));
      }
      case "e": {
        const out = new (SERIAL_ERRORS[x[2]] ?? Error)(x[3]);
        if (x[4] !== null) out.stack = x[4];
        if (importer !== undefined) {
          // An error that crossed RPC says so, as on Cloudflare.
          if (x[5]?.overloaded === true) out.overloaded = true;
          out.remote = true;
        }
        return (refs[x[1]] = out);
      }
      case "B": return (refs[x[1]] = Object(dec(x[2])));
      case "x":
      case "R":
      case "P":
      case "S":
      case "Q":
      case "F":
        if (importer === undefined) break;
        return importer(x);
      case "o": {
        const out = {};
        refs[x[1]] = out;
        for (const key of Object.keys(x[2])) out[key] = dec(x[2][key]);
        return out;
      }
    }
    throw new TypeError("Corrupt serialized value.");
  }
  return dec(JSON.parse(text));
}
