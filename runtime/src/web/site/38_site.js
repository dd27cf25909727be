// Workers Sites: `env.__STATIC_CONTENT`, a read-only KV namespace over the `[site]` bucket's
// files (keys are their paths; runtime/src/site). Values come back as KV returns them: text
// by default, or "json", "arrayBuffer" or "stream".
const SITE_LIST_LIMIT_MAX = 1000;

function siteValue(bytes, type) {
  if (bytes === null || bytes === undefined) return null;
  switch (type ?? "text") {
    case "text": return new TextDecoder().decode(bytes);
    case "json": return JSON.parse(new TextDecoder().decode(bytes));
    case "arrayBuffer": return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    case "stream": return new Response(bytes).body;
  }
  throw new TypeError(`Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".`);
}

const siteNamespace = {
  async get(key, options = undefined) {
    const type = typeof options === "string" ? options : options?.type;
    return siteValue(await ops.op_site_read(String(key)), type);
  },
  async getWithMetadata(key, options = undefined) {
    return { value: await this.get(key, options), metadata: null, cacheStatus: null };
  },
  async list(options = {}) {
    const prefix = String(options?.prefix ?? "");
    const limit = Math.min(Number(options?.limit ?? SITE_LIST_LIMIT_MAX), SITE_LIST_LIMIT_MAX);
    const start = options?.cursor ? Number(atob(options.cursor)) : 0;
    const keys = ops.op_site_keys().filter((name) => name.startsWith(prefix));
    const page = keys.slice(start, start + limit).map((name) => ({ name }));
    const complete = start + limit >= keys.length;
    return complete ? { keys: page, list_complete: true, cacheStatus: null } : { keys: page, list_complete: false, cursor: btoa(String(start + limit)), cacheStatus: null };
  },
  async put() { throw new Error("__STATIC_CONTENT is read-only: it holds the [site] bucket's files."); },
  async delete() { throw new Error("__STATIC_CONTENT is read-only: it holds the [site] bucket's files."); },
};

function installSiteBinding(env, manifest) {
  Object.defineProperty(env, "__STATIC_CONTENT", { value: siteNamespace, enumerable: true, configurable: true, writable: true });
  // Service-worker scripts read the manifest as a global text binding.
  Object.defineProperty(env, "__STATIC_CONTENT_MANIFEST", { value: manifest, enumerable: false, configurable: true, writable: true });
}

export { installSiteBinding };
