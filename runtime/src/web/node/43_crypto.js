// Node's `crypto` for `nodejs_compat` workers (`node:crypto`): hashes and HMACs (synchronous,
// on the same Rust digests as crypto.subtle), random bytes and UUIDs, timingSafeEqual, and
// the Web Crypto objects.
const NODE_HASHES = new Map([
  ["sha1", "SHA-1"], ["sha-1", "SHA-1"], ["sha256", "SHA-256"], ["sha-256", "SHA-256"],
  ["sha384", "SHA-384"], ["sha-384", "SHA-384"], ["sha512", "SHA-512"], ["sha-512", "SHA-512"],
  ["md5", "MD5"],
]);

function nodeHashName(algorithm) {
  const name = NODE_HASHES.get(String(algorithm).toLowerCase());
  if (name === undefined) throw new Error(`Digest method not supported: ${algorithm}`);
  return name;
}

function nodeBytes(data, encoding) {
  if (typeof data === "string") return encodeBufferString(data, encoding);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError("The \"data\" argument must be of type string or an instance of Buffer, TypedArray, or DataView.");
}

function nodeDigestOutput(bytes, encoding) {
  const buffer = Buffer.from(bytes);
  return encoding === undefined || encoding === "buffer" ? buffer : buffer.toString(encoding);
}

class Hash {
  #state;
  #done = false;
  constructor(algorithm) {
    this.#state = ops.op_crypto_digest_new(nodeHashName(algorithm));
  }
  update(data, inputEncoding = undefined) {
    if (this.#done) throw new Error("Digest already called");
    this.#state.update(nodeBytes(data, inputEncoding));
    return this;
  }
  digest(encoding = undefined) {
    if (this.#done) throw new Error("Digest already called");
    this.#done = true;
    return nodeDigestOutput(new Uint8Array(this.#state.finish()), encoding);
  }
}

class Hmac {
  #hash;
  #key;
  #chunks = [];
  #done = false;
  constructor(algorithm, key) {
    this.#hash = nodeHashName(algorithm);
    if (this.#hash === "MD5") throw new Error("Invalid digest: md5");
    this.#key = Uint8Array.from(nodeBytes(key));
  }
  update(data, inputEncoding = undefined) {
    if (this.#done) throw new Error("Digest already called");
    this.#chunks.push(Uint8Array.from(nodeBytes(data, inputEncoding)));
    return this;
  }
  digest(encoding = undefined) {
    if (this.#done) throw new Error("Digest already called");
    this.#done = true;
    const data = Buffer.concat(this.#chunks);
    return nodeDigestOutput(new Uint8Array(ops.op_crypto_hmac_sign(this.#hash, this.#key, data)), encoding);
  }
}

function randomBytes(size, callback = undefined) {
  const bytes = Buffer.alloc(checkBufferSize(size));
  for (let i = 0; i < bytes.length; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
  if (typeof callback === "function") {
    queueMicrotask(() => callback(null, bytes));
    return undefined;
  }
  return bytes;
}

function randomInt(min, max = undefined, callback = undefined) {
  if (max === undefined || typeof max === "function") { callback = max; max = min; min = 0; }
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max <= min) {
    throw new RangeError(`The value of "max" is out of range. It must be greater than the value of "min" (${min}).`);
  }
  const range = max - min;
  const words = new Uint32Array(2);
  let value;
  do {
    crypto.getRandomValues(words);
    value = (words[0] * 2 ** 21 + (words[1] >>> 11)); // 53 random bits
  } while (value >= Math.floor(2 ** 53 / range) * range);
  const result = min + (value % range);
  if (typeof callback === "function") { queueMicrotask(() => callback(null, result)); return undefined; }
  return result;
}

function timingSafeEqual(a, b) {
  const x = nodeBytes(a);
  const y = nodeBytes(b);
  if (x.byteLength !== y.byteLength) throw new RangeError("Input buffers must have the same byte length");
  return ops.op_crypto_timing_safe_equal(x, y);
}

const nodeCrypto = {
  createHash: (algorithm) => new Hash(algorithm),
  createHmac: (algorithm, key) => new Hmac(algorithm, key),
  Hash,
  Hmac,
  randomBytes,
  randomInt,
  randomUUID: () => crypto.randomUUID(),
  getRandomValues: (array) => crypto.getRandomValues(array),
  timingSafeEqual,
  getHashes: () => ["md5", "sha1", "sha256", "sha384", "sha512"],
  webcrypto: globalThis.crypto,
  subtle: globalThis.crypto.subtle,
};

