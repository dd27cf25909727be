// R2: `env.BUCKET` of an `r2_buckets` binding (runtime/src/r2). Objects with HTTP and custom
// metadata, ranges, conditional gets and puts, listing with prefixes, cursors and delimiters,
// and multipart uploads (parts kept as hidden objects until `complete()` joins them).
const R2_HIDDEN = "\u0000";
// The etag complete() gives the object it puts (not an option users can pass).
const kR2Etag = Symbol("etag");
const R2_UPLOAD_PREFIX = "\u0000mpu\u0000";
const R2_HTTP_FIELDS = [
  ["contentType", "content-type"],
  ["contentLanguage", "content-language"],
  ["contentDisposition", "content-disposition"],
  ["contentEncoding", "content-encoding"],
  ["cacheControl", "cache-control"],
];

function r2HttpMetadata(input) {
  if (input === undefined || input === null) return {};
  if (input instanceof Headers) {
    const out = {};
    for (const [field, header] of R2_HTTP_FIELDS) {
      const value = input.get(header);
      if (value !== null) out[field] = value;
    }
    const expires = input.get("expires");
    if (expires !== null) out.cacheExpiry = new Date(expires).getTime();
    return out;
  }
  const out = {};
  for (const [field] of R2_HTTP_FIELDS) if (input[field] !== undefined) out[field] = String(input[field]);
  if (input.cacheExpiry !== undefined) out.cacheExpiry = new Date(input.cacheExpiry).getTime();
  return out;
}

function r2CheckKey(method, key) {
  if (typeof key !== "string") key = String(key);
  if (new TextEncoder().encode(key).length > 1024) throw new TypeError(`${method}: The specified object name is not valid. (10020)`);
  return key;
}

function r2HexBytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

const r2Hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");

// put()'s checksum options: the digest each names, and how R2 spells it in an error.
const R2_CHECKSUMS = [["md5", "MD5", "Content-MD5"], ["sha1", "SHA-1", "SHA-1"], ["sha256", "SHA-256", "SHA-256"], ["sha384", "SHA-384", "SHA-384"], ["sha512", "SHA-512", "SHA-512"]];
// Every part of a multipart upload but the last must hold at least this many bytes.
const R2_MULTIPART_PART_BYTES_MIN = 5 * 1024 * 1024;

class R2Object {
  #meta;
  constructor(key, meta, range = undefined) {
    this.#meta = meta;
    this.key = key;
    this.version = meta.version;
    this.size = meta.size;
    this.etag = meta.etag;
    this.httpEtag = `"${meta.etag}"`;
    this.uploaded = new Date(meta.uploaded);
    const http = { ...(meta.httpMetadata ?? {}) };
    if (http.cacheExpiry !== undefined) http.cacheExpiry = new Date(http.cacheExpiry);
    this.httpMetadata = http;
    this.customMetadata = { ...(meta.customMetadata ?? {}) };
    this.range = range ?? { offset: 0, length: meta.size };
    this.storageClass = "Standard";
    // The MD5 (an object put whole: its etag) and the checksums its uploader gave.
    const hex = { ...(/^[0-9a-f]{32}$/.test(meta.etag) ? { md5: meta.etag } : {}), ...(meta.checksums ?? {}) };
    const checksums = {};
    for (const [name, value] of Object.entries(hex)) checksums[name] = r2HexBytes(value).buffer;
    checksums.toJSON = () => ({ ...hex });
    this.checksums = checksums;
  }
  writeHttpMetadata(headers) {
    for (const [field, header] of R2_HTTP_FIELDS) {
      if (this.httpMetadata[field] !== undefined) headers.set(header, this.httpMetadata[field]);
    }
    if (this.httpMetadata.cacheExpiry !== undefined) headers.set("expires", this.httpMetadata.cacheExpiry.toUTCString());
  }
}

class R2ObjectBody extends R2Object {
  #bytes;
  #body = null;
  #used = false;
  constructor(key, meta, bytes, range) {
    super(key, meta, range);
    this.#bytes = bytes;
  }
  get body() {
    if (this.#body === null) {
      const bytes = this.#bytes;
      this.#body = new ReadableStream({ start(controller) { if (bytes.byteLength) controller.enqueue(new Uint8Array(bytes)); controller.close(); } });
      knownLengths.set(this.#body, bytes.byteLength);
    }
    return this.#body;
  }
  get bodyUsed() { return this.#used; }
  #take() {
    if (this.#used) throw new TypeError("Body has already been used. It can only be used once. Use tee() first if you need to read it twice.");
    this.#used = true;
    return this.#bytes;
  }
  async arrayBuffer() { return this.#take().slice(0); }
  async bytes() { return new Uint8Array(this.#take().slice(0)); }
  async text() { return new TextDecoder().decode(this.#take()); }
  async json() { return JSON.parse(await this.text()); }
  async blob() { return new Blob([this.#take()], { type: this.httpMetadata.contentType ?? "" }); }
}

// Whether `meta` passes the conditions (an R2Conditional or request Headers).
function r2ConditionsPass(meta, onlyIf) {
  if (onlyIf === undefined || onlyIf === null) return true;
  let conditions = onlyIf;
  if (onlyIf instanceof Headers) {
    conditions = {};
    const strip = (v) => v.trim().replace(/^W\//, "").replace(/^"|"$/g, "");
    if (onlyIf.has("if-match")) conditions.etagMatches = onlyIf.get("if-match").split(",").map(strip);
    if (onlyIf.has("if-none-match")) conditions.etagDoesNotMatch = onlyIf.get("if-none-match").split(",").map(strip);
    if (onlyIf.has("if-modified-since")) conditions.uploadedAfter = new Date(onlyIf.get("if-modified-since"));
    if (onlyIf.has("if-unmodified-since")) conditions.uploadedBefore = new Date(onlyIf.get("if-unmodified-since"));
  }
  const list = (v) => (Array.isArray(v) ? v : [v]).map((e) => String(e).replace(/^"|"$/g, ""));
  const etag = meta?.etag;
  if (conditions.etagMatches !== undefined) {
    const wanted = list(conditions.etagMatches);
    if (meta === null || !(wanted.includes("*") || wanted.includes(etag))) return false;
  }
  if (conditions.etagDoesNotMatch !== undefined) {
    const unwanted = list(conditions.etagDoesNotMatch);
    if (meta !== null && (unwanted.includes("*") || unwanted.includes(etag))) return false;
  }
  const seconds = (t) => Math.floor(t / 1000);
  if (conditions.uploadedBefore !== undefined && meta !== null) {
    if (!(seconds(meta.uploaded) < seconds(new Date(conditions.uploadedBefore).getTime()) + 1)) return false;
  }
  if (conditions.uploadedAfter !== undefined && meta !== null) {
    if (!(seconds(meta.uploaded) > seconds(new Date(conditions.uploadedAfter).getTime()))) return false;
  }
  return true;
}

// [offset, length, suffix] of an R2Range or a Range header.
function r2Range(range) {
  if (range === undefined || range === null) return [undefined, undefined, undefined];
  if (range instanceof Headers) {
    const header = range.get("range");
    if (header === null) return [undefined, undefined, undefined];
    const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
    if (!match) throw new TypeError("get: The range header is not valid.");
    if (match[1] === "") return [undefined, undefined, Number(match[2])];
    const start = Number(match[1]);
    return [start, match[2] === "" ? undefined : Number(match[2]) - start + 1, undefined];
  }
  if (range.suffix !== undefined) return [undefined, undefined, Number(range.suffix)];
  return [range.offset === undefined ? undefined : Number(range.offset), range.length === undefined ? undefined : Number(range.length), undefined];
}

async function r2Bytes(value) {
  if (value === null || value === undefined) return new ArrayBuffer(0);
  if (typeof value === "string") return new TextEncoder().encode(value).buffer;
  if (value instanceof ArrayBuffer) return value;
  if (ArrayBuffer.isView(value)) return value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength);
  if (value instanceof Blob) return value.arrayBuffer();
  if (value instanceof ReadableStream) return new Response(value).arrayBuffer();
  throw new TypeError("put: The value must be a ReadableStream, ArrayBuffer, ArrayBufferView, string, Blob or null.");
}

class R2MultipartUpload {
  #bucket;
  constructor(bucket, key, uploadId) {
    this.#bucket = bucket;
    this.key = key;
    this.uploadId = uploadId;
  }
  #partKey(partNumber) { return `${R2_UPLOAD_PREFIX}${this.uploadId}\u0000${String(partNumber).padStart(5, "0")}`; }
  async uploadPart(partNumber, value) {
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10000) throw new TypeError("uploadPart: Part number must be between 1 and 10000 (inclusive).");
    if (r2Head(this.#bucket._index, `${R2_UPLOAD_PREFIX}${this.uploadId}`) === null) throw new Error("uploadPart: The specified multipart upload does not exist. (10024)");
    const meta = JSON.parse(await ops.op_r2_put(this.#bucket._index, this.#partKey(partNumber), await r2Bytes(value), "{}", "{}", undefined));
    return { partNumber, etag: meta.etag };
  }
  async abort() {
    const parts = ops.op_r2_list(this.#bucket._index, `${R2_UPLOAD_PREFIX}${this.uploadId}`, undefined, 10001).map(([key]) => key);
    await ops.op_r2_delete(this.#bucket._index, parts.slice(0, 1000));
  }
  async complete(parts) {
    const record = r2Head(this.#bucket._index, `${R2_UPLOAD_PREFIX}${this.uploadId}`);
    if (record === null) throw new Error("completeMultipartUpload: The specified multipart upload does not exist. (10024)");
    const pieces = [];
    const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    for (const part of sorted) {
      const found = ops.op_r2_get(this.#bucket._index, this.#partKey(part.partNumber), undefined, undefined, undefined);
      if (found === null || JSON.parse(found[0]).etag !== part.etag) throw new Error("completeMultipartUpload: One or more of the specified parts could not be found. (10025)");
      pieces.push(new Uint8Array(found[1]));
    }
    if (pieces.slice(0, -1).some((piece) => piece.length < R2_MULTIPART_PART_BYTES_MIN)) {
      throw new Error("completeMultipartUpload: Your proposed upload is smaller than the minimum allowed object size. (10011)");
    }
    // S3's etag of a multipart object: the MD5 of its parts' MD5s, and their count.
    const partMd5s = new Uint8Array(sorted.length * 16);
    sorted.forEach((part, i) => partMd5s.set(r2HexBytes(part.etag), i * 16));
    const etag = `${r2Hex(await crypto.subtle.digest("MD5", partMd5s))}-${sorted.length}`;
    const total = pieces.reduce((n, p) => n + p.length, 0);
    const joined = new Uint8Array(total);
    let at = 0;
    for (const piece of pieces) { joined.set(piece, at); at += piece.length; }
    const options = JSON.parse(await (await this.#bucket.get(`${R2_UPLOAD_PREFIX}${this.uploadId}`)).text());
    const object = await this.#bucket.put(this.key, joined, { ...options, [kR2Etag]: etag });
    await this.abort();
    return object;
  }
}

// An object's metadata JSON, or null when there is none (the op gives undefined).
const r2Head = (index, key) => ops.op_r2_head(index, key) ?? null;

class R2Bucket {
  #index;
  constructor(index) { this.#index = index; }
  get _index() { return this.#index; }
  async head(key) {
    key = r2CheckKey("head", key);
    const meta = r2Head(this.#index, key);
    return meta === null ? null : new R2Object(key, JSON.parse(meta));
  }
  async get(key, options = {}) {
    key = r2CheckKey("get", key);
    if (options?.onlyIf !== undefined) {
      const head = r2Head(this.#index, key);
      if (head === null) return null;
      const meta = JSON.parse(head);
      if (!r2ConditionsPass(meta, options.onlyIf)) return new R2Object(key, meta);
    }
    const [offset, length, suffix] = r2Range(options?.range);
    const found = ops.op_r2_get(this.#index, key, offset, length, suffix);
    if (found === null) return null;
    const meta = JSON.parse(found[0]);
    const ranged = offset !== undefined || length !== undefined || suffix !== undefined;
    const range = ranged ? { offset: found[2], length: found[1].byteLength } : undefined;
    return new R2ObjectBody(key, meta, found[1], range);
  }
  async put(key, value, options = {}) {
    key = r2CheckKey("put", key);
    const bytes = await r2Bytes(value);
    if (options?.onlyIf !== undefined) {
      const head = r2Head(this.#index, key);
      if (!r2ConditionsPass(head === null ? null : JSON.parse(head), options.onlyIf)) return null;
    }
    const custom = {};
    for (const [name, v] of Object.entries(options?.customMetadata ?? {})) custom[name] = String(v);
    const customJson = JSON.stringify(custom);
    if (new TextEncoder().encode(customJson).length > 2048) throw new TypeError("put: Your metadata headers exceed the maximum allowed metadata size. (10012)");
    const checksums = {};
    for (const [option, digest, label] of R2_CHECKSUMS) {
      const given = options?.[option];
      if (given === undefined) continue;
      const expected = typeof given === "string" ? given.toLowerCase() : r2Hex(ArrayBuffer.isView(given) ? given.buffer.slice(given.byteOffset, given.byteOffset + given.byteLength) : given);
      const actual = r2Hex(await crypto.subtle.digest(digest, bytes));
      if (expected !== actual) throw new Error(`put: The ${label} you specified did not match what we received. (10037)`);
      if (option !== "md5") checksums[option] = actual;
    }
    const extras = Object.keys(checksums).length || options?.[kR2Etag] ? JSON.stringify({ checksums, etag: options?.[kR2Etag] }) : undefined;
    const meta = await ops.op_r2_put(this.#index, key, bytes, JSON.stringify(r2HttpMetadata(options?.httpMetadata)), customJson, extras);
    return new R2Object(key, JSON.parse(meta));
  }
  async delete(keys) {
    const list = (Array.isArray(keys) ? keys : [keys]).map((k) => r2CheckKey("delete", k));
    await ops.op_r2_delete(this.#index, list);
  }
  async list(options = {}) {
    const limit = Math.min(Math.max(Number(options?.limit ?? 1000) || 1000, 1), 1000);
    const prefix = options?.prefix === undefined ? "" : String(options.prefix);
    const delimiter = options?.delimiter === undefined ? undefined : String(options.delimiter);
    const include = new Set(options?.include ?? []);
    let after = options?.cursor ? decodeURIComponent(atob(String(options.cursor))) : options?.startAfter;
    const objects = [];
    const prefixes = [];
    let truncated = false;
    let last;
    outer: for (;;) {
      const page = ops.op_r2_list(this.#index, prefix, after, limit + 1);
      if (page.length === 0) break;
      for (const [key, metaJson] of page) {
        after = key;
        if (key.startsWith(R2_HIDDEN)) continue;
        if (objects.length + prefixes.length >= limit) { truncated = true; break outer; }
        last = key;
        if (delimiter !== undefined && delimiter !== "") {
          const at = key.indexOf(delimiter, prefix.length);
          if (at !== -1) {
            const group = key.slice(0, at + delimiter.length);
            if (!prefixes.includes(group)) prefixes.push(group);
            continue;
          }
        }
        const object = new R2Object(key, JSON.parse(metaJson));
        if (!include.has("httpMetadata")) object.httpMetadata = {};
        if (!include.has("customMetadata")) object.customMetadata = {};
        objects.push(object);
      }
      if (page.length < limit + 1) break;
    }
    const result = { objects, truncated, delimitedPrefixes: prefixes };
    if (truncated) result.cursor = btoa(encodeURIComponent(last));
    return result;
  }
  async createMultipartUpload(key, options = {}) {
    key = r2CheckKey("createMultipartUpload", key);
    const id = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
    await this.put(`${R2_UPLOAD_PREFIX}${id}`, JSON.stringify({ httpMetadata: r2HttpMetadata(options?.httpMetadata), customMetadata: options?.customMetadata ?? {} }));
    return new R2MultipartUpload(this, key, id);
  }
  resumeMultipartUpload(key, uploadId) {
    return new R2MultipartUpload(this, r2CheckKey("resumeMultipartUpload", key), String(uploadId));
  }
}

// Called once per isolate: puts the worker's R2 buckets into env.
function installR2Bindings(env, names) {
  names.forEach((name, index) => {
    Object.defineProperty(env, name, { value: new R2Bucket(index), enumerable: true, configurable: true, writable: true });
  });
}

export { installR2Bindings };
