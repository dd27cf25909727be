// Scenarios b–e: Durable Objects.
//   POST /<name>            increments the counter object <name>, answers the new value
//   GET  /<name>            reads it without changing it
//   GET  /<name>?started    the time (ms since the epoch) this instance of the object was created
//   GET  /                  answers "ok" without touching any object (a warm-up)
//   GET  /room/<name>       WebSocket: joins the room object <name> (hibernation API); every
//                           message a client sends is broadcast to every socket in the room,
//                           except "started?", answered to its sender alone with the time
//                           (ms since the epoch) this instance of the object was created
import { DurableObject } from "cloudflare:workers";

export class Counter extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.started = Date.now();
  }

  async fetch(request) {
    if (new URL(request.url).search === "?started") return new Response(String(this.started));
    if (request.method === "POST") {
      const n = ((await this.ctx.storage.get("n")) ?? 0) + 1;
      await this.ctx.storage.put("n", n);
      return new Response(String(n));
    }
    return new Response(String((await this.ctx.storage.get("n")) ?? 0));
  }
}

export class Room extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.started = Date.now();
  }

  async fetch(request) {
    if (request.headers.get("Upgrade") !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  webSocketMessage(ws, message) {
    if (message === "started?") {
      ws.send(`started ${this.started}`);
      return;
    }
    for (const peer of this.ctx.getWebSockets()) {
      try {
        peer.send(message);
      } catch {
        // A socket that is closing.
      }
    }
  }

  webSocketClose(ws) {
    try {
      ws.close(1000, "bye");
    } catch {
      // Already closed.
    }
  }
}

export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname.slice(1);
    if (!path) return new Response("ok");
    if (path.startsWith("room/")) return env.ROOMS.getByName(path.slice(5)).fetch(request);
    return env.COUNTER.getByName(path).fetch(request);
  },
};
