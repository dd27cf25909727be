// crypto.getRandomValues, crypto.randomUUID, crypto.subtle.digest.
function toUint8(data, what) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`${what}: parameter is not of type 'ArrayBuffer or ArrayBufferView'.`);
}

const INTEGER_ARRAYS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, BigInt64Array, BigUint64Array];

class SubtleCrypto {
  constructor(key) { if (key !== kAbort) throw new TypeError("Illegal constructor"); }
  async digest(algorithm, data) {
    const name = String(typeof algorithm === "object" && algorithm !== null ? algorithm.name : algorithm).toUpperCase();
    const normalized = { "SHA-1": "SHA-1", "SHA-256": "SHA-256", "SHA-384": "SHA-384", "SHA-512": "SHA-512", "MD5": "MD5" }[name];
    if (!normalized) throw new DOMException(`Unrecognized name.`, "NotSupportedError");
    const bytes = toUint8(data, "Failed to execute 'digest' on 'SubtleCrypto'");
    return ops.op_crypto_digest(normalized, bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice());
  }
}
for (const method of ["encrypt", "decrypt", "sign", "verify", "generateKey", "deriveKey", "deriveBits", "importKey", "exportKey", "wrapKey", "unwrapKey"]) {
  SubtleCrypto.prototype[method] = async function () {
    throw new DOMException(`crypto.subtle.${method}() is not implemented by Kiln yet`, "NotSupportedError");
  };
}

class Crypto {
  #subtle = new SubtleCrypto(kAbort);
  constructor(key) { if (key !== kAbort) throw new TypeError("Illegal constructor"); }
  get subtle() { return this.#subtle; }
  getRandomValues(array) {
    if (!INTEGER_ARRAYS.some((T) => array instanceof T)) {
      throw new DOMException("The data provided is not an integer-type TypedArray.", "TypeMismatchError");
    }
    if (array.byteLength > 65536) {
      throw new DOMException(`The ArrayBufferView's byte length (${array.byteLength}) exceeds the number of bytes of entropy available via this API (65536).`, "QuotaExceededError");
    }
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(ops.op_crypto_random(array.byteLength));
    return array;
  }
  randomUUID() { return ops.op_crypto_random_uuid(); }
}

const crypto = new Crypto(kAbort);
for (const [name, value] of Object.entries({ crypto, Crypto, SubtleCrypto })) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}
