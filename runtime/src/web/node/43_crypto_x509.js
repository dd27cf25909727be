// node:crypto's X.509 certificates: `X509Certificate` (names, validity, extensions the way
// Node prints them, fingerprints, the public key, signature checks) and certificates as public
// keys (`createPublicKey(certPem)`, `verify(..., certPem, ...)`), which is how Google, Firebase
// and Azure AD ID tokens are checked. Parsed with 43_crypto_keys.js's DER reader; nothing here
// trusts the certificate's bytes: a malformed one is an error, never a crash.

const X509_NAME_OIDS = new Map([
  ["550403", "CN"], ["550406", "C"], ["550407", "L"], ["550408", "ST"], ["55040a", "O"],
  ["55040b", "OU"], ["550405", "serialNumber"], ["550409", "street"], ["55040c", "title"],
  ["55042a", "GN"], ["550404", "SN"], ["2a864886f70d010901", "emailAddress"],
  ["0992268993f22c640119", "DC"], ["0992268993f22c640101", "UID"],
]);
const X509_OID_SUBJECT_ALT_NAME = "551d11";
const X509_OID_BASIC_CONSTRAINTS = "551d13";
// Signature algorithms: OID -> the digest `crypto.verify` takes (null: the key decides).
const X509_SIGNATURES = new Map([
  ["2a864886f70d010105", "sha1"], ["2a864886f70d01010b", "sha256"],
  ["2a864886f70d01010c", "sha384"], ["2a864886f70d01010d", "sha512"],
  ["2a8648ce3d040302", "sha256"], ["2a8648ce3d040303", "sha384"], ["2a8648ce3d040304", "sha512"],
  ["2b6570", null],
]);
const X509_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function x509Invalid() {
  return nodeCryptoError("error:0680007B:asn1 encoding routines::header too long", "ERR_OSSL_ASN1_HEADER_TOO_LONG");
}

// The elements of a DER SEQUENCE, each with the offset its header starts at.
function x509Elements(bytes, parent) {
  const out = [];
  for (let at = parent.start; at < parent.end;) {
    const element = derRead(bytes, at);
    element.begin = at;
    out.push(element);
    at = element.end;
  }
  return out;
}

function x509Text(element) {
  const bytes = element.contents;
  if (element.tag === 0x1e) {
    let text = "";
    for (let i = 0; i + 1 < bytes.length; i += 2) text += String.fromCharCode((bytes[i] << 8) | bytes[i + 1]);
    return text;
  }
  if (element.tag === 0x0c) return new TextDecoder().decode(bytes);
  return String.fromCharCode(...bytes);
}

// A Name as Node prints it: one `KEY=value` line per attribute, in the certificate's order.
function x509Name(bytes, name) {
  const lines = [];
  for (const rdn of x509Elements(bytes, name)) {
    for (const attribute of x509Elements(bytes, rdn)) {
      const [oid, value] = x509Elements(bytes, attribute);
      if (oid === undefined || value === undefined) throw x509Invalid();
      const hex = nodeHex(oid.contents);
      lines.push(`${X509_NAME_OIDS.get(hex) ?? x509Oid(oid.contents)}=${x509Text(value)}`);
    }
  }
  return lines.join("\n");
}

function x509Oid(bytes) {
  if (bytes.length === 0) return "";
  const parts = [Math.floor(bytes[0] / 40), bytes[0] % 40];
  let value = 0;
  for (let i = 1; i < bytes.length; i++) {
    value = value * 128 + (bytes[i] & 0x7f);
    if (!(bytes[i] & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join(".");
}

function x509Time(element) {
  const text = String.fromCharCode(...element.contents);
  const m = element.tag === 0x17
    ? /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?Z$/.exec(text)
    : /^(\d\d\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?Z$/.exec(text);
  if (!m) throw x509Invalid();
  let year = Number(m[1]);
  if (element.tag === 0x17) year += year < 50 ? 2000 : 1900;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)));
}

// OpenSSL's ASN1_TIME_print: "Jan  2 03:04:05 2026 GMT".
function x509TimeText(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${X509_MONTHS[date.getUTCMonth()]} ${String(date.getUTCDate()).padStart(2, " ")} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} ${date.getUTCFullYear()} GMT`;
}

function x509Ip(bytes) {
  if (bytes.length === 4) return Array.from(bytes).join(".");
  const groups = [];
  for (let i = 0; i + 1 < bytes.length; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16).toUpperCase());
  return groups.join(":");
}

// Everything Kiln reads of a certificate, from its DER.
function x509Parse(der) {
  const certificate = derRead(der, 0);
  if (certificate.tag !== 0x30 || certificate.end !== der.length) throw x509Invalid();
  const [tbs, signatureAlgorithm, signature] = x509Elements(der, certificate);
  if (tbs?.tag !== 0x30 || signatureAlgorithm?.tag !== 0x30 || signature?.tag !== 0x03) throw x509Invalid();
  const fields = x509Elements(der, tbs);
  let i = fields[0]?.tag === 0xa0 ? 1 : 0;
  const [serial, , issuer, validity, subject, spki] = fields.slice(i, i + 6);
  i += 6;
  if (serial?.tag !== 0x02 || issuer?.tag !== 0x30 || validity?.tag !== 0x30 || subject?.tag !== 0x30 || spki?.tag !== 0x30) throw x509Invalid();
  const [notBefore, notAfter] = x509Elements(der, validity);
  if (notBefore === undefined || notAfter === undefined) throw x509Invalid();
  const out = {
    tbs: der.subarray(tbs.begin, tbs.end),
    signatureOid: nodeHex(x509Elements(der, signatureAlgorithm)[0]?.contents ?? new Uint8Array()),
    signature: signature.contents.subarray(1),
    serial: serial.contents,
    issuer: x509Name(der, issuer),
    subject: x509Name(der, subject),
    notBefore: x509Time(notBefore),
    notAfter: x509Time(notAfter),
    spki: der.subarray(spki.begin, spki.end),
    altNames: [],
    ca: false,
  };
  const extensions = fields.slice(i).find((field) => field.tag === 0xa3);
  if (extensions !== undefined) {
    const [list] = x509Elements(der, extensions);
    for (const extension of list === undefined ? [] : x509Elements(der, list)) {
      const parts = x509Elements(der, extension);
      const oid = nodeHex(parts[0]?.contents ?? new Uint8Array());
      const value = parts[parts.length - 1];
      if (value?.tag !== 0x04) continue;
      const inner = derRead(value.contents, 0);
      if (oid === X509_OID_SUBJECT_ALT_NAME) {
        for (const name of x509Elements(value.contents, inner)) {
          if (name.tag === 0x82) out.altNames.push(["DNS", String.fromCharCode(...name.contents)]);
          else if (name.tag === 0x81) out.altNames.push(["email", String.fromCharCode(...name.contents)]);
          else if (name.tag === 0x86) out.altNames.push(["URI", String.fromCharCode(...name.contents)]);
          else if (name.tag === 0x87) out.altNames.push(["IP Address", x509Ip(name.contents)]);
        }
      } else if (oid === X509_OID_BASIC_CONSTRAINTS) {
        const [first] = x509Elements(value.contents, inner);
        out.ca = first?.tag === 0x01 && first.contents[0] !== 0;
      }
    }
  }
  return out;
}

// The DER of a certificate given as PEM text, or as PEM or DER bytes.
function x509Der(input) {
  if (typeof input !== "string" && !ArrayBuffer.isView(input) && !(input instanceof ArrayBuffer)) {
    throw new TypeError('The "buffer" argument must be of type string or an instance of Buffer, TypedArray, or DataView.');
  }
  const bytes = typeof input === "string" ? null : new Uint8Array(nodeBytes(input));
  if (bytes !== null && bytes[0] === 0x30) return bytes;
  const pem = pemDecode(typeof input === "string" ? input : Buffer.from(bytes).toString("latin1"));
  if (pem === null || pem.label !== "CERTIFICATE") throw x509Invalid();
  return pem.der;
}

const kX509 = Symbol("x509");

class X509Certificate {
  constructor(buffer) {
    const der = x509Der(buffer);
    this[kX509] = { der, parsed: x509Parse(der), publicKey: undefined };
  }
  get subject() { return this[kX509].parsed.subject; }
  get issuer() { return this[kX509].parsed.issuer; }
  get subjectAltName() {
    const names = this[kX509].parsed.altNames;
    return names.length === 0 ? undefined : names.map(([kind, value]) => `${kind}:${value}`).join(", ");
  }
  get infoAccess() { return undefined; }
  get keyUsage() { return undefined; }
  get ca() { return this[kX509].parsed.ca; }
  get validFrom() { return x509TimeText(this[kX509].parsed.notBefore); }
  get validTo() { return x509TimeText(this[kX509].parsed.notAfter); }
  get validFromDate() { return new Date(this[kX509].parsed.notBefore); }
  get validToDate() { return new Date(this[kX509].parsed.notAfter); }
  get serialNumber() {
    let bytes = this[kX509].parsed.serial;
    while (bytes.length > 1 && bytes[0] === 0) bytes = bytes.subarray(1);
    return nodeHex(bytes).toUpperCase();
  }
  #fingerprint(algorithm) {
    const hex = nodeCrypto.createHash(algorithm).update(this[kX509].der).digest("hex").toUpperCase();
    return hex.match(/../g).join(":");
  }
  get fingerprint() { return this.#fingerprint("sha1"); }
  get fingerprint256() { return this.#fingerprint("sha256"); }
  get fingerprint512() { return this.#fingerprint("sha512"); }
  get raw() { return Buffer.from(this[kX509].der); }
  get publicKey() {
    this[kX509].publicKey ??= new KeyObject("public", nodeKeyFromDer(this[kX509].parsed.spki, "public", "spki"));
    return this[kX509].publicKey;
  }
  checkHost(name) {
    const host = String(name).toLowerCase();
    const matches = (pattern) => {
      const p = pattern.toLowerCase();
      if (p === host) return true;
      return p.startsWith("*.") && host.endsWith(p.slice(1)) && !host.slice(0, -p.length + 1).includes(".");
    };
    const dns = this[kX509].parsed.altNames.filter(([kind]) => kind === "DNS").map(([, value]) => value);
    const candidates = dns.length > 0 ? dns : this.subject.split("\n").filter((l) => l.startsWith("CN=")).map((l) => l.slice(3));
    return candidates.find(matches);
  }
  checkEmail(email) {
    const wanted = String(email).toLowerCase();
    return this[kX509].parsed.altNames.some(([kind, value]) => kind === "email" && value.toLowerCase() === wanted) ? String(email) : undefined;
  }
  checkIP(ip) {
    return this[kX509].parsed.altNames.some(([kind, value]) => kind === "IP Address" && value === String(ip).toUpperCase()) ? String(ip) : undefined;
  }
  checkIssued(other) { return other instanceof X509Certificate && this.issuer === other.subject; }
  checkPrivateKey(privateKey) {
    const key = privateKey instanceof KeyObject ? privateKey : nodeCrypto.createPrivateKey(privateKey);
    if (key.type !== "private") throw new TypeError("Invalid key object type public, expected private.");
    return nodeCrypto.createPublicKey(key).equals(this.publicKey);
  }
  verify(publicKey) {
    const key = publicKey instanceof KeyObject ? publicKey : nodeCrypto.createPublicKey(publicKey);
    const { tbs, signatureOid, signature } = this[kX509].parsed;
    if (!X509_SIGNATURES.has(signatureOid)) return false;
    try {
      return nodeCrypto.verify(X509_SIGNATURES.get(signatureOid), tbs, key, signature);
    } catch {
      return false;
    }
  }
  toString() { return pemEncode("CERTIFICATE", this[kX509].der); }
  toJSON() { return this.toString(); }
  toLegacyObject() {
    return { subject: this.subject, issuer: this.issuer, valid_from: this.validFrom, valid_to: this.validTo, serialNumber: this.serialNumber, fingerprint: this.fingerprint, fingerprint256: this.fingerprint256, raw: this.raw };
  }
  get [Symbol.toStringTag]() { return "X509Certificate"; }
}

// The public key of a certificate (PEM text or bytes), for createPublicKey and verify.
function x509PublicKeyMaterial(der) {
  return nodeKeyFromDer(x509Parse(der).spki, "public", "spki");
}

Object.assign(nodeCrypto, { X509Certificate });
