import { DurableObject } from "cloudflare:workers";

export class Counter extends DurableObject {
  // RPC: `await stub.increment(by)`.
  async increment(by = 1) {
    const value = ((await this.ctx.storage.get("value")) ?? 0) + by;
    await this.ctx.storage.put("value", value);
    return value;
  }

  async current() {
    return (await this.ctx.storage.get("value")) ?? 0;
  }

  // HTTP: the same counter through stub.fetch().
  async fetch(request) {
    if (request.method === "POST") {
      return new Response(String(await this.increment(1)));
    }
    return new Response(String(await this.current()));
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [name, mode] = url.pathname.slice(1).split("/");
    if (!name) {
      return new Response("GET or POST /<name>, or POST /<name>/rpc\n", { status: 404 });
    }
    const stub = env.COUNTER.getByName(name);
    if (mode === "rpc" && request.method === "POST") {
      return new Response(String(await stub.increment(1)));
    }
    return stub.fetch(request);
  }
};
