// Workers KV: the KVNamespace a `kv_namespaces` binding puts in `env`. Checks and messages are
// Cloudflare's; entries live in the node's storage (see runtime/src/kv).
const KV_KEY_BYTES_MAX = 512;
const KV_VALUE_BYTES_MAX = 25 * 1024 * 1024;
const KV_METADATA_BYTES_MAX = 1024;
const KV_BULK_KEYS_MAX = 100;
const KV_LIST_LIMIT_MAX = 1000;
const KV_TTL_SECONDS_MIN = 60;
const KV_TYPES = new Set(["text", "json", "arrayBuffer", "stream"]);
const kKvCreate = Symbol("kvCreate");
// Which KV binding a namespace object is (for passing it on, as a Dynamic Worker's env does).
const kvNamespaceIndexes = new WeakMap();

function kvCheckKey(method, key) {
  key = String(key);
  if (key === "") throw new TypeError("Key name cannot be empty.");
  if (key === "." || key === "..") throw new TypeError(`"${key}" is not allowed as a key name.`);
  const size = utf8Length(key);
  if (size > KV_KEY_BYTES_MAX) {
    throw new Error(`KV ${method} failed: 414 UTF-8 encoded length of ${size} exceeds key length limit of ${KV_KEY_BYTES_MAX}.`);
  }
  return key;
}

function kvType(options) {
  const type = typeof options === "string" ? options : (options?.type ?? "text");
  if (!KV_TYPES.has(type)) {
    throw new TypeError('Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".');
  }
  const cacheTtl = typeof options === "object" ? options?.cacheTtl : undefined;
  if (cacheTtl !== undefined && !(Number(cacheTtl) >= KV_TTL_SECONDS_MIN)) {
    throw new Error(`KV GET failed: 400 Invalid cache_ttl of ${cacheTtl}. Cache TTL must be at least ${KV_TTL_SECONDS_MIN}.`);
  }
  return type;
}

function kvValue(bytes, type) {
  switch (type) {
    case "arrayBuffer": return bytes;
    case "stream": return new Response(bytes).body;
    case "json": return JSON.parse(new TextDecoder().decode(bytes));
    default: return new TextDecoder().decode(bytes);
  }
}

async function kvBytes(value) {
  if (typeof value === "string") return value;
  if (value instanceof ArrayBuffer) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ReadableStream) return new Uint8Array(await new Response(value).arrayBuffer());
  throw new TypeError("KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values.");
}

function kvByteLength(value) {
  return typeof value === "string" ? utf8Length(value) : value.byteLength;
}

class KVNamespace {
  #index;
  constructor(token, index) {
    if (token !== kKvCreate) throw new TypeError("Illegal constructor");
    this.#index = index;
    kvNamespaceIndexes.set(this, index);
  }

  async get(key, options = undefined) {
    if (Array.isArray(key)) {
      const map = await this.#getMany(key, options, false);
      return map;
    }
    const type = kvType(options);
    const entry = ops.op_kv_get(this.#index, kvCheckKey("GET", key));
    return entry === null ? null : kvValue(entry[0], type);
  }

  async getWithMetadata(key, options = undefined) {
    if (Array.isArray(key)) return this.#getMany(key, options, true);
    const type = kvType(options);
    const entry = ops.op_kv_get(this.#index, kvCheckKey("GET", key));
    if (entry === null) return { value: null, metadata: null, cacheStatus: null };
    return { value: kvValue(entry[0], type), metadata: entry[2] === null || entry[2] === undefined ? null : JSON.parse(entry[2]), cacheStatus: null };
  }

  async #getMany(keys, options, withMetadata) {
    const type = kvType(options);
    if (type !== "text" && type !== "json") {
      throw new TypeError(`"${type}" is not a valid type. Use "json" or "text"`);
    }
    if (keys.length > KV_BULK_KEYS_MAX) {
      throw new RangeError(`You can request a maximum of ${KV_BULK_KEYS_MAX} keys`);
    }
    const result = new Map();
    for (const key of keys) {
      const entry = ops.op_kv_get(this.#index, kvCheckKey("GET_BULK", key));
      const value = entry === null ? null : kvValue(entry[0], type);
      if (withMetadata) {
        const metadata = entry === null || entry[2] === null || entry[2] === undefined ? null : JSON.parse(entry[2]);
        result.set(key, { value, metadata, cacheStatus: null });
      } else {
        result.set(key, value);
      }
    }
    return result;
  }

  async put(key, value, options = {}) {
    key = kvCheckKey("PUT", key);
    options = options ?? {};
    const bytes = await kvBytes(value);
    const size = kvByteLength(bytes);
    if (size > KV_VALUE_BYTES_MAX) {
      throw new Error(`KV PUT failed: 413 Value length of ${size} exceeds limit of ${KV_VALUE_BYTES_MAX}.`);
    }
    const nowSeconds = Date.now() / 1000;
    let expiration;
    if (options.expiration !== undefined) {
      expiration = Number(options.expiration);
      if (!Number.isFinite(expiration) || expiration < nowSeconds + KV_TTL_SECONDS_MIN) {
        throw new Error(`KV PUT failed: 400 Invalid expiration of ${options.expiration}. Expiration times must be at least ${KV_TTL_SECONDS_MIN} seconds in the future.`);
      }
    }
    if (options.expirationTtl !== undefined) {
      const ttl = Number(options.expirationTtl);
      if (!Number.isFinite(ttl) || ttl < KV_TTL_SECONDS_MIN) {
        throw new Error(`KV PUT failed: 400 Invalid expiration_ttl of ${options.expirationTtl}. Expiration TTL must be at least ${KV_TTL_SECONDS_MIN}.`);
      }
      expiration = nowSeconds + ttl;
    }
    let metadata;
    if (options.metadata !== undefined && options.metadata !== null) {
      metadata = JSON.stringify(options.metadata);
      const metadataSize = utf8Length(metadata);
      if (metadataSize > KV_METADATA_BYTES_MAX) {
        throw new Error(`KV PUT failed: 413 Metadata length of ${metadataSize} exceeds limit of ${KV_METADATA_BYTES_MAX}.`);
      }
    }
    await ops.op_kv_put(this.#index, key, bytes, expiration === undefined ? undefined : Math.floor(expiration), metadata);
  }

  async delete(key) {
    await ops.op_kv_delete(this.#index, [kvCheckKey("DELETE", key)]);
  }

  async list(options = {}) {
    options = options ?? {};
    const prefix = options.prefix === undefined || options.prefix === null ? "" : String(options.prefix);
    let limit = KV_LIST_LIMIT_MAX;
    if (options.limit !== undefined) {
      limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > KV_LIST_LIMIT_MAX) {
        throw new Error(`KV GET failed: 400 Invalid key_count_limit of ${options.limit}. Please specify an integer greater than 0 and less than or equal to ${KV_LIST_LIMIT_MAX}.`);
      }
    }
    let after;
    if (options.cursor) {
      try {
        after = new TextDecoder().decode(Uint8Array.from(atob(String(options.cursor)), (c) => c.charCodeAt(0)));
      } catch {
        throw new Error("KV GET failed: 400 Invalid cursor.");
      }
    }
    const [items, complete, last] = ops.op_kv_list(this.#index, prefix, after, limit);
    const keys = items.map(([name, expiration, metadata]) => {
      const key = { name };
      if (expiration !== null && expiration !== undefined) key.expiration = expiration;
      if (metadata !== null && metadata !== undefined) key.metadata = JSON.parse(metadata);
      return key;
    });
    const result = { keys, list_complete: complete, cacheStatus: null };
    if (!complete && last !== null && last !== undefined) {
      const bytes = new TextEncoder().encode(last);
      result.cursor = btoa(String.fromCharCode(...bytes));
    }
    return result;
  }
}

function installKvBindings(env, names) {
  names.forEach((name, index) => {
    env[name] = new KVNamespace(kKvCreate, index);
  });
}

Object.defineProperty(globalThis, "KVNamespace", { value: KVNamespace, writable: true, configurable: true, enumerable: false });

export { installKvBindings };
