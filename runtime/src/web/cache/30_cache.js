// The Cache API: `caches.default` and `caches.open(name)`. Checks and messages are Cloudflare's;
// entries live in the node's memory (see runtime/src/web/cache), shared by its isolates.
const kCacheCreate = Symbol("cacheCreate");

// The Request a cache key names: a Request, or a URL (string or URL object) for a GET of it.
function cacheRequest(request) {
  if (request instanceof Request) {
    const protocol = new URL(request.url).protocol;
    if (protocol !== "http:" && protocol !== "https:") throw new TypeError("Invalid URL. Cache API keys must be fully-qualified, valid URLs.");
    return request;
  }
  let url;
  try { url = new URL(String(request)); } catch { url = null; }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new TypeError("Invalid URL. Cache API keys must be fully-qualified, valid URLs.");
  }
  return new Request(url.href);
}

// The URL entries are stored under: a fragment never reaches a server, so it is not part of it.
function cacheUrl(request) {
  const url = new URL(request.url);
  url.hash = "";
  return url.href;
}

class Cache {
  #name;
  constructor(token, name = null) {
    if (token !== kCacheCreate) throw new TypeError("Illegal constructor");
    this.#name = name;
  }
  async match(request, options = undefined) {
    request = cacheRequest(request);
    if (request.method !== "GET" && !options?.ignoreMethod) return undefined;
    const url = cacheUrl(request);
    const hit = ops.op_cache_match(this.#name, url, request.headers.get("if-none-match"),
      request.headers.get("if-modified-since"), request.headers.get("range"));
    if (hit === undefined || hit === null) return undefined;
    const [status, statusText, headerList, bodyId] = hit;
    return responseFromFetch(status, statusText, headerList, bodyId, url, false);
  }
  async put(request, response) {
    request = cacheRequest(request);
    if (!(response instanceof Response)) throw new TypeError("Failed to execute 'put' on 'Cache': parameter 2 is not of type 'Response'.");
    if (response.webSocket) throw new TypeError("Cannot cache WebSocket upgrade response.");
    if (request.method !== "GET") throw new TypeError("Cannot cache response to non-GET request.");
    if (response.status === 206) throw new TypeError("Cannot cache response to a range request (206 Partial Content).");
    if (response.headers.get("vary")?.includes("*")) throw new TypeError("Cannot cache response with 'Vary: *' header.");
    if (bodyUsed(response[kBody])) throw new TypeError("Body has already been used. It can only be used once. Use tee() first if you need to read it twice.");
    // put() consumes the body, stored or not.
    const body = await readAllBytes(response[kBody]);
    // Like a subrequest, a cache write leaves a Durable Object only once its writes are durable.
    await waitForOutputGates();
    ops.op_cache_put(this.#name, cacheUrl(request), response.status, response.statusText,
      headersToList(response.headers), body);
    return undefined;
  }
  async delete(request, options = undefined) {
    request = cacheRequest(request);
    if (request.method !== "GET" && !options?.ignoreMethod) return false;
    return ops.op_cache_delete(this.#name, cacheUrl(request));
  }
  get [Symbol.toStringTag]() { return "Cache"; }
}

class CacheStorage {
  #default = new Cache(kCacheCreate, null);
  constructor(token) {
    if (token !== kCacheCreate) throw new TypeError("Illegal constructor");
  }
  get default() { return this.#default; }
  async open(cacheName) {
    return new Cache(kCacheCreate, String(cacheName));
  }
  get [Symbol.toStringTag]() { return "CacheStorage"; }
}

Object.defineProperty(globalThis, "Cache", { value: Cache, writable: true, configurable: true, enumerable: false });
Object.defineProperty(globalThis, "CacheStorage", { value: CacheStorage, writable: true, configurable: true, enumerable: false });
Object.defineProperty(globalThis, "caches", { value: new CacheStorage(kCacheCreate), writable: true, configurable: true, enumerable: true });
