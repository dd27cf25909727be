// Cache API tests, run inside a Kiln isolate by tests/cache_api.rs: GET /<name> runs one test and
// answers "ok" or the failure. Each test uses its own URLs, so tests do not see each other's
// entries.
function assert(cond, message) { if (!cond) throw new Error("assertion failed: " + message); }
function eq(actual, expected, message = "") {
  if (actual !== expected) throw new Error(`${message} expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
async function rejects(promise, cls, text, message) {
  try { await promise; } catch (err) {
    assert(err instanceof cls, `${message}: threw ${err}`);
    if (text !== undefined) eq(err.message, text, message);
    return err;
  }
  throw new Error(`${message}: did not throw`);
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const cached = (body, cacheControl = "max-age=60", headers = {}) =>
  new Response(body, { headers: { "cache-control": cacheControl, "content-type": "text/plain", ...headers } });

export const tests = {
  async miss_then_hit() {
    const cache = caches.default;
    eq(await cache.match("https://example.com/hit"), undefined, "miss");
    const response = cached("hello");
    eq(await cache.put("https://example.com/hit", response), undefined, "put resolves");
    assert(response.bodyUsed, "put consumes the body");
    const hit = await cache.match(new Request("https://example.com/hit"));
    assert(hit instanceof Response, "hit");
    eq(hit.status, 200);
    eq(hit.headers.get("cf-cache-status"), "HIT");
    eq(hit.headers.get("content-type"), "text/plain");
    eq(await hit.text(), "hello");
    const again = await cache.match("https://example.com/hit#fragment");
    eq(await again.text(), "hello", "a fragment is not part of the key");
    eq(await cache.match("https://example.com/hit?q=1"), undefined, "the query is");
  },
  async named_caches_are_separate() {
    const a = await caches.open("a");
    const b = await caches.open("b");
    await a.put("https://example.com/named", cached("from a"));
    eq(await b.match("https://example.com/named"), undefined, "b misses");
    eq(await caches.default.match("https://example.com/named"), undefined, "default misses");
    eq(await (await (await caches.open("a")).match("https://example.com/named")).text(), "from a");
  },
  async expiry() {
    const cache = caches.default;
    await cache.put("https://example.com/expiring", cached("soon gone", "max-age=1"));
    await cache.put("https://example.com/shared-max-age", cached("x", "max-age=60, s-maxage=1"));
    await cache.put("https://example.com/lasting", cached("stays", "max-age=60"));
    eq(await (await cache.match("https://example.com/expiring")).text(), "soon gone", "fresh at first");
    await sleep(1100);
    eq(await cache.match("https://example.com/expiring"), undefined, "expired after max-age");
    eq(await cache.match("https://example.com/shared-max-age"), undefined, "s-maxage wins over max-age");
    eq(await (await cache.match("https://example.com/lasting")).text(), "stays", "a longer max-age is still fresh");
    const past = new Date(Date.now() - 60_000).toUTCString();
    await cache.put("https://example.com/expires-past", new Response("old", { headers: { expires: past } }));
    eq(await cache.match("https://example.com/expires-past"), undefined, "Expires in the past");
    const future = new Date(Date.now() + 60_000).toUTCString();
    await cache.put("https://example.com/expires-future", new Response("new", { headers: { expires: future } }));
    eq(await (await cache.match("https://example.com/expires-future")).text(), "new", "Expires in the future");
  },
  async non_get_requests() {
    const cache = caches.default;
    await rejects(cache.put(new Request("https://example.com/post", { method: "POST", body: "x" }), cached("x")),
      TypeError, "Cannot cache response to non-GET request.", "put of a POST");
    await cache.put("https://example.com/get-only", cached("got"));
    const head = new Request("https://example.com/get-only", { method: "HEAD" });
    eq(await cache.match(head), undefined, "HEAD misses");
    eq(await (await cache.match(head, { ignoreMethod: true })).text(), "got", "ignoreMethod");
    eq(await cache.delete(head), false, "delete of HEAD");
    eq(await cache.delete(head, { ignoreMethod: true }), true, "delete with ignoreMethod");
    await rejects(cache.put("ftp://example.com/", cached("x")), TypeError,
      "Invalid URL. Cache API keys must be fully-qualified, valid URLs.", "non-HTTP key");
  },
  async what_is_not_stored() {
    const cache = caches.default;
    await cache.put("https://example.com/no-store", cached("x", "no-store"));
    eq(await cache.match("https://example.com/no-store"), undefined, "no-store");
    await cache.put("https://example.com/private", cached("x", "private, max-age=60"));
    eq(await cache.match("https://example.com/private"), undefined, "private");
    await cache.put("https://example.com/cookie", cached("x", "max-age=60", { "set-cookie": "a=1" }));
    eq(await cache.match("https://example.com/cookie"), undefined, "Set-Cookie");
    await cache.put("https://example.com/cookie-stripped", cached("x", "private=set-cookie, max-age=60", { "set-cookie": "a=1" }));
    const stripped = await cache.match("https://example.com/cookie-stripped");
    assert(stripped, "private=Set-Cookie stores");
    eq(stripped.headers.get("set-cookie"), null, "without the cookie");
    await rejects(cache.put("https://example.com/partial", new Response("x", { status: 206 })), TypeError,
      "Cannot cache response to a range request (206 Partial Content).", "206");
    await rejects(cache.put("https://example.com/vary", cached("x", "max-age=60", { vary: "accept, *" })), TypeError,
      "Cannot cache response with 'Vary: *' header.", "Vary: *");
    await cache.put("https://example.com/server-error", new Response("x", { status: 500 }));
    eq(await cache.match("https://example.com/server-error"), undefined, "a 500 without max-age");
  },
  async delete_entry() {
    const cache = caches.default;
    await cache.put("https://example.com/delete-me", cached("x"));
    eq(await cache.delete("https://example.com/delete-me"), true, "deleted");
    eq(await cache.match("https://example.com/delete-me"), undefined, "gone");
    eq(await cache.delete("https://example.com/delete-me"), false, "deleting again");
  },
  async overwrite_and_streamed_body() {
    const cache = caches.default;
    await cache.put("https://example.com/over", cached("one"));
    const stream = new ReadableStream({
      start(c) { c.enqueue(new TextEncoder().encode("tw")); c.enqueue(new TextEncoder().encode("o")); c.close(); },
    });
    await cache.put("https://example.com/over", new Response(stream, { headers: { "cache-control": "max-age=60" } }));
    eq(await (await cache.match("https://example.com/over")).text(), "two");
  },
  async conditional_and_range_requests() {
    const cache = caches.default;
    await cache.put("https://example.com/etag", cached("0123456789", "max-age=60", { etag: '"v1"' }));
    const notModified = await cache.match(new Request("https://example.com/etag", { headers: { "if-none-match": '"v1"' } }));
    eq(notModified.status, 304, "If-None-Match");
    const range = await cache.match(new Request("https://example.com/etag", { headers: { range: "bytes=2-4" } }));
    eq(range.status, 206, "Range");
    eq(range.headers.get("content-range"), "bytes 2-4/10");
    eq(await range.text(), "234");
  },
  async used_body_and_bad_arguments() {
    const cache = caches.default;
    const response = cached("x");
    await response.text();
    await rejects(cache.put("https://example.com/used", response), TypeError, undefined, "used body");
    await rejects(cache.put("https://example.com/not-a-response", "x"), TypeError, undefined, "not a Response");
    let threw = false;
    try { new Cache(); } catch (err) { threw = err instanceof TypeError; }
    assert(threw, "Cache is not constructible");
    eq(String(caches), "[object CacheStorage]");
  },
};

export default {
  async fetch(request) {
    const name = new URL(request.url).pathname.slice(1);
    if (name === "") return Response.json(Object.keys(tests));
    try {
      await tests[name]();
      return new Response("ok");
    } catch (err) {
      return new Response(`${err}\n${err?.stack ?? ""}`, { status: 500 });
    }
  },
};
