// Node's Buffer, for workers with the `nodejs_compat` flag (`import { Buffer } from
// "node:buffer"`, and the global `Buffer`): a Uint8Array with Node's encodings and helpers.
const BUFFER_MAX_LENGTH = 2 ** 31 - 1;
const BUFFER_ENCODINGS = new Map([
  ["utf8", "utf8"], ["utf-8", "utf8"], ["hex", "hex"], ["base64", "base64"], ["base64url", "base64url"],
  ["latin1", "latin1"], ["binary", "latin1"], ["ascii", "ascii"],
  ["ucs2", "utf16le"], ["ucs-2", "utf16le"], ["utf16le", "utf16le"], ["utf-16le", "utf16le"],
]);
const bufferUtf8Decoder = new TextDecoder();
const bufferUtf8Encoder = new TextEncoder();

function bufferEncoding(encoding) {
  if (encoding === undefined || encoding === null) return "utf8";
  const found = BUFFER_ENCODINGS.get(String(encoding).toLowerCase());
  if (found === undefined) throw new TypeError(`Unknown encoding: ${encoding}`);
  return found;
}

function binaryString(bytes) {
  let out = "";
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
  return out;
}

function encodeBufferString(text, encoding) {
  text = String(text);
  switch (bufferEncoding(encoding)) {
    case "utf8": return bufferUtf8Encoder.encode(text);
    case "hex": {
      const n = text.length >>> 1;
      const out = new Uint8Array(n);
      let i = 0;
      for (; i < n; i++) {
        const byte = parseInt(text.substr(i * 2, 2), 16);
        if (Number.isNaN(byte)) break; // Node stops at the first pair that is not hex
        out[i] = byte;
      }
      return out.subarray(0, i);
    }
    case "base64":
    case "base64url": {
      let b64 = text.replace(/[^A-Za-z0-9+/\-_]/g, "").replace(/-/g, "+").replace(/_/g, "/");
      b64 += "=".repeat((4 - (b64.length % 4)) % 4);
      if (b64.length % 4 === 0 && b64.endsWith("===")) b64 = b64.slice(0, -4);
      const raw = atob(b64);
      const out = new Uint8Array(raw.length);
      for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
      return out;
    }
    case "latin1":
    case "ascii": {
      const out = new Uint8Array(text.length);
      for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 255;
      return out;
    }
    case "utf16le": {
      const out = new Uint8Array(text.length * 2);
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        out[i * 2] = c & 255;
        out[i * 2 + 1] = c >>> 8;
      }
      return out;
    }
  }
}

function decodeBufferBytes(bytes, encoding) {
  switch (bufferEncoding(encoding)) {
    case "utf8": return bufferUtf8Decoder.decode(bytes);
    case "hex": {
      let out = "";
      for (let i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
      return out;
    }
    case "base64": return btoa(binaryString(bytes));
    case "base64url": return btoa(binaryString(bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    case "latin1": return binaryString(bytes);
    case "ascii": {
      let out = "";
      for (let i = 0; i < bytes.length; i++) out += String.fromCharCode(bytes[i] & 127);
      return out;
    }
    case "utf16le": {
      let out = "";
      for (let i = 0; i + 1 < bytes.length; i += 2) out += String.fromCharCode(bytes[i] | (bytes[i + 1] << 8));
      return out;
    }
  }
}

function checkBufferSize(size) {
  if (typeof size !== "number" || !(size >= 0) || size > BUFFER_MAX_LENGTH) {
    throw new RangeError(`The argument 'size' is invalid. Received ${size}`);
  }
  return Math.floor(size);
}

function clampIndex(value, length, fallback) {
  if (value === undefined) return fallback;
  value = Math.trunc(Number(value)) || 0;
  if (value < 0) value = Math.max(0, length + value);
  return Math.min(value, length);
}

class KilnBuffer extends Uint8Array {
  static from(value, encodingOrOffset = undefined, length = undefined) {
    if (typeof value === "string") return KilnBuffer.#wrap(encodeBufferString(value, encodingOrOffset));
    if (value instanceof ArrayBuffer) {
      const offset = encodingOrOffset === undefined ? 0 : Number(encodingOrOffset);
      return new KilnBuffer(value, offset, length === undefined ? value.byteLength - offset : Number(length));
    }
    if (ArrayBuffer.isView(value)) {
      const out = new KilnBuffer(value.byteLength);
      out.set(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      return out;
    }
    if (value !== null && typeof value === "object") {
      if (value.type === "Buffer" && Array.isArray(value.data)) return Buffer.from(value.data);
      if (typeof value.length === "number") {
        const out = new KilnBuffer(value.length);
        for (let i = 0; i < value.length; i++) out[i] = Number(value[i]) & 255;
        return out;
      }
    }
    throw new TypeError("The first argument must be of type string or an instance of Buffer, ArrayBuffer, or Array or an Array-like Object.");
  }
  static #wrap(bytes) {
    return new KilnBuffer(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  static alloc(size, fill = undefined, encoding = undefined) {
    const out = new KilnBuffer(checkBufferSize(size));
    if (fill !== undefined && fill !== 0) out.fill(fill, 0, out.length, encoding);
    return out;
  }
  static allocUnsafe(size) { return new KilnBuffer(checkBufferSize(size)); }
  static allocUnsafeSlow(size) { return new KilnBuffer(checkBufferSize(size)); }
  static byteLength(value, encoding = undefined) {
    if (typeof value === "string") return encodeBufferString(value, encoding).length;
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value.byteLength;
    throw new TypeError("The \"string\" argument must be of type string or an instance of Buffer or ArrayBuffer.");
  }
  static isBuffer(value) { return value instanceof Buffer; }
  static isEncoding(encoding) { return typeof encoding === "string" && BUFFER_ENCODINGS.has(encoding.toLowerCase()); }
  static concat(list, totalLength = undefined) {
    if (!Array.isArray(list)) throw new TypeError("The \"list\" argument must be an instance of Array.");
    const total = totalLength ?? list.reduce((n, b) => n + b.length, 0);
    const out = Buffer.alloc(total);
    let at = 0;
    for (const part of list) {
      if (at >= total) break;
      const bytes = part instanceof Uint8Array ? part : Buffer.from(part);
      out.set(bytes.subarray(0, total - at), at);
      at += Math.min(bytes.length, total - at);
    }
    return out;
  }
  static compare(a, b) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
    return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
  }
  get parent() { return this.buffer; }
  toString(encoding = undefined, start = undefined, end = undefined) {
    const from = clampIndex(start, this.length, 0);
    const to = clampIndex(end, this.length, this.length);
    return decodeBufferBytes(this.subarray(from, Math.max(from, to)), encoding);
  }
  toJSON() { return { type: "Buffer", data: Array.from(this) }; }
  equals(other) {
    if (!(other instanceof Uint8Array)) throw new TypeError("The \"otherBuffer\" argument must be an instance of Buffer or Uint8Array.");
    return Buffer.compare(this, other) === 0;
  }
  compare(target) { return Buffer.compare(this, target); }
  write(text, offset = 0, length = undefined, encoding = undefined) {
    if (typeof offset === "string") { encoding = offset; offset = 0; length = undefined; }
    else if (typeof length === "string") { encoding = length; length = undefined; }
    const bytes = encodeBufferString(text, encoding);
    const n = Math.min(bytes.length, this.length - offset, length ?? Infinity);
    this.set(bytes.subarray(0, n), offset);
    return n;
  }
  fill(value, offset = undefined, end = undefined, encoding = undefined) {
    if (typeof offset === "string") { encoding = offset; offset = undefined; end = undefined; }
    const from = clampIndex(offset, this.length, 0);
    const to = clampIndex(end, this.length, this.length);
    if (typeof value === "string" || value instanceof Uint8Array) {
      const bytes = typeof value === "string" ? encodeBufferString(value, encoding) : value;
      if (bytes.length === 0) return super.fill(0, from, to);
      for (let i = from; i < to; i++) this[i] = bytes[(i - from) % bytes.length];
      return this;
    }
    return super.fill(Number(value) & 255, from, to);
  }
  indexOf(value, byteOffset = 0, encoding = undefined) {
    if (typeof value === "number") return super.indexOf(value & 255, byteOffset);
    const needle = typeof value === "string" ? encodeBufferString(value, encoding) : value;
    const start = clampIndex(byteOffset, this.length, 0);
    outer: for (let i = start; i + needle.length <= this.length; i++) {
      for (let j = 0; j < needle.length; j++) if (this[i + j] !== needle[j]) continue outer;
      return i;
    }
    return -1;
  }
  includes(value, byteOffset = 0, encoding = undefined) { return this.indexOf(value, byteOffset, encoding) !== -1; }
  slice(start = undefined, end = undefined) { return this.subarray(start, end); }
  copy(target, targetStart = 0, sourceStart = 0, sourceEnd = this.length) {
    const bytes = this.subarray(sourceStart, sourceEnd);
    const n = Math.min(bytes.length, target.length - targetStart);
    target.set(bytes.subarray(0, n), targetStart);
    return n;
  }
}

// Node's Buffer is a function: callable without `new` (deprecated, but safer-buffer and the
// libraries built on it call it), whose statics are plain enumerable functions (libraries copy
// them with for-in, and `new Buffer.allocUnsafeSlow(n)` works), and whose prototype is the
// class's: `instanceof Buffer` and the typed array species give Buffers.
function Buffer(arg, encodingOrOffset = undefined, length = undefined) {
  if (typeof arg === "number") return KilnBuffer.alloc(arg);
  return KilnBuffer.from(arg, encodingOrOffset, length);
}
Buffer.prototype = KilnBuffer.prototype;
Object.defineProperty(KilnBuffer.prototype, "constructor", { value: Buffer, writable: true, configurable: true, enumerable: false });
Object.setPrototypeOf(Buffer, Uint8Array);
for (const name of Object.getOwnPropertyNames(KilnBuffer)) {
  if (name === "length" || name === "name" || name === "prototype") continue;
  const value = KilnBuffer[name];
  if (typeof value !== "function") {
    Buffer[name] = value;
    continue;
  }
  const wrapper = function (...args) { return value.apply(KilnBuffer, args); };
  Object.defineProperty(wrapper, "name", { value: name });
  Buffer[name] = wrapper;
}
Buffer.poolSize = 8192;

// readUInt8 ... writeDoubleBE, on a DataView over the same memory.
for (const [name, size, get, set, little] of [
  ["UInt8", 1, "getUint8", "setUint8"], ["Int8", 1, "getInt8", "setInt8"],
  ["UInt16LE", 2, "getUint16", "setUint16", true], ["UInt16BE", 2, "getUint16", "setUint16", false],
  ["Int16LE", 2, "getInt16", "setInt16", true], ["Int16BE", 2, "getInt16", "setInt16", false],
  ["UInt32LE", 4, "getUint32", "setUint32", true], ["UInt32BE", 4, "getUint32", "setUint32", false],
  ["Int32LE", 4, "getInt32", "setInt32", true], ["Int32BE", 4, "getInt32", "setInt32", false],
  ["FloatLE", 4, "getFloat32", "setFloat32", true], ["FloatBE", 4, "getFloat32", "setFloat32", false],
  ["DoubleLE", 8, "getFloat64", "setFloat64", true], ["DoubleBE", 8, "getFloat64", "setFloat64", false],
  ["BigUInt64LE", 8, "getBigUint64", "setBigUint64", true], ["BigUInt64BE", 8, "getBigUint64", "setBigUint64", false],
  ["BigInt64LE", 8, "getBigInt64", "setBigInt64", true], ["BigInt64BE", 8, "getBigInt64", "setBigInt64", false],
]) {
  const check = (buf, offset) => {
    if (!Number.isInteger(offset) || offset < 0 || offset + size > buf.length) {
      throw new RangeError(`The value of "offset" is out of range. It must be >= 0 and <= ${buf.length - size}. Received ${offset}`);
    }
  };
  const view = (buf) => new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  Object.defineProperty(Buffer.prototype, `read${name}`, {
    value(offset = 0) { check(this, offset); return view(this)[get](offset, little); },
    writable: true, configurable: true,
  });
  Object.defineProperty(Buffer.prototype, `write${name}`, {
    value(value, offset = 0) { check(this, offset); view(this)[set](offset, value, little); return offset + size; },
    writable: true, configurable: true,
  });
  if (name.includes("UInt")) {
    const alias = name.replace("UInt", "Uint");
    Object.defineProperty(Buffer.prototype, `read${alias}`, { value: Buffer.prototype[`read${name}`], writable: true, configurable: true });
    Object.defineProperty(Buffer.prototype, `write${alias}`, { value: Buffer.prototype[`write${name}`], writable: true, configurable: true });
  }
}

// Node's internal per-encoding methods, which busboy, multer-style parsers and others call
// directly (`buf.latin1Slice(start, end)`, `buf.utf8Write(string, offset)`).
for (const [name, encoding] of [["latin1", "latin1"], ["utf8", "utf8"], ["ascii", "ascii"], ["hex", "hex"], ["base64", "base64"], ["base64url", "base64url"], ["ucs2", "utf16le"]]) {
  Object.defineProperty(KilnBuffer.prototype, `${name}Slice`, {
    value(start = 0, end = this.length) { return this.toString(encoding, start, end); },
    writable: true, configurable: true,
  });
  Object.defineProperty(KilnBuffer.prototype, `${name}Write`, {
    value(string, offset = 0, length = this.length - offset) { return this.write(string, offset, length, encoding); },
    writable: true, configurable: true,
  });
}
Object.defineProperty(KilnBuffer.prototype, "offset", { get() { return this.byteOffset; }, configurable: true });

// What `node:buffer` exports.
const nodeBuffer = {
  Buffer,
  kMaxLength: BUFFER_MAX_LENGTH,
  kStringMaxLength: 2 ** 29 - 24,
  constants: { MAX_LENGTH: BUFFER_MAX_LENGTH, MAX_STRING_LENGTH: 2 ** 29 - 24 },
  SlowBuffer: Buffer,
  atob: (...args) => atob(...args),
  btoa: (...args) => btoa(...args),
  Blob: globalThis.Blob,
  File: globalThis.File,
  resolveObjectURL: () => undefined,
};

// With `nodejs_compat`, Buffer is also a global (installCompat calls this).
function installNodeGlobals() {
  Object.defineProperty(globalThis, "Buffer", { value: Buffer, writable: true, configurable: true, enumerable: false });
  installProcessGlobal();
  // As workerd does under nodejs_compat (wrangler's unenv preset leaves them to the runtime).
  Object.defineProperty(globalThis, "global", { value: globalThis, writable: true, configurable: true, enumerable: false });
  for (const name of ["setImmediate", "clearImmediate"]) {
    Object.defineProperty(globalThis, name, { value: nodeTimers[name], writable: true, configurable: true, enumerable: false });
  }
}

