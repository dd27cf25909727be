// KV behaviour checked from inside a worker: each check throws on a mismatch; the worker
// answers with the list of failures (empty when everything holds).
function eq(actual, expected, what) {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

async function throwsWith(fn, name, fragment, what) {
  try {
    await fn();
  } catch (err) {
    if (err.name !== name || !String(err.message).includes(fragment)) {
      throw new Error(`${what}: threw ${err.name}: ${err.message}`);
    }
    return;
  }
  throw new Error(`${what}: did not throw`);
}

const checks = {
  async values(kv) {
    await kv.put("text", "hello");
    eq(await kv.get("text"), "hello", "text");
    eq(await kv.get("missing"), null, "missing key");
    await kv.put("json", JSON.stringify({ a: [1, 2] }));
    eq(await kv.get("json", "json"), { a: [1, 2] }, "json");
    eq(await kv.get("json", { type: "json" }), { a: [1, 2] }, "json options");
    await kv.put("bytes", new Uint8Array([1, 2, 255]));
    const buffer = await kv.get("bytes", "arrayBuffer");
    eq(buffer instanceof ArrayBuffer && [...new Uint8Array(buffer)], [1, 2, 255], "arrayBuffer");
    const stream = await kv.get("text", "stream");
    eq(await new Response(stream).text(), "hello", "stream");
    await kv.put("streamed", new Response("from a stream").body);
    eq(await kv.get("streamed"), "from a stream", "put a stream");
    await kv.put("meta", "v", { metadata: { owner: "ann" } });
    eq(await kv.getWithMetadata("meta"), { value: "v", metadata: { owner: "ann" }, cacheStatus: null }, "metadata");
    eq(await kv.getWithMetadata("missing"), { value: null, metadata: null, cacheStatus: null }, "metadata of a missing key");
    const many = await kv.get(["text", "missing"]);
    eq([...many.entries()], [["text", "hello"], ["missing", null]], "bulk get");
    await kv.delete("text");
    eq(await kv.get("text"), null, "deleted");
  },
  async list(kv) {
    for (const k of ["a/1", "a/2", "a/3", "b/1"]) await kv.put(k, k);
    const far = Math.floor(Date.now() / 1000) + 3600;
    await kv.put("a/4", "x", { expiration: far, metadata: { n: 4 } });
    const all = await kv.list({ prefix: "a/" });
    eq(all.keys, [{ name: "a/1" }, { name: "a/2" }, { name: "a/3" }, { name: "a/4", expiration: far, metadata: { n: 4 } }], "list prefix");
    eq(all.list_complete, true, "complete");
    const page = await kv.list({ prefix: "a/", limit: 2 });
    eq(page.keys.map((k) => k.name), ["a/1", "a/2"], "first page");
    eq(page.list_complete, false, "not complete");
    const next = await kv.list({ prefix: "a/", limit: 2, cursor: page.cursor });
    eq(next.keys.map((k) => k.name), ["a/3", "a/4"], "second page");
  },
  async limits(kv) {
    await throwsWith(() => kv.get(""), "TypeError", "Key name cannot be empty.", "empty key");
    await throwsWith(() => kv.put("..", "x"), "TypeError", '".." is not allowed as a key name.', "dot-dot");
    await throwsWith(() => kv.get("k".repeat(513)), "Error", "KV GET failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512.", "long key");
    await throwsWith(() => kv.put("k", "v", { expirationTtl: 10 }), "Error", "KV PUT failed: 400 Invalid expiration_ttl of 10", "short ttl");
    await throwsWith(() => kv.put("k", "v", { metadata: { x: "y".repeat(1100) } }), "Error", "KV PUT failed: 413 Metadata length", "big metadata");
    await throwsWith(() => kv.get("k", "bogus"), "TypeError", "Unknown response type", "bad type");
    await throwsWith(() => kv.list({ limit: 1001 }), "Error", "Invalid key_count_limit of 1001", "big limit");
    await throwsWith(() => kv.put("k", {}), "TypeError", "KV put() accepts only strings", "bad value");
  },
};

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, action, name] = url.pathname.split("/");
    if (action === "check") {
      try {
        await checks[name](env.KV);
        return Response.json([]);
      } catch (err) {
        return Response.json([String(err.message)]);
      }
    }
    if (action === "put") {
      await env.KV.put(name, await request.text());
      return new Response("ok");
    }
    if (action === "get") return new Response(await env.KV.get(name));
    return new Response("not found", { status: 404 });
  },
};
