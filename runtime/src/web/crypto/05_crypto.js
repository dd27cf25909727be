// crypto.getRandomValues, crypto.randomUUID, crypto.DigestStream and crypto.subtle (WebCrypto as
// Cloudflare Workers expose it: the W3C algorithms plus Ed25519/X25519, NODE-ED25519, MD5 digests,
// timingSafeEqual). Algorithm normalization, CryptoKey and the DOMExceptions live here; the
// cryptography is Rust (runtime/src/web/crypto/*.rs) behind ops.op_crypto_*.
//
// Key material is held in a CryptoKey's private field and is only ever handed to ops (or, for an
// extractable key, exported); no method is called on it, so user code that patches prototypes
// cannot observe a non-extractable key's bytes.
function toUint8(data, what) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`${what}: parameter is not of type 'ArrayBuffer or ArrayBufferView'.`);
}

const INTEGER_ARRAYS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, BigInt64Array, BigUint64Array];

const { SubtleCrypto, CryptoKey, DigestStream } = (() => {
  // Captured before any worker code runs: key material must never reach a function user code
  // could have replaced (an iterator, a prototype method).
  const $Uint8Array = Uint8Array;
  const $apply = Reflect.apply;
  const RANDOM_BYTES_MAX = 65536;
  const KEY_USAGES = ["encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits", "wrapKey", "unwrapKey"];
  const KEY_FORMATS = ["raw", "spki", "pkcs8", "jwk"];
  const HASHES = ["SHA-1", "SHA-256", "SHA-384", "SHA-512"];
  const HASH_BLOCK_BITS = { "SHA-1": 512, "SHA-256": 512, "SHA-384": 1024, "SHA-512": 1024 };
  const HASH_BYTES = { "SHA-1": 20, "SHA-256": 32, "SHA-384": 48, "SHA-512": 64 };
  const AES = ["AES-CTR", "AES-CBC", "AES-GCM", "AES-KW"];
  const RSA = ["RSASSA-PKCS1-v1_5", "RSA-PSS", "RSA-OAEP"];
  const EC_CURVES = ["P-256", "P-384", "P-521"];
  const EC_FIELD_BYTES = { "P-256": 32, "P-384": 48, "P-521": 66 };

  // The algorithms each operation recognizes (case-insensitively, per the spec).
  const SIGNING = ["HMAC", "ECDSA", "RSASSA-PKCS1-v1_5", "RSA-PSS", "Ed25519", "NODE-ED25519"];
  const ENCRYPTING = ["AES-CTR", "AES-CBC", "AES-GCM", "RSA-OAEP"];
  const KEYS = ["HMAC", ...AES, ...RSA, "ECDSA", "ECDH", "Ed25519", "NODE-ED25519", "X25519"];
  const REGISTERED = {
    digest: [...HASHES, "MD5"],
    sign: SIGNING,
    verify: SIGNING,
    encrypt: ENCRYPTING,
    decrypt: ENCRYPTING,
    generateKey: KEYS,
    importKey: [...KEYS, "PBKDF2", "HKDF"],
    deriveBits: ["PBKDF2", "HKDF", "ECDH", "X25519"],
    wrapKey: [...ENCRYPTING, "AES-KW"],
    unwrapKey: [...ENCRYPTING, "AES-KW"],
    keyLength: [...AES, "HMAC", "PBKDF2", "HKDF"],
  };

  // Each algorithm's parameter dictionary for an operation: member → kind (a trailing "!" marks a
  // required member, whose absence is a TypeError as WebIDL makes it).
  const AES_ENCRYPT = {
    "AES-GCM": { iv: "bytes!", additionalData: "bytes", tagLength: "octet" },
    "AES-CBC": { iv: "bytes!" },
    "AES-CTR": { counter: "bytes!", length: "octet!" },
    "RSA-OAEP": { label: "bytes" },
  };
  const PARAMS = {
    sign: { ECDSA: { hash: "hash!" }, "RSA-PSS": { saltLength: "ulong!" } },
    encrypt: AES_ENCRYPT,
    wrapKey: AES_ENCRYPT,
    generateKey: {
      HMAC: { hash: "hash!", length: "ulong" },
      ...Object.fromEntries(AES.map((name) => [name, { length: "ushort!" }])),
      ...Object.fromEntries(RSA.map((name) => [name, { modulusLength: "ulong!", publicExponent: "bytes!", hash: "hash!" }])),
      ECDSA: { namedCurve: "string!" },
      ECDH: { namedCurve: "string!" },
      "NODE-ED25519": { namedCurve: "string!" },
    },
    importKey: {
      HMAC: { hash: "hash!", length: "ulong" },
      ...Object.fromEntries(RSA.map((name) => [name, { hash: "hash!" }])),
      ECDSA: { namedCurve: "string!" },
      ECDH: { namedCurve: "string!" },
      "NODE-ED25519": { namedCurve: "string!" },
    },
    deriveBits: {
      PBKDF2: { salt: "bytes!", iterations: "ulong!", hash: "hash!" },
      HKDF: { hash: "hash!", salt: "bytes!", info: "bytes!" },
      ECDH: { public: "key!" },
      X25519: { public: "key!" },
    },
    keyLength: {
      ...Object.fromEntries(AES.map((name) => [name, { length: "ushort!" }])),
      HMAC: { hash: "hash!", length: "ulong" },
    },
  };
  PARAMS.verify = PARAMS.sign;
  PARAMS.decrypt = PARAMS.encrypt;
  PARAMS.unwrapKey = PARAMS.wrapKey;

  const dataError = (message) => new DOMException(message, "DataError");
  const operationError = (message) => new DOMException(message, "OperationError");
  const notSupported = (message) => new DOMException(message, "NotSupportedError");
  const invalidAccess = (message) => new DOMException(message, "InvalidAccessError");
  const syntaxError = (message) => new DOMException(message, "SyntaxError");

  // Calls an op, turning the errors Rust throws ({ cryptoError, message }) into DOMExceptions.
  function op(name, ...args) {
    try {
      return $apply(ops[name], ops, args);
    } catch (err) {
      if (err !== null && typeof err === "object" && typeof err.cryptoError === "string") {
        throw new DOMException(err.message, err.cryptoError);
      }
      throw err;
    }
  }

  function requireArguments(count, required, method) {
    if (count < required) {
      throw new TypeError(`Failed to execute '${method}' on 'SubtleCrypto': ${required} arguments required, but only ${count} present.`);
    }
  }

  // A private copy of a BufferSource's bytes.
  function copyBytes(data, what) {
    return new $Uint8Array(toUint8(data, what));
  }

  function randomBytes(length) {
    return ops.op_crypto_random(length);
  }

  function equalBytes(a, b) {
    if (a.length !== b.length) return false;
    let difference = 0;
    for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i];
    return difference === 0;
  }

  function concatBytes(...parts) {
    const out = new $Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const part of parts) { out.set(part, offset); offset += part.length; }
    return out;
  }

  const base64url = (bytes) => ops.op_crypto_base64url_encode(bytes);
  function fromBase64url(text, member) {
    if (typeof text !== "string") throw dataError(`The JSON Web Key member "${member}" is missing or not a string.`);
    const bytes = ops.op_crypto_base64url_decode(text);
    if (bytes === null || bytes === undefined) throw dataError(`The JSON Web Key member "${member}" is not valid base64url.`);
    return bytes;
  }

  // WebIDL [EnforceRange] integer conversion.
  function enforceRange(value, max, member) {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new TypeError(`The "${member}" member must be a finite number.`);
    const integer = Math.trunc(n);
    if (integer < 0 || integer > max) throw new TypeError(`The "${member}" member is outside the range of an unsigned integer of its type (0 to ${max}).`);
    return integer;
  }

  function registeredName(op, algorithm) {
    let name;
    if (algorithm !== null && typeof algorithm === "object") {
      if (algorithm.name === undefined) throw new TypeError(`Missing field "name" in "algorithm".`);
      name = String(algorithm.name);
    } else {
      name = String(algorithm);
    }
    const upper = name.toUpperCase();
    const found = REGISTERED[op].find((candidate) => candidate.toUpperCase() === upper);
    if (found === undefined) {
      if (op === "keyLength") throw notSupported(`Unrecognized derived key type "${name}" requested.`);
      throw notSupported(`Unrecognized or unimplemented algorithm "${name}" requested for ${op}.`);
    }
    return found;
  }

  function normalizeHash(hash) {
    const name = registeredName("digest", hash);
    if (name === "MD5") throw notSupported(`MD5 cannot be used as the hash of a key.`);
    return name;
  }

  // The spec's "normalize an algorithm": the registered name plus the converted parameters.
  function normalize(op, algorithm) {
    const name = registeredName(op, algorithm);
    const params = algorithm !== null && typeof algorithm === "object" ? algorithm : {};
    const out = { name };
    for (const [member, spec] of Object.entries(PARAMS[op]?.[name] ?? {})) {
      const value = params[member];
      const kind = spec.replace("!", "");
      if (value === undefined) {
        if (spec.endsWith("!")) throw new TypeError(`Missing field "${member}" in "algorithm".`);
        continue;
      }
      if (kind === "hash") out[member] = normalizeHash(value);
      else if (kind === "bytes") out[member] = copyBytes(value, `Failed to read the '${member}' property`);
      else if (kind === "octet") out[member] = enforceRange(value, 0xff, member);
      else if (kind === "ushort") out[member] = enforceRange(value, 0xffff, member);
      else if (kind === "ulong") out[member] = enforceRange(value, 0xffffffff, member);
      else if (kind === "string") out[member] = String(value);
      else if (kind === "key") { keyState(value, member); out[member] = value; }
    }
    return out;
  }

  function toUsages(keyUsages) {
    if (keyUsages === null || typeof keyUsages !== "object" || typeof keyUsages[Symbol.iterator] !== "function") {
      throw new TypeError("The keyUsages argument must be a sequence of strings.");
    }
    return [...keyUsages].map(String);
  }

  // Throws SyntaxError for a usage the algorithm does not allow in this context; returns the
  // usages deduplicated, in the spec's order.
  function checkUsages(usages, allowed, context, name) {
    for (const usage of usages) {
      if (!allowed.includes(usage)) throw syntaxError(`Attempt to ${context} ${name} key with invalid usage "${usage}".`);
    }
    return KEY_USAGES.filter((usage) => usages.includes(usage));
  }
  const intersect = (usages, allowed) => KEY_USAGES.filter((u) => usages.includes(u) && allowed.includes(u));

  // ---- CryptoKey ---------------------------------------------------------------------------

  const kKeyToken = Symbol("CryptoKey");
  let keyState;

  // The key's algorithm as user code sees it (hash as a dictionary, exponent as bytes).
  function algorithmView(algorithm) {
    const view = { ...algorithm };
    if (view.hash !== undefined) view.hash = { name: view.hash };
    if (view.publicExponent !== undefined) view.publicExponent = new $Uint8Array(view.publicExponent);
    return view;
  }

  class CryptoKey {
    #state;
    #algorithm;
    #usages;
    constructor(token, state) {
      if (token !== kKeyToken) throw new TypeError("Illegal constructor");
      this.#state = state;
    }
    get type() { return this.#state.type; }
    get extractable() { return this.#state.extractable; }
    get algorithm() { return this.#algorithm ??= algorithmView(this.#state.algorithm); }
    get usages() { return this.#usages ??= [...this.#state.usages]; }
    static {
      keyState = (key, what = "key") => {
        try {
          return key.#state;
        } catch {
          throw new TypeError(`Failed to execute operation on 'SubtleCrypto': parameter '${what}' is not of type 'CryptoKey'.`);
        }
      };
    }
  }
  Object.defineProperty(CryptoKey.prototype, Symbol.toStringTag, { value: "CryptoKey", configurable: true });

  function makeKey(type, extractable, algorithm, usages, material) {
    return new CryptoKey(kKeyToken, Object.freeze({ type, extractable, algorithm: Object.freeze(algorithm), usages: Object.freeze(usages), material }));
  }

  // The checks every key-based operation makes (the spec's, with workerd's messages).
  function checkKey(key, name, usage) {
    const state = keyState(key);
    if (state.algorithm.name !== name) {
      throw invalidAccess(`Requested algorithm "${name}" does not match this CryptoKey's algorithm "${state.algorithm.name}".`);
    }
    if (!state.usages.includes(usage)) {
      throw invalidAccess(`Requested key usage "${usage}" does not match any usage listed in this CryptoKey.`);
    }
    return state;
  }

  // JWK members common to every key type (RFC 7517 and WebCrypto's import steps).
  function checkJwk(jwk, kty, use, extractable, usages) {
    if (jwk.kty !== kty) throw dataError(`"jwk" key import requires a JSON Web Key with Key Type parameter "kty" equal to "${kty}" (encountered "${jwk.kty}").`);
    if (usages.length > 0 && jwk.use !== undefined && jwk.use !== use) {
      throw dataError(`"jwk" key must have a "use" of "${use}", not "${jwk.use}".`);
    }
    if (jwk.key_ops !== undefined) {
      if (!Array.isArray(jwk.key_ops)) throw dataError(`"jwk" key has a "key_ops" member that is not an array.`);
      const ops = jwk.key_ops.map(String);
      if (new Set(ops).size !== ops.length) throw dataError(`"jwk" key contains duplicate values in "key_ops".`);
      for (const usage of usages) {
        if (!ops.includes(usage)) throw dataError(`"jwk" key missing usage "${usage}", in "key_ops".`);
      }
    }
    if (jwk.ext !== undefined && !jwk.ext && extractable) {
      throw dataError(`"jwk" key has value "false", for "ext" that is incompatible with import extractability value "true".`);
    }
  }

  function exportedJwk(state, members) {
    return { ...members, key_ops: [...state.usages], ext: true };
  }

  function unsupportedFormat(format, name) {
    return notSupported(`Unrecognized or unsupported key format "${format}" for ${name} keys.`);
  }

  function rawCopy(bytes) {
    return new $Uint8Array(bytes).buffer;
  }

  // Truncates derived bits to `length` (null: all of them), as ECDH and X25519 allow.
  function truncateBits(secret, length) {
    const bytes = new $Uint8Array(secret);
    if (length === null) return bytes.buffer;
    if (length > bytes.length * 8) {
      throw operationError(`Derived key length (${length} bits) is too long (should be at most ${bytes.length * 8} bits).`);
    }
    const out = bytes.slice(0, Math.ceil(length / 8));
    if (length % 8 !== 0) out[out.length - 1] &= 0xff << (8 - (length % 8));
    return out.buffer;
  }

  // ---- HMAC ------------------------------------------------------------------------------------

  const HMAC_JWK_ALG = { "SHA-1": "HS1", "SHA-256": "HS256", "SHA-384": "HS384", "SHA-512": "HS512" };
  const HMAC_USAGES = ["sign", "verify"];

  const hmac = {
    generate(alg, extractable, usages) {
      usages = checkUsages(usages, HMAC_USAGES, "generate", "HMAC");
      const length = alg.length ?? HASH_BLOCK_BITS[alg.hash];
      if (length === 0) throw operationError("HMAC key length must be a non-zero unsigned long integer (requested 0).");
      if (length > RANDOM_BYTES_MAX * 8) throw operationError(`HMAC key length must be at most ${RANDOM_BYTES_MAX * 8} bits (requested ${length}).`);
      const bytes = randomBytes(Math.ceil(length / 8));
      if (length % 8 !== 0) bytes[bytes.length - 1] &= 0xff << (8 - (length % 8));
      return makeKey("secret", extractable, { name: "HMAC", hash: alg.hash, length }, usages, bytes);
    },
    import(format, data, alg, extractable, usages) {
      usages = checkUsages(usages, HMAC_USAGES, "import secret", "HMAC");
      let bytes;
      if (format === "raw") {
        bytes = data;
      } else if (format === "jwk") {
        checkJwk(data, "oct", "sig", extractable, usages);
        bytes = fromBase64url(data.k, "k");
        if (data.alg !== undefined && data.alg !== HMAC_JWK_ALG[alg.hash]) {
          throw dataError(`HMAC "jwk" key import specifies "alg" that is incompatible with the hash name (encountered "${data.alg}", expected "${HMAC_JWK_ALG[alg.hash]}").`);
        }
      } else {
        throw unsupportedFormat(format, "HMAC");
      }
      let length = bytes.length * 8;
      if (length === 0) throw dataError("HMAC key data must not be empty.");
      if (alg.length !== undefined) {
        if (alg.length > length || alg.length <= length - 8) {
          throw dataError(`Imported HMAC key length (${alg.length}) must be a non-zero value up to 7 bits less than, and no greater than, the bit length of the raw key data (${length}).`);
        }
        length = alg.length;
      }
      return makeKey("secret", extractable, { name: "HMAC", hash: alg.hash, length }, usages, bytes);
    },
    export(format, state) {
      if (format === "raw") return rawCopy(state.material);
      if (format === "jwk") return exportedJwk(state, { kty: "oct", k: base64url(state.material), alg: HMAC_JWK_ALG[state.algorithm.hash] });
      throw unsupportedFormat(format, "HMAC");
    },
    sign(alg, state, data) {
      return op("op_crypto_hmac_sign", state.algorithm.hash, state.material, data);
    },
    verify(alg, state, signature, data) {
      return op("op_crypto_hmac_verify", state.algorithm.hash, state.material, signature, data);
    },
    keyLength(alg) {
      if (alg.length === undefined) return HASH_BLOCK_BITS[alg.hash];
      if (alg.length === 0) throw new TypeError("HMAC key length must be a non-zero unsigned long integer.");
      return alg.length;
    },
  };

  // ---- AES -------------------------------------------------------------------------------------

  function aesKeyLength(length, error) {
    if (length !== 128 && length !== 192 && length !== 256) throw error(length);
    return length;
  }

  function aes(name) {
    const usagesAllowed = name === "AES-KW" ? ["wrapKey", "unwrapKey"] : ["encrypt", "decrypt", "wrapKey", "unwrapKey"];
    const mode = name.slice(4);
    const jwkUse = "enc";
    return {
      generate(alg, extractable, usages) {
        usages = checkUsages(usages, usagesAllowed, "generate", name);
        const length = aesKeyLength(alg.length, (n) => operationError(`Generated AES key length must be 128, 192, or 256 bits but requested ${n}.`));
        return makeKey("secret", extractable, { name, length }, usages, randomBytes(length / 8));
      },
      import(format, data, alg, extractable, usages) {
        usages = checkUsages(usages, usagesAllowed, "import secret", name);
        let bytes;
        if (format === "raw") {
          bytes = data;
        } else if (format === "jwk") {
          checkJwk(data, "oct", jwkUse, extractable, usages);
          bytes = fromBase64url(data.k, "k");
        } else {
          throw unsupportedFormat(format, name);
        }
        const length = aesKeyLength(bytes.length * 8, (n) => dataError(`Imported AES key length must be 128, 192, or 256 bits but provided ${n}.`));
        if (format === "jwk" && data.alg !== undefined && data.alg !== `A${length}${mode}`) {
          throw dataError(`Symmetric "jwk" key contains invalid "alg" value "${data.alg}", expected "A${length}${mode}".`);
        }
        return makeKey("secret", extractable, { name, length }, usages, bytes);
      },
      export(format, state) {
        if (format === "raw") return rawCopy(state.material);
        if (format === "jwk") return exportedJwk(state, { kty: "oct", k: base64url(state.material), alg: `A${state.algorithm.length}${mode}` });
        throw unsupportedFormat(format, name);
      },
      encrypt(alg, state, data) {
        return aesCrypt(true, alg, state, data);
      },
      decrypt(alg, state, data) {
        return aesCrypt(false, alg, state, data);
      },
      wrap(alg, state, data) {
        return op("op_crypto_aes_kw_wrap", state.material, data);
      },
      unwrap(alg, state, data) {
        return op("op_crypto_aes_kw_unwrap", state.material, data);
      },
      keyLength(alg) {
        return aesKeyLength(alg.length, (n) => operationError(`Derived AES key must be 128, 192, or 256 bits in length but provided ${n}.`));
      },
    };
  }

  function aesCrypt(encrypt, alg, state, data) {
    const key = state.material;
    switch (alg.name) {
      case "AES-GCM": {
        const aad = alg.additionalData ?? new $Uint8Array(0);
        const tagLength = alg.tagLength ?? 128;
        return op(encrypt ? "op_crypto_aes_gcm_encrypt" : "op_crypto_aes_gcm_decrypt", key, alg.iv, aad, tagLength, data);
      }
      case "AES-CBC":
        return op(encrypt ? "op_crypto_aes_cbc_encrypt" : "op_crypto_aes_cbc_decrypt", key, alg.iv, data);
      case "AES-CTR":
        return op("op_crypto_aes_ctr", key, alg.counter, alg.length, data);
    }
    throw notSupported(`${alg.name} cannot encrypt or decrypt.`);
  }

  // ---- ECDSA and ECDH (NIST curves) --------------------------------------------------------------

  const ECDSA_JWK_ALG = { "P-256": "ES256", "P-384": "ES384", "P-521": "ES512" };

  function ec(name) {
    const privateUsages = name === "ECDSA" ? ["sign"] : ["deriveKey", "deriveBits"];
    const publicUsages = name === "ECDSA" ? ["verify"] : [];
    const jwkUse = name === "ECDSA" ? "sig" : "enc";
    function curveOf(alg) {
      if (!EC_CURVES.includes(alg.namedCurve)) throw notSupported(`Unrecognized or unimplemented EC curve "${alg.namedCurve}" requested.`);
      return alg.namedCurve;
    }
    function publicKey(curve, usages, point) {
      return makeKey("public", true, { name, namedCurve: curve }, checkUsages(usages, publicUsages, "import public", name), { pub: point });
    }
    function privateKey(curve, extractable, usages, pair) {
      return makeKey("private", extractable, { name, namedCurve: curve }, checkUsages(usages, privateUsages, "import private", name), { priv: pair[0], pub: pair[1] });
    }
    return {
      generate(alg, extractable, usages) {
        const curve = curveOf(alg);
        usages = checkUsages(usages, [...privateUsages, ...publicUsages], "generate", name);
        const pair = op("op_crypto_ec_generate", curve);
        const algorithm = { name, namedCurve: curve };
        return {
          publicKey: makeKey("public", true, algorithm, intersect(usages, publicUsages), { pub: pair[1] }),
          privateKey: makeKey("private", extractable, { ...algorithm }, intersect(usages, privateUsages), { priv: pair[0], pub: pair[1] }),
        };
      },
      import(format, data, alg, extractable, usages) {
        const curve = curveOf(alg);
        if (format === "raw" || format === "spki") {
          checkUsages(usages, publicUsages, "import public", name);
          return publicKey(curve, usages, op("op_crypto_ec_import_public", curve, format, data));
        }
        if (format === "pkcs8") {
          checkUsages(usages, privateUsages, "import private", name);
          return privateKey(curve, extractable, usages, op("op_crypto_ec_import_private", curve, "pkcs8", data));
        }
        if (format !== "jwk") throw unsupportedFormat(format, name);
        const isPrivate = data.d !== undefined;
        checkUsages(usages, isPrivate ? privateUsages : publicUsages, isPrivate ? "import private" : "import public", name);
        checkJwk(data, "EC", jwkUse, extractable, usages);
        if (data.crv !== curve) throw dataError(`The JSON Web Key's "crv" ("${data.crv}") does not match the requested curve "${curve}".`);
        if (name === "ECDSA" && data.alg !== undefined && data.alg !== ECDSA_JWK_ALG[curve]) {
          throw dataError(`JSON Web Key Algorithm parameter "alg" ("${data.alg}") does not match requested curve.`);
        }
        const x = fromBase64url(data.x, "x");
        const y = fromBase64url(data.y, "y");
        if (x.length !== EC_FIELD_BYTES[curve] || y.length !== EC_FIELD_BYTES[curve]) {
          throw dataError(`Invalid EC key in JSON Web Key; "x" and "y" must be ${EC_FIELD_BYTES[curve]} bytes for ${curve}.`);
        }
        const point = op("op_crypto_ec_import_public", curve, "raw", concatBytes([4], x, y));
        if (!isPrivate) return publicKey(curve, usages, point);
        const pair = op("op_crypto_ec_import_private", curve, "scalar", fromBase64url(data.d, "d"));
        if (!equalBytes(pair[1], point)) throw dataError(`Invalid EC key in JSON Web Key; "d" does not match "x" and "y".`);
        return privateKey(curve, extractable, usages, pair);
      },
      export(format, state) {
        const curve = state.algorithm.namedCurve;
        const { priv, pub } = state.material;
        if (format === "raw" || format === "spki") {
          if (state.type !== "public") throw invalidAccess(`Export of an elliptic curve key in "${format}" format is only allowed for public keys.`);
          return format === "raw" ? rawCopy(pub) : op("op_crypto_ec_export", curve, "spki", pub);
        }
        if (format === "pkcs8") {
          if (state.type !== "private") throw invalidAccess(`Asymmetric pkcs8 export requires private key (not "${state.type}").`);
          return op("op_crypto_ec_export", curve, "pkcs8", priv);
        }
        if (format !== "jwk") throw unsupportedFormat(format, name);
        const n = EC_FIELD_BYTES[curve];
        const members = { kty: "EC", crv: curve, x: base64url(pub.slice(1, 1 + n)), y: base64url(pub.slice(1 + n)) };
        if (state.type === "private") members.d = base64url(priv);
        return exportedJwk(state, members);
      },
      sign(alg, state, data) {
        return op("op_crypto_ecdsa_sign", state.algorithm.namedCurve, alg.hash, state.material.priv, data);
      },
      verify(alg, state, signature, data) {
        return op("op_crypto_ecdsa_verify", state.algorithm.namedCurve, alg.hash, state.material.pub, signature, data);
      },
      deriveBits(alg, state, length) {
        const peer = checkPeer(alg, state);
        if (peer.algorithm.namedCurve !== state.algorithm.namedCurve) {
          throw invalidAccess(`Private key for derivation is using curve "${state.algorithm.namedCurve}" while public key is using "${peer.algorithm.namedCurve}".`);
        }
        return truncateBits(op("op_crypto_ecdh", state.algorithm.namedCurve, state.material.priv, peer.material.pub), length);
      },
    };
  }

  // The `public` member of ECDH and X25519 parameters.
  function checkPeer(alg, state) {
    if (state.type !== "private") throw invalidAccess(`The deriveBits operation is only valid for a private key, not "${state.type}".`);
    const peer = keyState(alg.public, "public");
    if (peer.type !== "public") throw invalidAccess(`The provided key has type "${peer.type}", not "public"`);
    if (peer.algorithm.name !== state.algorithm.name) {
      throw invalidAccess(`Private key for derivation is using "${state.algorithm.name}" while public key is using "${peer.algorithm.name}".`);
    }
    return peer;
  }

  // ---- Ed25519, NODE-ED25519 and X25519 ----------------------------------------------------------

  function okp(name) {
    const curve = name === "X25519" ? "X25519" : "Ed25519";
    const signing = curve === "Ed25519";
    const privateUsages = signing ? ["sign"] : ["deriveKey", "deriveBits"];
    const publicUsages = signing ? ["verify"] : [];
    const algorithm = name === "NODE-ED25519" ? { name, namedCurve: name } : { name };
    function checkCurve(alg) {
      if (name === "NODE-ED25519" && alg.namedCurve !== "NODE-ED25519") {
        throw notSupported(`EDDSA curve "${alg.namedCurve}" isn't supported.`);
      }
    }
    function publicKey(usages, pub) {
      return makeKey("public", true, { ...algorithm }, checkUsages(usages, publicUsages, "import public", name), { pub });
    }
    function privateKey(extractable, usages, pair) {
      return makeKey("private", extractable, { ...algorithm }, checkUsages(usages, privateUsages, "import private", name), { priv: pair[0], pub: pair[1] });
    }
    return {
      generate(alg, extractable, usages) {
        checkCurve(alg);
        usages = checkUsages(usages, [...privateUsages, ...publicUsages], "generate", name);
        const pair = op("op_crypto_okp_generate", curve);
        return {
          publicKey: makeKey("public", true, { ...algorithm }, intersect(usages, publicUsages), { pub: pair[1] }),
          privateKey: makeKey("private", extractable, { ...algorithm }, intersect(usages, privateUsages), { priv: pair[0], pub: pair[1] }),
        };
      },
      import(format, data, alg, extractable, usages) {
        checkCurve(alg);
        if (format === "raw" || format === "spki") {
          checkUsages(usages, publicUsages, "import public", name);
          return publicKey(usages, op("op_crypto_okp_import_public", curve, format, data));
        }
        if (format === "pkcs8") {
          checkUsages(usages, privateUsages, "import private", name);
          return privateKey(extractable, usages, op("op_crypto_okp_import_private", curve, "pkcs8", data));
        }
        if (format !== "jwk") throw unsupportedFormat(format, name);
        const isPrivate = data.d !== undefined;
        checkUsages(usages, isPrivate ? privateUsages : publicUsages, isPrivate ? "import private" : "import public", name);
        checkJwk(data, "OKP", signing ? "sig" : "enc", extractable, usages);
        if (data.crv !== curve) throw dataError(`Only ${curve} is supported but "${data.crv}" was requested.`);
        if (signing && data.alg !== undefined && data.alg !== "EdDSA" && data.alg !== "Ed25519") {
          throw dataError(`JSON Web Key Algorithm parameter "alg" ("${data.alg}") does not match requested Ed25519 curve.`);
        }
        const pub = op("op_crypto_okp_import_public", curve, "raw", fromBase64url(data.x, "x"));
        if (!isPrivate) return publicKey(usages, pub);
        const pair = op("op_crypto_okp_import_private", curve, "raw", fromBase64url(data.d, "d"));
        if (!equalBytes(pair[1], pub)) throw dataError(`Invalid ${curve} key in JSON Web Key; "d" does not match "x".`);
        return privateKey(extractable, usages, pair);
      },
      export(format, state) {
        const { priv, pub } = state.material;
        if (format === "raw" || format === "spki") {
          if (state.type !== "public") throw invalidAccess(`Export of ${name} keys in "${format}" format is only allowed for public keys.`);
          return format === "raw" ? rawCopy(pub) : op("op_crypto_okp_export", curve, "spki", pub);
        }
        if (format === "pkcs8") {
          if (state.type !== "private") throw invalidAccess(`Asymmetric pkcs8 export requires private key (not "${state.type}").`);
          return op("op_crypto_okp_export", curve, "pkcs8", priv);
        }
        if (format !== "jwk") throw unsupportedFormat(format, name);
        const members = { kty: "OKP", crv: curve, x: base64url(pub) };
        if (state.type === "private") members.d = base64url(priv);
        if (signing) members.alg = "EdDSA";
        return exportedJwk(state, members);
      },
      sign(alg, state, data) {
        return op("op_crypto_ed25519_sign", state.material.priv, data);
      },
      verify(alg, state, signature, data) {
        return op("op_crypto_ed25519_verify", state.material.pub, signature, data);
      },
      deriveBits(alg, state, length) {
        const peer = checkPeer(alg, state);
        return truncateBits(op("op_crypto_x25519", state.material.priv, peer.material.pub), length);
      },
    };
  }

  // ---- RSA ---------------------------------------------------------------------------------------

  const RSA_JWK_ALG = {
    "RSASSA-PKCS1-v1_5": { "SHA-1": "RS1", "SHA-256": "RS256", "SHA-384": "RS384", "SHA-512": "RS512" },
    "RSA-PSS": { "SHA-1": "PS1", "SHA-256": "PS256", "SHA-384": "PS384", "SHA-512": "PS512" },
    "RSA-OAEP": { "SHA-1": "RSA-OAEP", "SHA-256": "RSA-OAEP-256", "SHA-384": "RSA-OAEP-384", "SHA-512": "RSA-OAEP-512" },
  };
  const RSA_JWK_MEMBERS = ["n", "e", "d", "p", "q", "dp", "dq", "qi"];

  function rsa(name) {
    const encrypting = name === "RSA-OAEP";
    const privateUsages = encrypting ? ["decrypt", "unwrapKey"] : ["sign"];
    const publicUsages = encrypting ? ["encrypt", "wrapKey"] : ["verify"];
    function key(type, extractable, hash, usages, der) {
      const info = op("op_crypto_rsa_info", der, type === "private");
      const algorithm = { name, modulusLength: info[0], publicExponent: info[1], hash };
      const material = type === "private" ? { priv: der } : { pub: der };
      return makeKey(type, extractable, algorithm, usages, material);
    }
    return {
      generate(alg, extractable, usages) {
        usages = checkUsages(usages, [...privateUsages, ...publicUsages], "generate", name);
        const pair = op("op_crypto_rsa_generate", alg.modulusLength, alg.publicExponent);
        return {
          publicKey: key("public", true, alg.hash, intersect(usages, publicUsages), pair[1]),
          privateKey: key("private", extractable, alg.hash, intersect(usages, privateUsages), pair[0]),
        };
      },
      import(format, data, alg, extractable, usages) {
        if (format === "spki") {
          usages = checkUsages(usages, publicUsages, "import public", name);
          return key("public", true, alg.hash, usages, op("op_crypto_rsa_import", "spki", data));
        }
        if (format === "pkcs8") {
          usages = checkUsages(usages, privateUsages, "import private", name);
          return key("private", extractable, alg.hash, usages, op("op_crypto_rsa_import", "pkcs8", data));
        }
        if (format !== "jwk") throw unsupportedFormat(format, name);
        const isPrivate = data.d !== undefined;
        usages = checkUsages(usages, isPrivate ? privateUsages : publicUsages, isPrivate ? "import private" : "import public", name);
        checkJwk(data, "RSA", encrypting ? "enc" : "sig", extractable, usages);
        const expected = RSA_JWK_ALG[name][alg.hash];
        if (data.alg !== undefined && data.alg !== expected) {
          throw dataError(`JSON Web Key Algorithm parameter "alg" ("${data.alg}") does not match the requested algorithm and hash ("${expected}").`);
        }
        if (data.oth !== undefined) throw notSupported("Multi-prime private keys not supported.");
        const members = RSA_JWK_MEMBERS.map((member, index) => {
          if (index >= 2 && !isPrivate) return null;
          if (data[member] === undefined && index >= 3) return null;
          return fromBase64url(data[member], member);
        });
        const der = op("op_crypto_rsa_import_jwk", members);
        return key(isPrivate ? "private" : "public", isPrivate ? extractable : true, alg.hash, usages, der);
      },
      export(format, state) {
        const isPrivate = state.type === "private";
        if (format === "spki") {
          if (isPrivate) throw invalidAccess(`Asymmetric spki export requires public key (not "private").`);
          return op("op_crypto_rsa_export", "spki", state.material.pub);
        }
        if (format === "pkcs8") {
          if (!isPrivate) throw invalidAccess(`Asymmetric pkcs8 export requires private key (not "public").`);
          return op("op_crypto_rsa_export", "pkcs8", state.material.priv);
        }
        if (format !== "jwk") throw unsupportedFormat(format, name);
        const values = op("op_crypto_rsa_export_jwk", isPrivate ? state.material.priv : state.material.pub, isPrivate);
        const members = { kty: "RSA", alg: RSA_JWK_ALG[name][state.algorithm.hash] };
        values.forEach((value, index) => { members[RSA_JWK_MEMBERS[index]] = base64url(value); });
        return exportedJwk(state, members);
      },
      sign(alg, state, data) {
        return op("op_crypto_rsa_sign", name, state.algorithm.hash, alg.saltLength ?? 0, state.material.priv, data);
      },
      verify(alg, state, signature, data) {
        return op("op_crypto_rsa_verify", name, state.algorithm.hash, alg.saltLength ?? 0, state.material.pub, signature, data);
      },
      encrypt(alg, state, data) {
        if (state.type !== "public") throw invalidAccess("RSA-OAEP encryption requires a public key.");
        return op("op_crypto_rsa_oaep", true, state.algorithm.hash, alg.label ?? new $Uint8Array(0), state.material.pub, data);
      },
      decrypt(alg, state, data) {
        if (state.type !== "private") throw invalidAccess("RSA-OAEP decryption requires a private key.");
        return op("op_crypto_rsa_oaep", false, state.algorithm.hash, alg.label ?? new $Uint8Array(0), state.material.priv, data);
      },
    };
  }

  // ---- PBKDF2 and HKDF ---------------------------------------------------------------------------

  function kdf(name) {
    return {
      import(format, data, alg, extractable, usages) {
        usages = checkUsages(usages, ["deriveKey", "deriveBits"], "import secret", name);
        if (extractable) throw syntaxError(`${name} key cannot be extractable.`);
        if (format !== "raw") throw notSupported(`${name} key must be imported in "raw" format (requested "${format}").`);
        return makeKey("secret", false, { name }, usages, data);
      },
      deriveBits(alg, state, length) {
        if (length === null) throw operationError(`${name} cannot derive a key with null length.`);
        if (name === "PBKDF2") return op("op_crypto_pbkdf2", alg.hash, state.material, alg.salt, alg.iterations, length);
        return op("op_crypto_hkdf", alg.hash, state.material, alg.salt, alg.info, length);
      },
      keyLength() {
        return null;
      },
    };
  }

  const HANDLERS = {
    HMAC: hmac,
    ...Object.fromEntries(AES.map((name) => [name, aes(name)])),
    ECDSA: ec("ECDSA"),
    ECDH: ec("ECDH"),
    Ed25519: okp("Ed25519"),
    "NODE-ED25519": okp("NODE-ED25519"),
    X25519: okp("X25519"),
    ...Object.fromEntries(RSA.map((name) => [name, rsa(name)])),
    PBKDF2: kdf("PBKDF2"),
    HKDF: kdf("HKDF"),
  };

  // ---- SubtleCrypto --------------------------------------------------------------------------

  function importKeySync(format, keyData, algorithm, extractable, keyUsages) {
    format = String(format);
    let data;
    if (format === "raw" || format === "spki" || format === "pkcs8") {
      data = copyBytes(keyData, `Import data provided for "${format}" import format must be a buffer source`);
    } else if (format === "jwk") {
      if (keyData === null || typeof keyData !== "object" || ArrayBuffer.isView(keyData) || keyData instanceof ArrayBuffer) {
        throw new TypeError(`Import data provided for "jwk" import format must be a JsonWebKey.`);
      }
      data = keyData;
    } else {
      throw notSupported(`Unrecognized key import format "${format}".`);
    }
    const alg = normalize("importKey", algorithm);
    const usages = toUsages(keyUsages);
    const key = HANDLERS[alg.name].import(format, data, alg, Boolean(extractable), usages);
    const state = keyState(key);
    if ((state.type === "secret" || state.type === "private") && state.usages.length === 0) {
      throw syntaxError("Secret/private CryptoKeys must have at least one usage.");
    }
    return key;
  }

  function exportKeySync(format, key) {
    format = String(format);
    const state = keyState(key);
    if (!KEY_FORMATS.includes(format)) throw notSupported(`Unrecognized key export format "${format}".`);
    if (!state.extractable) throw invalidAccess(`Attempt to export non-extractable ${state.algorithm.name} key.`);
    return HANDLERS[state.algorithm.name].export(format, state);
  }

  function deriveLength(length) {
    if (length === undefined || length === null) return null;
    const n = Number(length);
    if (!Number.isFinite(n) || n < 0) throw new TypeError("deriveBits length must be an unsigned long integer.");
    return Math.trunc(n);
  }

  class SubtleCrypto {
    constructor(key) { if (key !== kAbort) throw new TypeError("Illegal constructor"); }

    async digest(algorithm, data) {
      requireArguments(arguments.length, 2, "digest");
      const name = normalize("digest", algorithm).name;
      const bytes = copyBytes(data, "Failed to execute 'digest' on 'SubtleCrypto'");
      return ops.op_crypto_digest(name, bytes);
    }

    async encrypt(algorithm, key, data) {
      requireArguments(arguments.length, 3, "encrypt");
      const alg = normalize("encrypt", algorithm);
      const bytes = copyBytes(data, "Failed to execute 'encrypt' on 'SubtleCrypto'");
      return HANDLERS[alg.name].encrypt(alg, checkKey(key, alg.name, "encrypt"), bytes);
    }

    async decrypt(algorithm, key, data) {
      requireArguments(arguments.length, 3, "decrypt");
      const alg = normalize("decrypt", algorithm);
      const bytes = copyBytes(data, "Failed to execute 'decrypt' on 'SubtleCrypto'");
      return HANDLERS[alg.name].decrypt(alg, checkKey(key, alg.name, "decrypt"), bytes);
    }

    async sign(algorithm, key, data) {
      requireArguments(arguments.length, 3, "sign");
      const alg = normalize("sign", algorithm);
      const bytes = copyBytes(data, "Failed to execute 'sign' on 'SubtleCrypto'");
      return HANDLERS[alg.name].sign(alg, checkKey(key, alg.name, "sign"), bytes);
    }

    async verify(algorithm, key, signature, data) {
      requireArguments(arguments.length, 4, "verify");
      const alg = normalize("verify", algorithm);
      const sig = copyBytes(signature, "Failed to execute 'verify' on 'SubtleCrypto'");
      const bytes = copyBytes(data, "Failed to execute 'verify' on 'SubtleCrypto'");
      return HANDLERS[alg.name].verify(alg, checkKey(key, alg.name, "verify"), sig, bytes);
    }

    async generateKey(algorithm, extractable, keyUsages) {
      requireArguments(arguments.length, 3, "generateKey");
      const alg = normalize("generateKey", algorithm);
      const usages = toUsages(keyUsages);
      const result = HANDLERS[alg.name].generate(alg, Boolean(extractable), usages);
      if (result instanceof CryptoKey) {
        if (keyState(result).usages.length === 0) throw syntaxError("Secret/private CryptoKeys must have at least one usage.");
      } else if (keyState(result.privateKey).usages.length === 0) {
        throw syntaxError("Attempt to generate asymmetric keys with no valid private key usages.");
      }
      return result;
    }

    async importKey(format, keyData, algorithm, extractable, keyUsages) {
      requireArguments(arguments.length, 5, "importKey");
      return importKeySync(format, keyData, algorithm, extractable, keyUsages);
    }

    async exportKey(format, key) {
      requireArguments(arguments.length, 2, "exportKey");
      return exportKeySync(format, key);
    }

    async deriveBits(algorithm, baseKey, length) {
      requireArguments(arguments.length, 2, "deriveBits");
      const alg = normalize("deriveBits", algorithm);
      const bits = deriveLength(length);
      return HANDLERS[alg.name].deriveBits(alg, checkKey(baseKey, alg.name, "deriveBits"), bits);
    }

    async deriveKey(algorithm, baseKey, derivedKeyType, extractable, keyUsages) {
      requireArguments(arguments.length, 5, "deriveKey");
      const alg = normalize("deriveBits", algorithm);
      const lengthAlg = normalize("keyLength", derivedKeyType);
      const state = checkKey(baseKey, alg.name, "deriveKey");
      const length = HANDLERS[lengthAlg.name].keyLength(lengthAlg);
      const secret = HANDLERS[alg.name].deriveBits(alg, state, length);
      return importKeySync("raw", secret, derivedKeyType, extractable, keyUsages);
    }

    async wrapKey(format, key, wrappingKey, wrapAlgorithm) {
      requireArguments(arguments.length, 4, "wrapKey");
      const alg = normalize("wrapKey", wrapAlgorithm);
      const state = checkKey(wrappingKey, alg.name, "wrapKey");
      const exported = exportKeySync(format, key);
      const bytes = String(format) === "jwk" ? new TextEncoder().encode(JSON.stringify(exported)) : new $Uint8Array(exported);
      const handler = HANDLERS[alg.name];
      return alg.name === "AES-KW" ? handler.wrap(alg, state, bytes) : handler.encrypt(alg, state, bytes);
    }

    async unwrapKey(format, wrappedKey, unwrappingKey, unwrapAlgorithm, unwrappedKeyAlgorithm, extractable, keyUsages) {
      requireArguments(arguments.length, 7, "unwrapKey");
      const alg = normalize("unwrapKey", unwrapAlgorithm);
      const wrapped = copyBytes(wrappedKey, "Failed to execute 'unwrapKey' on 'SubtleCrypto'");
      const state = checkKey(unwrappingKey, alg.name, "unwrapKey");
      const handler = HANDLERS[alg.name];
      const bytes = new $Uint8Array(alg.name === "AES-KW" ? handler.unwrap(alg, state, wrapped) : handler.decrypt(alg, state, wrapped));
      let keyData = bytes;
      if (String(format) === "jwk") {
        try {
          keyData = JSON.parse(new TextDecoder().decode(bytes));
        } catch {
          throw dataError(`Missing "kty" field or corrupt JSON unwrapping key?`);
        }
      }
      return importKeySync(format, keyData, unwrappedKeyAlgorithm, extractable, keyUsages);
    }

    // Cloudflare's extension: compares two buffers of equal length in constant time.
    timingSafeEqual(a, b) {
      if (arguments.length < 2) throw new TypeError("Failed to execute 'timingSafeEqual' on 'SubtleCrypto': 2 arguments required.");
      const left = copyBytes(a, "Failed to execute 'timingSafeEqual' on 'SubtleCrypto'");
      const right = copyBytes(b, "Failed to execute 'timingSafeEqual' on 'SubtleCrypto'");
      if (left.byteLength !== right.byteLength) throw new TypeError("Input buffers must have the same byte length.");
      return ops.op_crypto_timing_safe_equal(left, right);
    }
  }
  Object.defineProperty(SubtleCrypto.prototype, Symbol.toStringTag, { value: "SubtleCrypto", configurable: true });

  // ---- DigestStream --------------------------------------------------------------------------

  // A WritableStream whose `digest` promise resolves to the hash of everything written once it is
  // closed (Cloudflare's extension). Strings are hashed as UTF-8.
  class DigestStream extends WritableStream {
    #digest;
    constructor(algorithm) {
      const name = normalize("digest", algorithm).name;
      const state = ops.op_crypto_digest_new(name);
      let resolve;
      let reject;
      const digest = new Promise((res, rej) => { resolve = res; reject = rej; });
      digest.catch(() => {});
      super({
        write(chunk) {
          let bytes;
          if (typeof chunk === "string") bytes = new TextEncoder().encode(chunk);
          else if (chunk instanceof ArrayBuffer || ArrayBuffer.isView(chunk)) bytes = copyBytes(chunk, "DigestStream");
          else throw new TypeError("DigestStream is a byte stream but received an object of non-ArrayBuffer/ArrayBufferView/string type on its writable side.");
          state.update(bytes);
        },
        close() { resolve(state.finish()); },
        abort(reason) { reject(reason); },
      });
      this.#digest = digest;
    }
    get digest() { return this.#digest; }
  }

  return { SubtleCrypto, CryptoKey, DigestStream };
})();

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
Object.defineProperty(Crypto.prototype, "DigestStream", { value: DigestStream, writable: true, configurable: true });
Object.defineProperty(Crypto.prototype, Symbol.toStringTag, { value: "Crypto", configurable: true });

const crypto = new Crypto(kAbort);
for (const [name, value] of Object.entries({ crypto, Crypto, SubtleCrypto, CryptoKey })) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}
