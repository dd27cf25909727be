// WebSocket behaviour checked through a real node: accept() echo sockets in a stateless worker,
// hibernatable sockets in a Durable Object, and the errors Cloudflare throws on misuse.
import { DurableObject } from "cloudflare:workers";

let constructions = 0;

async function throwsWith(fn, name, fragment) {
  try {
    await fn();
  } catch (err) {
    return err.name === name && String(err.message).includes(fragment) ? null : `${err.name}: ${err.message}`;
  }
  return "did not throw";
}

export class Hub extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    constructions++;
    this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname.endsWith("/closes")) {
      return Response.json((await this.ctx.storage.get("closes")) ?? []);
    }
    if (url.pathname.endsWith("/errors")) {
      return Response.json((await this.ctx.storage.get("errors")) ?? []);
    }
    if (url.pathname.endsWith("/misuse")) return Response.json(await this.misuse());
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server, [url.searchParams.get("tag") ?? "none", "all"]);
    server.serializeAttachment({ joined: url.searchParams.get("who") });
    return new Response(null, { status: 101, webSocket: client });
  }

  async webSocketMessage(ws, message) {
    if (message instanceof ArrayBuffer) {
      ws.send(new Uint8Array(message).reverse());
      return;
    }
    if (message === "who") {
      ws.send(JSON.stringify({
        constructions,
        sockets: this.ctx.getWebSockets().length,
        red: this.ctx.getWebSockets("red").length,
        attachment: ws.deserializeAttachment(),
        tags: this.ctx.getTags(ws),
        autoResponseSeen: this.ctx.getWebSocketAutoResponseTimestamp(ws) instanceof Date,
      }));
      return;
    }
    if (message.startsWith("store:")) {
      // The output gate: this frame leaves only once the write is durable.
      this.ctx.storage.put("stored", message.slice(6));
      ws.send(`stored ${message.slice(6)}`);
      return;
    }
    if (message === "get") {
      ws.send(`value ${(await this.ctx.storage.get("stored")) ?? "none"}`);
      return;
    }
    if (message.startsWith("all:")) {
      for (const socket of this.ctx.getWebSockets()) socket.send(message.slice(4));
      return;
    }
    if (message === "bye") {
      ws.close(4001, "as you wish");
      return;
    }
    if (message.startsWith("timeout:")) {
      this.ctx.setHibernatableWebSocketEventTimeout(Number(message.slice(8)));
      ws.send(`timeout ${this.ctx.getHibernatableWebSocketEventTimeout()}`);
      return;
    }
    if (message === "sleep") {
      // Longer than the event timeout the test sets: the next frame must not wait for it.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      ws.send("slept");
      return;
    }
    ws.send(`echo ${message}`);
  }

  async webSocketError(ws, error) {
    const errors = (await this.ctx.storage.get("errors")) ?? [];
    errors.push([ws.deserializeAttachment()?.joined ?? null, error instanceof Error, String(error.message)]);
    await this.ctx.storage.put("errors", errors);
  }

  async webSocketClose(ws, code, reason, wasClean) {
    const closes = (await this.ctx.storage.get("closes")) ?? [];
    closes.push([ws.deserializeAttachment()?.joined ?? null, code, reason, wasClean]);
    await this.ctx.storage.put("closes", closes);
  }

  async misuse() {
    const failures = [];
    const check = async (what, fn, name, fragment) => {
      const problem = await throwsWith(fn, name, fragment);
      if (problem) failures.push(`${what}: ${problem}`);
    };
    const pair = new WebSocketPair();
    const [a, b] = [pair[0], pair[1]];
    if (a.readyState !== WebSocket.OPEN) failures.push(`readyState of a new end: ${a.readyState}`);
    // This worker's compatibility date is before 2026-03-17 (websocket_standard_binary_type).
    if (a.binaryType !== "arraybuffer") failures.push(`binaryType of a new end: ${a.binaryType}`);
    await check("send before accept", () => a.send("x"), "TypeError", "You must call one of accept()");
    await check("bad close code", () => b.close(1006), "InvalidAccessError", "Invalid WebSocket close code: 1006.");
    await check("reason without code", () => b.close(undefined, "why"), "InvalidAccessError", "you must also specify a code");
    await check("long reason", () => b.close(1000, "x".repeat(124)), "SyntaxError", "123 bytes");
    this.ctx.acceptWebSocket(b, ["t"]);
    await check("accept after acceptWebSocket", () => b.accept(), "TypeError", "after enabling hibernation");
    await check("acceptWebSocket twice", () => this.ctx.acceptWebSocket(b), "Error", "already accepted");
    await check("too many tags", () => this.ctx.acceptWebSocket(a, ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"]), "Error", "more than 10 tags");
    await check("big attachment", () => b.serializeAttachment("x".repeat(20000)), "Error", "cannot be larger than 16384 bytes");
    await check("tags of a plain socket", () => this.ctx.getTags(a), "Error", "you must call 'acceptWebSocket()'");
    await check("status 101 without a socket", () => new Response(null, { status: 101 }), "RangeError", "200 to 599");
    await check("socket without status 101", () => new Response(null, { webSocket: a }), "RangeError", "must have status code 101");
    await check("big auto-response", () => this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("x".repeat(3000), "y")), "RangeError", "Request cannot be larger than 2048 bytes");
    a.accept();
    b.close(1000, "done");
    await check("send after close", () => b.send("x"), "TypeError", "Can't call WebSocket send() after close().");
    if (this.ctx.getTags(b).join() !== "t") failures.push(`tags: ${this.ctx.getTags(b)}`);
    const auto = this.ctx.getWebSocketAutoResponse();
    if (auto?.request !== "ping" || auto?.response !== "pong") failures.push("getWebSocketAutoResponse");
    return failures;
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/hub/")) {
      return env.HUB.getByName(url.pathname.split("/")[2]).fetch(request);
    }
    if (url.pathname === "/echo") {
      const pair = new WebSocketPair();
      const server = pair[1];
      server.accept();
      server.addEventListener("message", (event) => {
        if (event.data === "close-me") server.close(4000, "asked");
        else if (typeof event.data === "string") server.send(`echo ${event.data}`);
        else server.send(event.data);
      });
      server.addEventListener("close", (event) => {
        console.log(`echo socket closed ${event.code} ${event.reason} ${event.wasClean}`);
      });
      return new Response(null, { status: 101, webSocket: pair[0] });
    }
    if (url.pathname === "/outbound") {
      // Both ways a worker opens a WebSocket, here to this node's own /echo.
      const host = url.searchParams.get("host") ?? url.host;
      const viaConstructor = await new Promise((resolve) => {
        const ws = new WebSocket(`ws://${host}/echo`);
        const seen = [`state ${ws.readyState}`];
        ws.addEventListener("open", () => {
          seen.push(`open ${ws.readyState}`);
          ws.send("one");
        });
        ws.addEventListener("message", (event) => {
          seen.push(event.data);
          ws.close(1000, "enough");
        });
        ws.addEventListener("close", (event) => {
          seen.push(`close ${event.code} ${event.reason} ${event.wasClean}`);
          resolve(seen);
        });
      });
      const response = await fetch(`http://${host}/echo`, { headers: { Upgrade: "websocket" } });
      const socket = response.webSocket;
      socket.accept();
      const viaFetch = await new Promise((resolve) => {
        socket.addEventListener("message", (event) => resolve([response.status, event.data]));
        socket.send("two");
      });
      socket.close(1000);
      const refused = await new Promise((resolve) => {
        const ws = new WebSocket(`ws://${host}/nowhere`);
        ws.addEventListener("error", (event) => resolve(event.message));
      });
      let badScheme;
      try {
        new WebSocket("http://example.com/");
      } catch (err) {
        badScheme = `${err.name}: ${err.message}`;
      }
      return Response.json({ viaConstructor, viaFetch, refused, badScheme });
    }
    if (url.pathname === "/not-upgraded") {
      const pair = new WebSocketPair();
      return new Response(null, { status: 101, webSocket: pair[0] });
    }
    return new Response("not found", { status: 404 });
  },
};
