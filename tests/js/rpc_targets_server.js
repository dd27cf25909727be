// A service whose RPC methods return RpcTargets, take callbacks and call stubs they are given.
import { WorkerEntrypoint, RpcTarget } from "cloudflare:workers";

class Counter extends RpcTarget {
  #count;
  secret = "instance fields are not exposed";
  constructor(start) { super(); this.#count = start; }
  increment(by = 1) { this.#count += by; return this.#count; }
  get value() { return this.#count; }
  explode() { throw new RangeError("too big"); }
}

class Fetcher extends RpcTarget {
  fetch(input) { return new Response(`target fetch ${input}`, { status: 202 }); }
}

export class Math extends WorkerEntrypoint {
  get version() { return "1.2"; }
  fetcher() { return new Fetcher(); }
  async fetchThrough(stub, path) {
    const response = await stub.fetch(`https://stub${path}`);
    return [response.status, await response.text()];
  }
  fetch(request) { return new Response(`server saw ${new URL(request.url).pathname}`); }
  newCounter(start) { return new Counter(start); }
  info() { return { name: "math", nested: { list: [1, 2] } }; }
  page(text) { return new Response(`<p>${text}</p>`, { status: 201, headers: { "x-page": "yes" } }); }
  async describe(request) { return [request.method, request.url, request.headers.get("x-a"), await request.text()]; }
  numbers(n) {
    const encoder = new TextEncoder();
    let i = 0;
    return new ReadableStream({ pull(c) { if (i < n) c.enqueue(encoder.encode(`${i++},`)); else c.close(); } });
  }
  blob() { return new Blob(["blob body"], { type: "text/plain" }); }
  quota() {
    class QuotaError extends Error {
      constructor(message) { super(message); this.name = "QuotaError"; this.code = "Q"; this.overloaded = true; }
    }
    throw new QuotaError("slow down");
  }
  async map(list, fn) {
    const out = [];
    for (const x of list) out.push(await fn(x));
    return out;
  }
  async useLogger(logger) {
    await logger.log("one");
    return await logger.log("two");
  }
  async callRoom(room, name) {
    const member = await room.join(name);
    await member.say("hello");
    return await room.history();
  }
}

export default { fetch() { return new Response("server"); } };
