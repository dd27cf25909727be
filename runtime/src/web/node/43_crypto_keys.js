// node:crypto's keys and what uses them: KeyObject (createSecretKey, createPrivateKey,
// createPublicKey, generateKeyPair[Sync]), Sign/Verify and the one-shot sign/verify (RSA
// PKCS#1 v1.5 and PSS, ECDSA with DER or IEEE P1363 signatures, Ed25519), Cipheriv/Decipheriv
// (AES-CBC, AES-CTR, AES-GCM) and ECDH, on the same Rust cryptography as crypto.subtle.
// Keys come as PEM or DER (PKCS#8, SPKI, PKCS#1, SEC1) or as KeyObjects; JWK on export.
// A cipher buffers its input and works at final(): update() returns nothing until then.
const NODE_EC_CURVES = new Map([
  ["p-256", "P-256"], ["prime256v1", "P-256"], ["secp256r1", "P-256"],
  ["p-384", "P-384"], ["secp384r1", "P-384"],
  ["p-521", "P-521"], ["secp521r1", "P-521"],
]);
const NODE_EC_CURVE_OIDS = new Map([["2a8648ce3d030107", "P-256"], ["2b81040022", "P-384"], ["2b81040023", "P-521"]]);
const NODE_OID_RSA = "2a864886f70d010101";
const NODE_OID_EC = "2a8648ce3d0201";
const NODE_OID_ED25519 = "2b6570";
const NODE_OID_X25519 = "2b656e";
const NODE_EC_FIELD_BYTES = { "P-256": 32, "P-384": 48, "P-521": 66 };
const NODE_CURVE_NAMES = { "P-256": "prime256v1", "P-384": "secp384r1", "P-521": "secp521r1" };

function nodeCryptoError(message, code) {
  const err = new Error(message);
  if (code) err.code = code;
  return err;
}

function nodeHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// A minimal DER reader: the tag and contents of the element at `at`, and where it ends.
function derRead(bytes, at) {
  if (at + 2 > bytes.length) throw nodeCryptoError("Invalid key data: truncated DER", "ERR_OSSL_ASN1_NOT_ENOUGH_DATA");
  const tag = bytes[at];
  let length = bytes[at + 1];
  let start = at + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw nodeCryptoError("Invalid key data: bad DER length", "ERR_OSSL_ASN1_BAD_LENGTH");
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[start + i];
    start += count;
  }
  const end = start + length;
  if (end > bytes.length) throw nodeCryptoError("Invalid key data: truncated DER", "ERR_OSSL_ASN1_NOT_ENOUGH_DATA");
  return { tag, start, end, contents: bytes.subarray(start, end) };
}

function derChildren(element, bytes) {
  const out = [];
  for (let at = element.start; at < element.end;) {
    const child = derRead(bytes, at);
    out.push(child);
    at = child.end;
  }
  return out;
}

function derLength(length) {
  if (length < 0x80) return [length];
  const out = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) out.unshift(n & 0xff);
  return [0x80 | out.length, ...out];
}

function derWrap(tag, contents) {
  const head = [tag, ...derLength(contents.length)];
  const out = new Uint8Array(head.length + contents.length);
  out.set(head);
  out.set(contents, head.length);
  return out;
}

// The algorithm (and EC curve) an SPKI or PKCS#8 document names.
function derAlgorithm(der, privateKey) {
  const outer = derRead(der, 0);
  const children = derChildren(outer, der);
  const identifier = children[privateKey ? 1 : 0];
  if (identifier === undefined || identifier.tag !== 0x30) throw nodeCryptoError("Invalid key data: no algorithm identifier", "ERR_OSSL_UNSUPPORTED");
  const [oid, parameters] = derChildren(identifier, der);
  const name = nodeHex(oid.contents);
  if (name === NODE_OID_RSA) return { kind: "rsa" };
  if (name === NODE_OID_ED25519) return { kind: "ed25519" };
  if (name === NODE_OID_X25519) return { kind: "x25519" };
  if (name === NODE_OID_EC) {
    const curve = parameters && NODE_EC_CURVE_OIDS.get(nodeHex(parameters.contents));
    if (!curve) throw nodeCryptoError("Unsupported EC curve", "ERR_OSSL_EC_UNKNOWN_GROUP");
    return { kind: "ec", curve };
  }
  throw nodeCryptoError(`Unsupported key algorithm (OID ${name})`, "ERR_OSSL_UNSUPPORTED");
}

function pemDecode(text) {
  const match = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(text);
  if (!match) return null;
  if (/Proc-Type:.*ENCRYPTED/.test(match[2])) throw nodeCryptoError("Encrypted PEM keys are not supported by Kiln", "ERR_OSSL_UNSUPPORTED");
  return { label: match[1], der: new Uint8Array(Buffer.from(match[2].replace(/[^A-Za-z0-9+/=]/g, ""), "base64")) };
}

function pemEncode(label, der) {
  const base64 = Buffer.from(der).toString("base64");
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

const kKeyMaterial = Symbol("keyMaterial");

class KeyObject {
  #type;
  constructor(type, material) {
    if (material === undefined || (type !== "secret" && type !== "private" && type !== "public")) {
      throw new TypeError("Illegal constructor");
    }
    this.#type = type;
    this[kKeyMaterial] = material;
  }
  get type() { return this.#type; }
  get symmetricKeySize() { return this.#type === "secret" ? this[kKeyMaterial].bytes.length : undefined; }
  get asymmetricKeyType() { return this.#type === "secret" ? undefined : this[kKeyMaterial].kind; }
  get asymmetricKeyDetails() {
    const m = this[kKeyMaterial];
    if (m.kind === "rsa") {
      const [bits, exponent] = ops.op_crypto_rsa_info(m.priv ?? m.pub, m.priv !== undefined);
      return { modulusLength: bits, publicExponent: BigInt(`0x${nodeHex(exponent) || "0"}`) };
    }
    if (m.kind === "ec") return { namedCurve: NODE_CURVE_NAMES[m.curve] };
    return this.#type === "secret" ? undefined : {};
  }
  equals(other) {
    if (!(other instanceof KeyObject) || other.type !== this.#type) return false;
    const a = this.export(this.#type === "secret" ? {} : { format: "der", type: this.#type === "private" ? "pkcs8" : "spki" });
    const b = other.export(this.#type === "secret" ? {} : { format: "der", type: this.#type === "private" ? "pkcs8" : "spki" });
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }
  export(options = {}) {
    const m = this[kKeyMaterial];
    const format = options?.format ?? (this.#type === "secret" ? "buffer" : undefined);
    if (this.#type === "secret") {
      if (format === "jwk") return { kty: "oct", k: Buffer.from(m.bytes).toString("base64url") };
      return Buffer.from(m.bytes);
    }
    if (format === "jwk") return nodeKeyJwk(this.#type, m);
    if (format !== "pem" && format !== "der") throw new TypeError('The property \'options.format\' must be one of: "pem", "der", "jwk".');
    const type = options?.type ?? (this.#type === "private" ? "pkcs8" : "spki");
    let der, label;
    if (this.#type === "public") {
      if (type === "pkcs1" && m.kind === "rsa") { der = m.pub; label = "RSA PUBLIC KEY"; }
      else if (type === "spki") { der = nodeSpki(m); label = "PUBLIC KEY"; }
      else throw new TypeError(`Unsupported public key encoding type ${type}`);
    } else if (type === "pkcs1" && m.kind === "rsa") { der = m.priv; label = "RSA PRIVATE KEY"; }
    else if (type === "pkcs8") { der = nodePkcs8(m); label = "PRIVATE KEY"; }
    else if (type === "sec1" && m.kind === "ec") { der = nodeSec1(m); label = "EC PRIVATE KEY"; }
    else throw new TypeError(`Unsupported private key encoding type ${type}`);
    return format === "pem" ? pemEncode(label, der) : Buffer.from(der);
  }
  toCryptoKey() { throw nodeCryptoError("KeyObject.toCryptoKey() is not supported by Kiln", "ERR_METHOD_NOT_IMPLEMENTED"); }
  static from(key) { throw nodeCryptoError("KeyObject.from(CryptoKey) is not supported by Kiln", "ERR_METHOD_NOT_IMPLEMENTED"); }
  get [Symbol.toStringTag]() { return "KeyObject"; }
}

function nodeSpki(m) {
  if (m.kind === "rsa") return new Uint8Array(ops.op_crypto_rsa_export("spki", m.pub));
  if (m.kind === "ec") return new Uint8Array(ops.op_crypto_ec_export(m.curve, "spki", m.pub));
  return new Uint8Array(ops.op_crypto_okp_export(m.kind === "ed25519" ? "Ed25519" : "X25519", "spki", m.pub));
}

function nodePkcs8(m) {
  if (m.kind === "rsa") return new Uint8Array(ops.op_crypto_rsa_export("pkcs8", m.priv));
  if (m.kind === "ec") return new Uint8Array(ops.op_crypto_ec_export(m.curve, "pkcs8", m.priv));
  return new Uint8Array(ops.op_crypto_okp_export(m.kind === "ed25519" ? "Ed25519" : "X25519", "pkcs8", m.priv));
}

// SEC1's ECPrivateKey inside a PKCS#8 document is what OpenSSL writes as "EC PRIVATE KEY".
function nodeSec1(m) {
  const pkcs8 = nodePkcs8(m);
  const children = derChildren(derRead(pkcs8, 0), pkcs8);
  return children[2].contents.slice();
}

function nodeKeyJwk(type, m) {
  const b64 = (bytes) => Buffer.from(bytes).toString("base64url");
  if (m.kind === "rsa") {
    const members = ops.op_crypto_rsa_export_jwk(type === "private" ? m.priv : m.pub, type === "private");
    const names = ["n", "e", "d", "p", "q", "dp", "dq", "qi"];
    const jwk = { kty: "RSA" };
    members.forEach((bytes, i) => { jwk[names[i]] = b64(bytes); });
    return jwk;
  }
  if (m.kind === "ec") {
    const n = NODE_EC_FIELD_BYTES[m.curve];
    const jwk = { kty: "EC", crv: m.curve, x: b64(m.pub.slice(1, 1 + n)), y: b64(m.pub.slice(1 + n)) };
    if (type === "private") jwk.d = b64(m.priv);
    return jwk;
  }
  const jwk = { kty: "OKP", crv: m.kind === "ed25519" ? "Ed25519" : "X25519", x: b64(m.pub) };
  if (type === "private") jwk.d = b64(m.priv);
  return jwk;
}

// Key material from DER: `kind` "private" (PKCS#8, PKCS#1, SEC1) or "public" (SPKI, PKCS#1).
function nodeKeyFromDer(der, type, encoding) {
  if (type === "private") {
    if (encoding === "pkcs1") {
      const priv = ops.op_crypto_rsa_import("pkcs8", new Uint8Array(ops.op_crypto_rsa_export("pkcs8", der)));
      return { kind: "rsa", priv, pub: ops.op_crypto_rsa_public_of(priv) };
    }
    if (encoding === "sec1") {
      const children = derChildren(derRead(der, 0), der);
      const parameters = children.find((c) => c.tag === 0xa0);
      const oid = parameters && derRead(der, parameters.start);
      const curve = oid && NODE_EC_CURVE_OIDS.get(nodeHex(oid.contents));
      if (!curve) throw nodeCryptoError("Unsupported EC curve", "ERR_OSSL_EC_UNKNOWN_GROUP");
      const [priv, pub] = ops.op_crypto_ec_import_private(curve, "scalar", children[1].contents.slice());
      return { kind: "ec", curve, priv, pub };
    }
    const algorithm = derAlgorithm(der, true);
    if (algorithm.kind === "rsa") {
      const priv = ops.op_crypto_rsa_import("pkcs8", der);
      return { kind: "rsa", priv, pub: ops.op_crypto_rsa_public_of(priv) };
    }
    if (algorithm.kind === "ec") {
      const [priv, pub] = ops.op_crypto_ec_import_private(algorithm.curve, "pkcs8", der);
      return { kind: "ec", curve: algorithm.curve, priv, pub };
    }
    const [priv, pub] = ops.op_crypto_okp_import_private(algorithm.kind === "ed25519" ? "Ed25519" : "X25519", "pkcs8", der);
    return { kind: algorithm.kind, priv, pub };
  }
  if (encoding === "pkcs1") {
    return { kind: "rsa", pub: ops.op_crypto_rsa_import("spki", new Uint8Array(ops.op_crypto_rsa_export("spki", der))) };
  }
  const algorithm = derAlgorithm(der, false);
  if (algorithm.kind === "rsa") return { kind: "rsa", pub: ops.op_crypto_rsa_import("spki", der) };
  if (algorithm.kind === "ec") return { kind: "ec", curve: algorithm.curve, pub: ops.op_crypto_ec_import_public(algorithm.curve, "spki", der) };
  return { kind: algorithm.kind, pub: ops.op_crypto_okp_import_public(algorithm.kind === "ed25519" ? "Ed25519" : "X25519", "spki", der) };
}

const PEM_PRIVATE = { "PRIVATE KEY": "pkcs8", "RSA PRIVATE KEY": "pkcs1", "EC PRIVATE KEY": "sec1" };
const PEM_PUBLIC = { "PUBLIC KEY": "spki", "RSA PUBLIC KEY": "pkcs1" };

// A key as node:crypto's functions take it: a KeyObject, PEM text or bytes, or
// `{ key, format, type, encoding }`. `want`: "private" or "public" (a private key also
// gives its public half).
function nodeAsymmetricKey(input, want) {
  if (input instanceof KeyObject) {
    if (input.type === "secret") throw new TypeError(`Invalid key object type secret, expected ${want}.`);
    if (want === "public" && input.type === "private") {
      const m = input[kKeyMaterial];
      return { ...m, priv: undefined };
    }
    if (want === "private" && input.type !== "private") throw new TypeError(`Invalid key object type ${input.type}, expected private.`);
    return input[kKeyMaterial];
  }
  let key = input, format = "pem", type, encoding;
  if (input !== null && typeof input === "object" && !ArrayBuffer.isView(input) && !(input instanceof ArrayBuffer)) {
    if (input.key instanceof KeyObject) return nodeAsymmetricKey(input.key, want);
    key = input.key;
    format = input.format ?? "pem";
    type = input.type;
    encoding = input.encoding;
    if (input.passphrase !== undefined) throw nodeCryptoError("Encrypted private keys are not supported by Kiln", "ERR_OSSL_UNSUPPORTED");
  }
  if (format === "jwk") return nodeKeyFromJwk(key, want);
  if (format === "der") {
    const der = new Uint8Array(nodeBytes(key, encoding));
    const kind = want === "private" || type === "pkcs8" || type === "sec1" ? "private" : "public";
    return nodeKeyFromDer(der, kind, type ?? (kind === "private" ? "pkcs8" : "spki"));
  }
  const text = typeof key === "string" ? key : Buffer.from(nodeBytes(key)).toString("latin1");
  const pem = pemDecode(text);
  if (pem === null) {
    const err = nodeCryptoError("error:1E08010C:DECODER routines::unsupported", "ERR_OSSL_UNSUPPORTED");
    throw err;
  }
  if (PEM_PRIVATE[pem.label] !== undefined) {
    const m = nodeKeyFromDer(pem.der, "private", PEM_PRIVATE[pem.label]);
    return want === "public" ? { ...m, priv: undefined } : m;
  }
  if (PEM_PUBLIC[pem.label] !== undefined) {
    if (want === "private") throw nodeCryptoError("error:1E08010C:DECODER routines::unsupported", "ERR_OSSL_UNSUPPORTED");
    return nodeKeyFromDer(pem.der, "public", PEM_PUBLIC[pem.label]);
  }
  if (pem.label === "CERTIFICATE") {
    if (want === "private") throw nodeCryptoError("error:1E08010C:DECODER routines::unsupported", "ERR_OSSL_UNSUPPORTED");
    return x509PublicKeyMaterial(pem.der);
  }
  throw nodeCryptoError(`Unsupported PEM label ${pem.label}`, "ERR_OSSL_UNSUPPORTED");
}

function nodeKeyFromJwk(jwk, want) {
  const bytes = (value) => new Uint8Array(Buffer.from(String(value ?? ""), "base64url"));
  if (jwk?.kty === "EC") {
    const curve = NODE_EC_CURVES.get(String(jwk.crv).toLowerCase());
    if (!curve) throw nodeCryptoError("Unsupported JWK EC curve", "ERR_CRYPTO_INVALID_JWK");
    const pub = ops.op_crypto_ec_import_public(curve, "raw", new Uint8Array([4, ...bytes(jwk.x), ...bytes(jwk.y)]));
    if (jwk.d === undefined || want === "public") return { kind: "ec", curve, pub };
    const [priv] = ops.op_crypto_ec_import_private(curve, "scalar", bytes(jwk.d));
    return { kind: "ec", curve, priv, pub };
  }
  if (jwk?.kty === "RSA") {
    const names = jwk.d === undefined || want === "public" ? ["n", "e"] : ["n", "e", "d", "p", "q", "dp", "dq", "qi"];
    const der = ops.op_crypto_rsa_import_jwk(names.map((name) => bytes(jwk[name])));
    return names.length === 2 ? { kind: "rsa", pub: der } : { kind: "rsa", priv: der, pub: ops.op_crypto_rsa_public_of(der) };
  }
  throw nodeCryptoError(`Unsupported JWK key type ${jwk?.kty}`, "ERR_CRYPTO_INVALID_JWK");
}

function createSecretKey(key, encoding = undefined) {
  return new KeyObject("secret", { bytes: Uint8Array.from(nodeBytes(key, encoding)) });
}

function createPrivateKey(key) {
  return new KeyObject("private", nodeAsymmetricKey(key, "private"));
}

function createPublicKey(key) {
  const m = nodeAsymmetricKey(key, "public");
  return new KeyObject("public", { kind: m.kind, curve: m.curve, pub: m.pub });
}

// A hash name such as "sha256", "RSA-SHA256" or "ecdsa-with-SHA256" as Web Crypto names it.
function nodeSignHash(algorithm) {
  return nodeHashName(String(algorithm).replace(/^(rsa-|ecdsa-with-)/i, ""));
}

const NODE_RSA_PKCS1_PSS_PADDING = 6;
const NODE_RSA_PSS_SALTLEN_DIGEST = -1;
const NODE_RSA_PSS_SALTLEN_MAX_SIGN = -2;
const NODE_HASH_BYTES = { "SHA-1": 20, "SHA-256": 32, "SHA-384": 48, "SHA-512": 64 };

function nodeRsaScheme(options, m, hash, signing) {
  if (options?.padding !== NODE_RSA_PKCS1_PSS_PADDING) return ["RSASSA-PKCS1-v1_5", 0];
  let salt = options?.saltLength ?? (signing ? NODE_RSA_PSS_SALTLEN_MAX_SIGN : NODE_RSA_PSS_SALTLEN_DIGEST);
  if (salt === NODE_RSA_PSS_SALTLEN_DIGEST) salt = NODE_HASH_BYTES[hash];
  else if (salt < 0) {
    const [bits] = ops.op_crypto_rsa_info(m.priv ?? m.pub, m.priv !== undefined);
    salt = Math.ceil((bits - 1) / 8) - NODE_HASH_BYTES[hash] - 2;
  }
  return ["RSA-PSS", salt];
}

// ECDSA signatures: Web Crypto's r||s (IEEE P1363) to DER and back.
function ecdsaToDer(raw) {
  const half = raw.length / 2;
  const integer = (bytes) => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    let body = bytes.subarray(i);
    if (body[0] & 0x80) body = new Uint8Array([0, ...body]);
    return derWrap(0x02, body);
  };
  const r = integer(raw.subarray(0, half));
  const s = integer(raw.subarray(half));
  const both = new Uint8Array(r.length + s.length);
  both.set(r);
  both.set(s, r.length);
  return derWrap(0x30, both);
}

function ecdsaFromDer(der, curve) {
  const n = NODE_EC_FIELD_BYTES[curve];
  const out = new Uint8Array(2 * n);
  try {
    const [r, s] = derChildren(derRead(der, 0), der);
    const place = (value, at) => {
      let bytes = value.contents;
      while (bytes.length > n && bytes[0] === 0) bytes = bytes.subarray(1);
      if (bytes.length > n) throw new Error("too long");
      out.set(bytes, at + n - bytes.length);
    };
    place(r, 0);
    place(s, n);
  } catch {
    return null;
  }
  return out;
}

// The options that came with a key given as `{ key, padding, saltLength, dsaEncoding }`.
function nodeKeyOptions(key) {
  return key !== null && typeof key === "object" && !(key instanceof KeyObject) && !ArrayBuffer.isView(key) ? key : {};
}

function nodeSignWith(hash, data, key) {
  const m = nodeAsymmetricKey(key, "private");
  const options = nodeKeyOptions(key);
  if (m.kind === "rsa") {
    const [scheme, salt] = nodeRsaScheme(options, m, hash, true);
    return Buffer.from(ops.op_crypto_rsa_sign(scheme, hash, salt, m.priv, data));
  }
  if (m.kind === "ec") {
    const raw = new Uint8Array(ops.op_crypto_ecdsa_sign(m.curve, hash, m.priv, data));
    return Buffer.from(options.dsaEncoding === "ieee-p1363" ? raw : ecdsaToDer(raw));
  }
  if (m.kind === "ed25519") return Buffer.from(ops.op_crypto_ed25519_sign(m.priv, data));
  throw nodeCryptoError(`Signing is not supported for ${m.kind} keys`, "ERR_CRYPTO_INVALID_KEY_OBJECT_TYPE");
}

function nodeVerifyWith(hash, data, key, signature) {
  const m = nodeAsymmetricKey(key, "public");
  const options = nodeKeyOptions(key);
  const sig = new Uint8Array(nodeBytes(signature));
  if (m.kind === "rsa") {
    const [scheme, salt] = nodeRsaScheme(options, m, hash, false);
    return ops.op_crypto_rsa_verify(scheme, hash, salt, m.pub, sig, data);
  }
  if (m.kind === "ec") {
    const raw = options.dsaEncoding === "ieee-p1363" ? sig : ecdsaFromDer(sig, m.curve);
    return raw !== null && ops.op_crypto_ecdsa_verify(m.curve, hash, m.pub, raw, data);
  }
  if (m.kind === "ed25519") return ops.op_crypto_ed25519_verify(m.pub, sig, data);
  throw nodeCryptoError(`Verifying is not supported for ${m.kind} keys`, "ERR_CRYPTO_INVALID_KEY_OBJECT_TYPE");
}

function nodeConcat(chunks) {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}

class Sign {
  #hash;
  #chunks = [];
  constructor(algorithm) { this.#hash = nodeSignHash(algorithm); }
  update(data, encoding = undefined) { this.#chunks.push(Uint8Array.from(nodeBytes(data, encoding))); return this; }
  sign(key, outputEncoding = undefined) {
    const signature = nodeSignWith(this.#hash, nodeConcat(this.#chunks), key);
    return outputEncoding === undefined || outputEncoding === "buffer" ? signature : signature.toString(outputEncoding);
  }
}

class Verify {
  #hash;
  #chunks = [];
  constructor(algorithm) { this.#hash = nodeSignHash(algorithm); }
  update(data, encoding = undefined) { this.#chunks.push(Uint8Array.from(nodeBytes(data, encoding))); return this; }
  verify(key, signature, signatureEncoding = undefined) {
    const sig = typeof signature === "string" ? Buffer.from(signature, signatureEncoding ?? "utf8") : signature;
    return nodeVerifyWith(this.#hash, nodeConcat(this.#chunks), key, sig);
  }
}

function nodeOneShotHash(algorithm, key) {
  if (algorithm !== null && algorithm !== undefined) return nodeSignHash(algorithm);
  const m = nodeAsymmetricKey(key, "public");
  if (m.kind === "ed25519") return null;
  return "SHA-256";
}

function nodeSign(algorithm, data, key, callback = undefined) {
  const run = () => nodeSignWith(nodeOneShotHash(algorithm, key), new Uint8Array(nodeBytes(data)), key);
  if (typeof callback !== "function") return run();
  queueMicrotask(() => { let out; try { out = run(); } catch (err) { callback(err); return; } callback(null, out); });
  return undefined;
}

function nodeVerify(algorithm, data, key, signature, callback = undefined) {
  const run = () => nodeVerifyWith(nodeOneShotHash(algorithm, key), new Uint8Array(nodeBytes(data)), key, signature);
  if (typeof callback !== "function") return run();
  queueMicrotask(() => { let out; try { out = run(); } catch (err) { callback(err); return; } callback(null, out); });
  return undefined;
}

function nodeEncodeKey(keyObject, encoding) {
  if (encoding === undefined) return keyObject;
  const out = keyObject.export(encoding);
  return out;
}

function generateKeyPairSync(type, options = {}) {
  let material;
  if (type === "rsa") {
    const exponent = Number(options.publicExponent ?? 65537);
    const bytes = [];
    for (let e = exponent; e > 0; e = Math.floor(e / 256)) bytes.unshift(e & 0xff);
    const [priv, pub] = ops.op_crypto_rsa_generate(Number(options.modulusLength ?? 2048), new Uint8Array(bytes));
    material = { kind: "rsa", priv, pub };
  } else if (type === "ec") {
    const curve = NODE_EC_CURVES.get(String(options.namedCurve ?? "").toLowerCase());
    if (!curve) throw new TypeError(`Invalid EC curve name ${options.namedCurve}`);
    const [priv, pub] = ops.op_crypto_ec_generate(curve);
    material = { kind: "ec", curve, priv, pub };
  } else if (type === "ed25519" || type === "x25519") {
    const [priv, pub] = ops.op_crypto_okp_generate(type === "ed25519" ? "Ed25519" : "X25519");
    material = { kind: type, priv, pub };
  } else {
    throw nodeCryptoError(`Key pair type ${type} is not supported by Kiln`, "ERR_METHOD_NOT_IMPLEMENTED");
  }
  const privateKey = new KeyObject("private", material);
  const publicKey = new KeyObject("public", { kind: material.kind, curve: material.curve, pub: material.pub });
  return {
    publicKey: nodeEncodeKey(publicKey, options.publicKeyEncoding),
    privateKey: nodeEncodeKey(privateKey, options.privateKeyEncoding),
  };
}

function generateKeyPair(type, options, callback) {
  if (typeof options === "function") { callback = options; options = {}; }
  queueMicrotask(() => {
    let pair;
    try { pair = generateKeyPairSync(type, options); } catch (err) { callback(err); return; }
    callback(null, pair.publicKey, pair.privateKey);
  });
}

function generateKeySync(type, options = {}) {
  const length = Number(options.length);
  if (type !== "hmac" && type !== "aes") throw new TypeError(`Invalid key type ${type}`);
  return createSecretKey(crypto.getRandomValues(new Uint8Array(Math.floor(length / 8))));
}

// ---- Ciphers -----------------------------------------------------------------------------------
const NODE_CIPHERS = new Map([
  ["aes-128-cbc", ["cbc", 16]], ["aes-192-cbc", ["cbc", 24]], ["aes-256-cbc", ["cbc", 32]],
  ["aes-128-ctr", ["ctr", 16]], ["aes-192-ctr", ["ctr", 24]], ["aes-256-ctr", ["ctr", 32]],
  ["aes-128-gcm", ["gcm", 16]], ["aes-192-gcm", ["gcm", 24]], ["aes-256-gcm", ["gcm", 32]],
]);

class NodeCipher {
  #mode;
  #key;
  #iv;
  #encrypt;
  #chunks = [];
  #aad = new Uint8Array(0);
  #tag = null;
  #tagLength;
  #done = false;
  constructor(encrypt, algorithm, key, iv, options) {
    const found = NODE_CIPHERS.get(String(algorithm).toLowerCase());
    if (!found) throw nodeCryptoError("Unknown cipher", "ERR_CRYPTO_UNKNOWN_CIPHER");
    const [mode, keyBytes] = found;
    this.#key = key instanceof KeyObject ? key[kKeyMaterial].bytes : Uint8Array.from(nodeBytes(key));
    if (this.#key.length !== keyBytes) throw new RangeError("Invalid key length");
    this.#iv = Uint8Array.from(nodeBytes(iv));
    if (mode !== "gcm" && this.#iv.length !== 16) throw new RangeError("Invalid initialization vector");
    this.#mode = mode;
    this.#encrypt = encrypt;
    this.#tagLength = Number(options?.authTagLength ?? 16);
  }
  update(data, inputEncoding = undefined, outputEncoding = undefined) {
    if (this.#done) throw nodeCryptoError("Unsupported state", "ERR_CRYPTO_INVALID_STATE");
    this.#chunks.push(Uint8Array.from(nodeBytes(data, inputEncoding)));
    const empty = Buffer.alloc(0);
    return outputEncoding === undefined || outputEncoding === "buffer" ? empty : "";
  }
  final(outputEncoding = undefined) {
    if (this.#done) throw nodeCryptoError("Unsupported state", "ERR_CRYPTO_INVALID_STATE");
    this.#done = true;
    let data = nodeConcat(this.#chunks);
    let out;
    if (this.#mode === "cbc") {
      out = ops[this.#encrypt ? "op_crypto_aes_cbc_encrypt" : "op_crypto_aes_cbc_decrypt"](this.#key, this.#iv, data);
    } else if (this.#mode === "ctr") {
      out = ops.op_crypto_aes_ctr(this.#key, this.#iv, 128, data);
    } else if (this.#encrypt) {
      const sealed = new Uint8Array(ops.op_crypto_aes_gcm_encrypt(this.#key, this.#iv, this.#aad, this.#tagLength * 8, data));
      this.#tag = sealed.slice(sealed.length - this.#tagLength);
      out = sealed.subarray(0, sealed.length - this.#tagLength);
    } else {
      if (this.#tag === null) throw nodeCryptoError("Unsupported state or unable to authenticate data", "ERR_CRYPTO_INVALID_STATE");
      try {
        out = ops.op_crypto_aes_gcm_decrypt(this.#key, this.#iv, this.#aad, this.#tag.length * 8, nodeConcat([data, this.#tag]));
      } catch {
        throw new Error("Unsupported state or unable to authenticate data");
      }
    }
    const buffer = Buffer.from(out);
    return outputEncoding === undefined || outputEncoding === "buffer" ? buffer : buffer.toString(outputEncoding);
  }
  setAAD(aad) { this.#aad = Uint8Array.from(nodeBytes(aad)); return this; }
  getAuthTag() {
    if (this.#tag === null || !this.#encrypt) throw nodeCryptoError("Invalid state for operation getAuthTag", "ERR_CRYPTO_INVALID_STATE");
    return Buffer.from(this.#tag);
  }
  setAuthTag(tag) { this.#tag = Uint8Array.from(nodeBytes(tag)); return this; }
  setAutoPadding(pad = true) {
    if (!pad) throw nodeCryptoError("setAutoPadding(false) is not supported by Kiln", "ERR_METHOD_NOT_IMPLEMENTED");
    return this;
  }
}

class ECDH {
  #curve;
  #priv = null;
  #pub = null;
  constructor(curve) {
    this.#curve = NODE_EC_CURVES.get(String(curve).toLowerCase());
    if (!this.#curve) throw new TypeError(`Invalid EC curve name ${curve}`);
  }
  generateKeys(encoding = undefined, format = undefined) {
    [this.#priv, this.#pub] = ops.op_crypto_ec_generate(this.#curve);
    return this.getPublicKey(encoding, format);
  }
  getPublicKey(encoding = undefined) {
    if (this.#pub === null) throw nodeCryptoError("Failed to get ECDH public key", "ERR_CRYPTO_ECDH_INVALID_PUBLIC_KEY");
    const buffer = Buffer.from(this.#pub);
    return encoding === undefined || encoding === "buffer" ? buffer : buffer.toString(encoding);
  }
  getPrivateKey(encoding = undefined) {
    const buffer = Buffer.from(this.#priv ?? []);
    return encoding === undefined || encoding === "buffer" ? buffer : buffer.toString(encoding);
  }
  setPrivateKey(key, encoding = undefined) {
    [this.#priv, this.#pub] = ops.op_crypto_ec_import_private(this.#curve, "scalar", Uint8Array.from(nodeBytes(key, encoding)));
  }
  computeSecret(other, inputEncoding = undefined, outputEncoding = undefined) {
    const peer = ops.op_crypto_ec_import_public(this.#curve, "raw", Uint8Array.from(nodeBytes(other, inputEncoding)));
    const buffer = Buffer.from(ops.op_crypto_ecdh(this.#curve, this.#priv, peer));
    return outputEncoding === undefined || outputEncoding === "buffer" ? buffer : buffer.toString(outputEncoding);
  }
}

Object.assign(nodeCrypto, {
  KeyObject,
  createSecretKey,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  generateKeyPair,
  generateKeySync,
  generateKey: (type, options, callback) => queueMicrotask(() => { let key; try { key = generateKeySync(type, options); } catch (err) { callback(err); return; } callback(null, key); }),
  Sign,
  Verify,
  createSign: (algorithm) => new Sign(algorithm),
  createVerify: (algorithm) => new Verify(algorithm),
  sign: nodeSign,
  verify: nodeVerify,
  createCipheriv: (algorithm, key, iv, options) => new NodeCipher(true, algorithm, key, iv, options),
  createDecipheriv: (algorithm, key, iv, options) => new NodeCipher(false, algorithm, key, iv, options),
  Cipheriv: NodeCipher,
  Decipheriv: NodeCipher,
  ECDH,
  createECDH: (curve) => new ECDH(curve),
  getCiphers: () => [...NODE_CIPHERS.keys()],
  constants: { ...nodeCrypto.constants, RSA_PKCS1_PADDING: 1, RSA_PKCS1_PSS_PADDING: NODE_RSA_PKCS1_PSS_PADDING, RSA_PSS_SALTLEN_DIGEST: NODE_RSA_PSS_SALTLEN_DIGEST, RSA_PSS_SALTLEN_MAX_SIGN: NODE_RSA_PSS_SALTLEN_MAX_SIGN, RSA_PSS_SALTLEN_AUTO: -2 },
});

// Node's Hash, Hmac, Sign, Verify and ciphers are streams: code writes to them (`write()`,
// `end()`, or a Readable piped in) and reads a Hash's digest or a cipher's output back. Each
// gets EventEmitter and the writable side; Hash, Hmac and ciphers also a readable side that
// gives their result once the input has ended.
function nodeCryptoStream(cls, output) {
  Object.setPrototypeOf(cls.prototype, EventEmitter.prototype);
  const kEnded = Symbol("ended");
  const kResult = Symbol("result");
  const kEncoding = Symbol("encoding");
  const encoded = (stream, bytes) => (stream[kEncoding] ? bytes.toString(stream[kEncoding]) : bytes);
  Object.assign(cls.prototype, {
    write(chunk, encoding = undefined, callback = undefined) {
      if (typeof encoding === "function") { callback = encoding; encoding = undefined; }
      const out = this.update(chunk, encoding);
      if (output !== null && out !== undefined && out !== this && out.length > 0) this.emit("data", encoded(this, out));
      if (typeof callback === "function") queueMicrotask(callback);
      return true;
    },
    end(chunk = undefined, encoding = undefined, callback = undefined) {
      if (typeof chunk === "function") { callback = chunk; chunk = undefined; }
      if (typeof encoding === "function") { callback = encoding; encoding = undefined; }
      if (chunk !== undefined && chunk !== null) this.write(chunk, encoding);
      if (this[kEnded]) return this;
      this[kEnded] = true;
      if (output !== null) {
        const result = encoded(this, output(this));
        this[kResult] = result;
        queueMicrotask(() => {
          if (result.length > 0) this.emit("data", result);
          this.emit("readable");
          this.emit("end");
        });
      }
      queueMicrotask(() => {
        this.emit("finish");
        if (typeof callback === "function") callback();
      });
      return this;
    },
    read() {
      const result = this[kResult];
      this[kResult] = null;
      return result ?? null;
    },
    pipe(destination, options = {}) {
      this.on("data", (chunk) => destination.write(chunk));
      if (options?.end !== false) this.on("end", () => destination.end());
      return destination;
    },
    setEncoding(encoding) {
      this[kEncoding] = encoding;
      return this;
    },
    cork() {},
    uncork() {},
    destroy(err = undefined) {
      if (err) queueMicrotask(() => this.emit("error", err));
      queueMicrotask(() => this.emit("close"));
      return this;
    },
  });
}
nodeCryptoStream(Sign, null);
nodeCryptoStream(Verify, null);
nodeCryptoStream(Hash, (hash) => hash.digest());
nodeCryptoStream(Hmac, (hmac) => hmac.digest());
nodeCryptoStream(NodeCipher, (cipher) => cipher.final());

