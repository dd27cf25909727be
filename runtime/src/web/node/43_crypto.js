// Node's `crypto` for `nodejs_compat` workers (`node:crypto`): hashes and HMACs (synchronous,
// on the same Rust digests as crypto.subtle), random bytes and UUIDs, timingSafeEqual, and
// the Web Crypto objects. Keys, signatures, ciphers and ECDH: 43_crypto_keys.js.
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
  constructor(algorithm, state = undefined) {
    this.#state = state ?? ops.op_crypto_digest_new(nodeHashName(algorithm));
  }
  update(data, inputEncoding = undefined) {
    if (this.#done) throw new Error("Digest already called");
    this.#state.update(nodeBytes(data, inputEncoding));
    return this;
  }
  copy() {
    if (this.#done) throw new Error("Digest already called");
    return new Hash(null, this.#state.copy());
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
    this.#key = key instanceof KeyObject ? key[kKeyMaterial].bytes : Uint8Array.from(nodeBytes(key));
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

function webHashName(digest) {
  const name = nodeHashName(digest);
  if (name === "MD5") throw new Error(`Digest method not supported: ${digest}`);
  return name;
}

// Runs `sync` and hands its result (or error) to `callback` in a later microtask.
function nodeCallbackOf(sync) {
  return (...args) => {
    const callback = args.pop();
    if (typeof callback !== "function") throw new TypeError("The \"callback\" argument must be of type function.");
    let result;
    let error = null;
    try { result = sync(...args); } catch (err) { error = err; }
    queueMicrotask(() => (error ? callback(error) : callback(null, result)));
  };
}

function pbkdf2Sync(password, salt, iterations, keylen, digest) {
  return Buffer.from(ops.op_crypto_pbkdf2(webHashName(digest), nodeBytes(password), nodeBytes(salt), Number(iterations), Number(keylen) * 8));
}

function hkdfSync(digest, ikm, salt, info, keylen) {
  return ops.op_crypto_hkdf(webHashName(digest), nodeBytes(ikm), nodeBytes(salt), nodeBytes(info), Number(keylen) * 8);
}

function scryptSync(password, salt, keylen, options = {}) {
  const cost = options.N ?? options.cost ?? 16384;
  const blockSize = options.r ?? options.blockSize ?? 8;
  const parallelization = options.p ?? options.parallelization ?? 1;
  const maxmem = options.maxmem ?? 32 * 1024 * 1024;
  return Buffer.from(ops.op_crypto_scrypt(nodeBytes(password), nodeBytes(salt), [Number(keylen), cost, blockSize, parallelization, maxmem]));
}

function randomFillSync(buffer, offset = 0, size = undefined) {
  const view = buffer instanceof ArrayBuffer ? new Uint8Array(buffer) : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const end = size === undefined ? view.length : offset + size;
  if (offset < 0 || end > view.length || offset > end) throw new RangeError("The value of \"offset\" or \"size\" is out of range.");
  for (let at = offset; at < end; at += 65536) crypto.getRandomValues(view.subarray(at, Math.min(end, at + 65536)));
  return buffer;
}

function nodeCryptoMissing(name) {
  return () => {
    const err = new Error(`crypto.${name} is not implemented in Kiln`);
    err.code = "ERR_METHOD_NOT_IMPLEMENTED";
    throw err;
  };
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
  pbkdf2Sync,
  pbkdf2: nodeCallbackOf(pbkdf2Sync),
  hkdfSync,
  hkdf: nodeCallbackOf(hkdfSync),
  scryptSync,
  scrypt: (password, salt, keylen, options, callback) => nodeCallbackOf(scryptSync)(password, salt, keylen, typeof options === "function" ? {} : options, typeof options === "function" ? options : callback),
  randomFillSync,
  randomFill: (buffer, ...rest) => {
    const callback = rest.pop();
    nodeCallbackOf(randomFillSync)(buffer, ...rest, callback);
  },
  getCiphers: () => [],
  hash: (algorithm, data, encoding = "hex") => new Hash(algorithm).update(data).digest(encoding),
  secureHeapUsed: () => ({ total: 0, min: 0, used: 0, utilization: 0 }),
  getFips: () => 0,
  setFips() {},
  getCurves: () => ["prime256v1", "secp384r1", "secp521r1"],
  constants: {},
};
for (const name of ["createCipheriv", "createDecipheriv", "createSign", "createVerify", "createPublicKey",
  "createPrivateKey", "createSecretKey", "generateKeyPair", "generateKeyPairSync", "createECDH",
  "createDiffieHellman", "getDiffieHellman", "diffieHellman", "publicEncrypt", "privateDecrypt",
  "privateEncrypt", "publicDecrypt", "sign", "verify", "generatePrime", "generatePrimeSync",
  "checkPrime", "checkPrimeSync", "generateKey", "generateKeySync", "KeyObject", "X509Certificate",
  "Certificate", "Cipher", "Decipher", "Sign", "Verify", "DiffieHellman", "ECDH"]) {
  nodeCrypto[name] = nodeCryptoMissing(name);
}

