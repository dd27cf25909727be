// Calls a service and a Durable Object (its own) whose methods return RpcTargets, take
// callbacks and stubs, and pipeline; answers with the list of failed checks.
import { DurableObject, RpcTarget } from "cloudflare:workers";

function eq(actual, expected, what) {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

class Logger extends RpcTarget {
  lines = [];
  log(line) { this.lines.push(line); return this.lines.length; }
}

const checks = {
  async targets(env) {
    const counter = await env.MATH.newCounter(10);
    eq(await counter.increment(), 11, "a method of a returned RpcTarget");
    eq(await counter.increment(5), 16, "its state lives in the callee");
    eq(await counter.value, 16, "a getter, awaited");
    let threw = null;
    try { await counter.secret; } catch (err) { threw = err.message; }
    eq(threw, 'The RPC receiver does not implement the method "secret".', "instance fields stay private");
    counter[Symbol.dispose]();
  },
  async pipelining(env) {
    eq(await env.MATH.newCounter(1).increment(), 2, "a call on a result not yet awaited");
    eq(await env.MATH.info().name, "math", "a property of a result not yet awaited");
    eq(await env.MATH.info().nested.list, [1, 2], "a nested property");
  },
  async callbacks(env) {
    const seen = [];
    const total = await env.MATH.map([1, 2, 3], (x) => { seen.push(x); return x * 2; });
    eq(total, [2, 4, 6], "a function passed as an argument is called back");
    eq(seen, [1, 2, 3], "in the caller's isolate");
    const logger = new Logger();
    eq(await env.MATH.useLogger(logger), 2, "an RpcTarget passed as an argument");
    eq(logger.lines, ["one", "two"], "its calls ran here");
  },
  async objects(env) {
    const room = env.ROOMS.getByName("lobby");
    const member = await room.join("ann");
    eq(await member.say("hi"), 1, "an RpcTarget a Durable Object returned");
    eq(await member.say("again"), 2, "keeps the object's state");
    eq(await room.history(), ["ann: hi", "ann: again"], "the object saw both");
    eq(await env.MATH.callRoom(room, "bob"), ["ann: hi", "ann: again", "bob: hello"], "a Durable Object stub passed by RPC");
  },
  async bodies(env) {
    const response = await env.MATH.page("hi");
    eq([response instanceof Response, response.status, response.headers.get("x-page"), await response.text()], [true, 201, "yes", "<p>hi</p>"], "a Response returned by RPC");
    const echoed = await env.MATH.describe(new Request("https://example.com/x?y=1", { method: "POST", headers: { "x-a": "b" }, body: "payload" }));
    eq(echoed, ["POST", "https://example.com/x?y=1", "b", "payload"], "a Request passed by RPC");
    const stream = await env.MATH.numbers(3);
    eq(stream instanceof ReadableStream, true, "a ReadableStream returned by RPC");
    eq(await new Response(stream).text(), "0,1,2,", "its bytes");
    const blob = await env.MATH.blob();
    eq([blob instanceof Blob, blob.type, await blob.text()], [true, "text/plain", "blob body"], "a Blob");
  },
  async liveStreams(env) {
    // A stream crosses by reference: the first chunk arrives before the object writes the last.
    const room = env.ROOMS.getByName("streams");
    const started = Date.now();
    const reader = (await room.ticker(3, 300)).getReader();
    const decoder = new TextDecoder();
    const first = await reader.read();
    const firstAt = Date.now() - started;
    eq(decoder.decode(first.value), "tick 0\n", "the first chunk");
    if (firstAt >= 500) throw new Error(`the first chunk took ${firstAt} ms: the stream was buffered`);
    let rest = "";
    for (let i = 0; i < 10; i++) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += decoder.decode(value);
    }
    eq(rest, "tick 1\ntick 2\n", "the later chunks, in order");
    const response = await room.sse(2);
    eq([response.status, response.headers.get("content-type"), await response.text()], [200, "text/event-stream", "data: 0\n\ndata: 1\n\n"], "a Response with a streamed body");
    const cancelled = await room.endless();
    const cancelReader = cancelled.getReader();
    await cancelReader.read();
    await cancelReader.cancel("enough");
    let reason = null;
    for (let i = 0; i < 50 && reason === null; i++) {
      reason = await room.cancelReason();
      if (reason === null) await new Promise((r) => setTimeout(r, 20));
    }
    eq(reason, "enough", "cancelling the reader cancels the object's stream");
    let threw = null;
    try { await new Response(await room.strings()).text(); } catch (err) { threw = `${err.name}: ${err.message}`; }
    eq(threw, "TypeError: This ReadableStream did not return bytes.", "only byte streams cross");
    const echoed = await env.MATH.describe(new Request("https://example.com/up", { method: "PUT", body: new Blob(["streamed upload"]).stream(), duplex: "half" }));
    eq(echoed, ["PUT", "https://example.com/up", null, "streamed upload"], "a Request with a stream body");
  },
  async getters(env) {
    eq(await env.MATH.version, "1.2", "a getter of a service entrypoint, awaited");
    const room = env.ROOMS.getByName("getters");
    eq(await room.kind, "room", "a getter of a Durable Object, awaited");
    let threw = null;
    try { await room.ctx; } catch (err) { threw = err.message; }
    eq(threw, 'The RPC receiver does not implement the method "ctx".', "an object's own fields stay private");
  },
  async fetchThroughPassedStubs(env) {
    const room = env.ROOMS.getByName("fetched");
    eq(await env.MATH.fetchThrough(room, "/hello"), [200, "room saw /hello"], "fetch() on a Durable Object stub passed by RPC");
    eq(await env.MATH.fetchThrough(env.MATH, "/self"), [200, "server saw /self"], "fetch() on a service stub passed by RPC");
    const target = await env.MATH.fetcher();
    const response = await target.fetch("https://x/y");
    eq([response.status, await response.text()], [202, "target fetch https://x/y"], "an RpcTarget's own fetch() method");
  },
  async dup(env) {
    const counter = await env.MATH.newCounter(0);
    const copy = counter.dup();
    counter[Symbol.dispose]();
    eq(await copy.increment(), 1, "a dup() outlives the disposed original");
    copy[Symbol.dispose]();
    let threw = null;
    try { await copy.increment(); } catch (err) { threw = err.message; }
    eq(threw, "RPC stub is disconnected: its target was released.", "disposing the last copy releases the target");
    eq(typeof env.ROOMS.getByName("dup").dup().history, "function", "a Durable Object stub has dup()");
  },
  async errors(env) {
    let threw = null;
    try { await env.MATH.newCounter(0).explode(); } catch (err) { threw = `${err.name}: ${err.message}`; }
    eq(threw, "RangeError: too big", "errors thrown by a target keep their class");
    let quota = null;
    try { await env.MATH.quota(); } catch (err) { quota = [err.constructor.name, err.message, err.remote, err.overloaded, Object.keys(err).sort()]; }
    eq(quota, ["Error", "QuotaError: slow down", true, true, ["overloaded", "remote"]], "another class's name goes into the message; remote and overloaded are set, as workerd does");
  },
};

class Member extends RpcTarget {
  #room;
  #name;
  constructor(room, name) { super(); this.#room = room; this.#name = name; }
  async say(text) {
    const history = (await this.#room.ctx.storage.get("history")) ?? [];
    history.push(`${this.#name}: ${text}`);
    await this.#room.ctx.storage.put("history", history);
    return history.length;
  }
}

const encoder = new TextEncoder();

export class Room extends DurableObject {
  get kind() { return "room"; }
  ticker(n, gapMs) {
    let i = 0;
    return new ReadableStream({
      async pull(c) {
        if (i >= n) return c.close();
        if (i > 0) await new Promise((r) => setTimeout(r, gapMs));
        c.enqueue(encoder.encode(`tick ${i++}\n`));
      },
    });
  }
  sse(n) {
    let i = 0;
    const body = new ReadableStream({ pull(c) { if (i < n) c.enqueue(encoder.encode(`data: ${i++}\n\n`)); else c.close(); } });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  }
  endless() {
    this.cancelled = null;
    return new ReadableStream({ pull: (c) => { c.enqueue(encoder.encode("x")); }, cancel: (reason) => { this.cancelled = String(reason); } });
  }
  cancelReason() { return this.cancelled; }
  strings() { return new ReadableStream({ start(c) { c.enqueue("not bytes"); c.close(); } }); }
  fetch(request) { return new Response(`room saw ${new URL(request.url).pathname}`); }
  join(name) { return new Member(this, name); }
  async history() { return (await this.ctx.storage.get("history")) ?? []; }
}

export default {
  async fetch(request, env) {
    const failures = [];
    for (const [name, check] of Object.entries(checks)) {
      try {
        await check(env);
      } catch (err) {
        failures.push(`${name}: ${err.message}`);
      }
    }
    return Response.json(failures);
  },
};
