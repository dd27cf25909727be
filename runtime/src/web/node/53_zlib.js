// `node:zlib` for `nodejs_compat` workers: deflate, inflate, gzip, gunzip, raw deflate and
// unzip (gzip or zlib, by their header) as synchronous calls, callbacks, promises-free
// callbacks and Transform streams, over the same Rust codec as CompressionStream
// (web/compression/mod.rs), with Node's constants, errors (`Z_DATA_ERROR`) and `crc32`;
// Brotli likewise (its quality from `params[BROTLI_PARAM_QUALITY]`). Zstandard is not
// available: its functions throw.

const zlibConstants = {
  Z_NO_FLUSH: 0, Z_PARTIAL_FLUSH: 1, Z_SYNC_FLUSH: 2, Z_FULL_FLUSH: 3, Z_FINISH: 4, Z_BLOCK: 5,
  Z_OK: 0, Z_STREAM_END: 1, Z_NEED_DICT: 2, Z_ERRNO: -1, Z_STREAM_ERROR: -2, Z_DATA_ERROR: -3,
  Z_MEM_ERROR: -4, Z_BUF_ERROR: -5, Z_VERSION_ERROR: -6,
  Z_NO_COMPRESSION: 0, Z_BEST_SPEED: 1, Z_BEST_COMPRESSION: 9, Z_DEFAULT_COMPRESSION: -1,
  Z_FILTERED: 1, Z_HUFFMAN_ONLY: 2, Z_RLE: 3, Z_FIXED: 4, Z_DEFAULT_STRATEGY: 0, ZLIB_VERNUM: 4865,
  DEFLATE: 1, INFLATE: 2, GZIP: 3, GUNZIP: 4, DEFLATERAW: 5, INFLATERAW: 6, UNZIP: 7,
  BROTLI_DECODE: 8, BROTLI_ENCODE: 9,
  Z_MIN_WINDOWBITS: 8, Z_MAX_WINDOWBITS: 15, Z_DEFAULT_WINDOWBITS: 15,
  Z_MIN_CHUNK: 64, Z_MAX_CHUNK: Infinity, Z_DEFAULT_CHUNK: 16384,
  Z_MIN_MEMLEVEL: 1, Z_MAX_MEMLEVEL: 9, Z_DEFAULT_MEMLEVEL: 8,
  Z_MIN_LEVEL: -1, Z_MAX_LEVEL: 9, Z_DEFAULT_LEVEL: -1,
  BROTLI_OPERATION_PROCESS: 0, BROTLI_OPERATION_FLUSH: 1, BROTLI_OPERATION_FINISH: 2,
  BROTLI_OPERATION_EMIT_METADATA: 3, BROTLI_PARAM_MODE: 0, BROTLI_MODE_GENERIC: 0,
  BROTLI_MODE_TEXT: 1, BROTLI_MODE_FONT: 2, BROTLI_PARAM_QUALITY: 1, BROTLI_MIN_QUALITY: 0,
  BROTLI_MAX_QUALITY: 11, BROTLI_DEFAULT_QUALITY: 11, BROTLI_PARAM_LGWIN: 2,
  BROTLI_PARAM_SIZE_HINT: 5,
};

// The codec formats of each mode; "unzip" picks gzip or zlib by the first bytes.
const ZLIB_MODES = {
  Deflate: [false, "deflate"], Inflate: [true, "deflate"], Gzip: [false, "gzip"],
  Gunzip: [true, "gzip"], DeflateRaw: [false, "deflate-raw"], InflateRaw: [true, "deflate-raw"],
  Unzip: [true, "unzip"], BrotliCompress: [false, "br"], BrotliDecompress: [true, "br"],
};

function zlibBytes(buffer, name) {
  if (typeof buffer === "string") return nodeBuffer.Buffer.from(buffer);
  if (buffer instanceof ArrayBuffer) return new Uint8Array(buffer);
  if (ArrayBuffer.isView(buffer)) return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  throw nodeStreamError("ERR_INVALID_ARG_TYPE", `The "buffer" argument must be of type string or an instance of Buffer, TypedArray, DataView, or ArrayBuffer. Received ${buffer === null ? "null" : typeof buffer}`, TypeError);
}

function zlibError(err, format = undefined) {
  const message = String(err?.message ?? err).replace(/^Decompression failed: /, "");
  // workerd's Brotli errors carry no zlib code.
  if (format === "br") return new Error(message.includes("unexpected end") ? "Unexpected end of file" : "Decompression failed");
  const wrapped = new Error(message.includes("stopped early") || message.includes("unexpected end") ? "unexpected end of file" : message);
  wrapped.code = wrapped.message === "unexpected end of file" ? "Z_BUF_ERROR" : "Z_DATA_ERROR";
  wrapped.errno = wrapped.code === "Z_BUF_ERROR" ? -5 : -3;
  return wrapped;
}

// One direction of one format, fed chunk by chunk.
class ZlibCodec {
  #decompress;
  #format;
  #level;
  #codec = null;
  constructor(mode, options = {}) {
    [this.#decompress, this.#format] = ZLIB_MODES[mode];
    this.#level = this.#format === "br" ? options?.params?.[zlibConstants.BROTLI_PARAM_QUALITY] ?? -1 : options?.level ?? -1;
    if (this.#format !== "unzip") this.#codec = ops.op_compression_new(this.#decompress, this.#format, this.#level);
  }
  push(bytes) {
    if (this.#codec === null) {
      const gzip = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
      this.#codec = ops.op_compression_new(true, gzip ? "gzip" : "deflate", -1);
    }
    try {
      return nodeBuffer.Buffer.from(this.#codec.push(bytes));
    } catch (err) {
      throw zlibError(err, this.#format);
    }
  }
  flush() {
    if (this.#codec === null) return nodeBuffer.Buffer.alloc(0);
    try {
      return nodeBuffer.Buffer.from(this.#codec.flush());
    } catch (err) {
      throw zlibError(err, this.#format);
    }
  }
  finish() {
    if (this.#codec === null) return nodeBuffer.Buffer.alloc(0);
    try {
      return nodeBuffer.Buffer.from(this.#codec.finish());
    } catch (err) {
      throw zlibError(err, this.#format);
    }
  }
}

function zlibSync(mode) {
  return function sync(buffer, options) {
    const codec = new ZlibCodec(mode, options);
    const out = codec.push(zlibBytes(buffer));
    const rest = codec.finish();
    return rest.length ? nodeBuffer.Buffer.concat([out, rest]) : out;
  };
}

function zlibAsync(mode) {
  const sync = zlibSync(mode);
  return function async(buffer, options, callback) {
    if (typeof options === "function") { callback = options; options = {}; }
    if (typeof callback !== "function") throw nodeStreamError("ERR_INVALID_ARG_TYPE", 'The "callback" argument must be of type function.', TypeError);
    let result;
    let error = null;
    try { result = sync(buffer, options); } catch (err) { error = err; }
    queueMicrotask(() => (error ? callback(error) : callback(null, result)));
  };
}

function ZlibBase(mode, options) {
  Transform.call(this, { ...options, objectMode: false });
  this._zlibCodec = new ZlibCodec(mode, options);
  this.bytesWritten = 0;
  this._mode = mode;
}
Object.setPrototypeOf(ZlibBase.prototype, Transform.prototype);
Object.setPrototypeOf(ZlibBase, Transform);
// `flush()` writes one of these through the stream, so it takes effect after the writes before it.
const zlibFlushMarks = new WeakSet();
ZlibBase.prototype._transform = function _transform(chunk, encoding, callback) {
  try {
    if (zlibFlushMarks.has(chunk)) {
      const flushed = this._zlibCodec.flush();
      callback(null, flushed.length ? flushed : undefined);
      return;
    }
    const bytes = zlibBytes(chunk);
    this.bytesWritten += bytes.length;
    const out = this._zlibCodec.push(bytes);
    callback(null, out.length ? out : undefined);
  } catch (err) {
    callback(err);
  }
};
ZlibBase.prototype._flush = function _flush(callback) {
  try {
    const out = this._zlibCodec.finish();
    callback(null, out.length ? out : undefined);
  } catch (err) {
    callback(err);
  }
};
ZlibBase.prototype.flush = function flush(kind, callback) {
  if (typeof kind === "function") callback = kind;
  const done = typeof callback === "function" ? () => callback() : undefined;
  if (this.writableFinished) {
    if (done) queueMicrotask(done);
  } else if (this.writableEnded) {
    if (done) this.once("end", done);
  } else {
    const mark = nodeBuffer.Buffer.alloc(0);
    zlibFlushMarks.add(mark);
    this.write(mark, done);
  }
};
ZlibBase.prototype.params = function params(level, strategy, callback) {
  if (typeof callback === "function") queueMicrotask(callback);
};
ZlibBase.prototype.reset = function reset() {
  this._zlibCodec = new ZlibCodec(this._mode, {});
};
ZlibBase.prototype.close = function close(callback) {
  if (typeof callback === "function") this.once("close", callback);
  this.destroy();
};

const zlibClasses = {};
for (const mode of Object.keys(ZLIB_MODES)) {
  const Class = function (options) {
    if (!(this instanceof Class)) return new Class(options);
    ZlibBase.call(this, mode, options);
  };
  Object.defineProperty(Class, "name", { value: mode });
  Object.setPrototypeOf(Class.prototype, ZlibBase.prototype);
  Object.setPrototypeOf(Class, ZlibBase);
  zlibClasses[mode] = Class;
}

function zstdMissing(name) {
  return () => {
    throw nodeStreamError("ERR_METHOD_NOT_IMPLEMENTED", `zlib.${name} is not available in Kiln (no Zstandard codec)`);
  };
}

let crc32Table = null;
function zlibCrc32(data, value = 0) {
  if (crc32Table === null) {
    crc32Table = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crc32Table[n] = c;
    }
  }
  const bytes = zlibBytes(data);
  let crc = (value ^ -1) | 0;
  for (let i = 0; i < bytes.length; i++) crc = crc32Table[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

const nodeZlib = {
  constants: zlibConstants,
  crc32: zlibCrc32,
  ...zlibClasses,
  createDeflate: (o) => new zlibClasses.Deflate(o),
  createInflate: (o) => new zlibClasses.Inflate(o),
  createGzip: (o) => new zlibClasses.Gzip(o),
  createGunzip: (o) => new zlibClasses.Gunzip(o),
  createDeflateRaw: (o) => new zlibClasses.DeflateRaw(o),
  createInflateRaw: (o) => new zlibClasses.InflateRaw(o),
  createUnzip: (o) => new zlibClasses.Unzip(o),
  deflateSync: zlibSync("Deflate"), inflateSync: zlibSync("Inflate"),
  gzipSync: zlibSync("Gzip"), gunzipSync: zlibSync("Gunzip"),
  deflateRawSync: zlibSync("DeflateRaw"), inflateRawSync: zlibSync("InflateRaw"),
  unzipSync: zlibSync("Unzip"),
  deflate: zlibAsync("Deflate"), inflate: zlibAsync("Inflate"),
  gzip: zlibAsync("Gzip"), gunzip: zlibAsync("Gunzip"),
  deflateRaw: zlibAsync("DeflateRaw"), inflateRaw: zlibAsync("InflateRaw"),
  unzip: zlibAsync("Unzip"),
  createBrotliCompress: (o) => new zlibClasses.BrotliCompress(o),
  createBrotliDecompress: (o) => new zlibClasses.BrotliDecompress(o),
  brotliCompressSync: zlibSync("BrotliCompress"), brotliDecompressSync: zlibSync("BrotliDecompress"),
  brotliCompress: zlibAsync("BrotliCompress"), brotliDecompress: zlibAsync("BrotliDecompress"),
  ZstdCompress: zstdMissing("ZstdCompress"), ZstdDecompress: zstdMissing("ZstdDecompress"),
  createZstdCompress: zstdMissing("createZstdCompress"), createZstdDecompress: zstdMissing("createZstdDecompress"),
  zstdCompress: zstdMissing("zstdCompress"), zstdDecompress: zstdMissing("zstdDecompress"),
  zstdCompressSync: zstdMissing("zstdCompressSync"), zstdDecompressSync: zstdMissing("zstdDecompressSync"),
  codes: {
    Z_OK: 0, Z_STREAM_END: 1, Z_NEED_DICT: 2, Z_ERRNO: -1, Z_STREAM_ERROR: -2, Z_DATA_ERROR: -3,
    Z_MEM_ERROR: -4, Z_BUF_ERROR: -5, Z_VERSION_ERROR: -6,
    "0": "Z_OK", "1": "Z_STREAM_END", "2": "Z_NEED_DICT", "-1": "Z_ERRNO", "-2": "Z_STREAM_ERROR",
    "-3": "Z_DATA_ERROR", "-4": "Z_MEM_ERROR", "-5": "Z_BUF_ERROR", "-6": "Z_VERSION_ERROR",
  },
};
Object.assign(nodeZlib, zlibConstants);
