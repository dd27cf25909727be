// Chat rooms on Durable Objects with WebSocket hibernation.
//
// Protocol (JSON text frames). The client first sends {"name": "..."}; the room answers with the
// backlog ({"backlog": [...]}) and announces {"joined": name} to everyone. Then each
// {"message": "..."} is stored and broadcast as {"name", "message", "timestamp"}. A client
// leaving is announced as {"quit": name}. The text "ping" is answered "pong" by the runtime
// without waking the room. Each client IP has a RateLimiter object: a burst of
// RATE_BURST messages, then one per RATE_REFILL_MS; a message over the limit is refused with
// {"error": "rate limited..."}.
import { DurableObject } from "cloudflare:workers";
import page from "./page.html";

const BACKLOG_MAX = 100;
const NAME_CHARS_MAX = 32;
const MESSAGE_CHARS_MAX = 256;
const RATE_BURST = 10;
const RATE_REFILL_MS = 1000;

// A token bucket per client IP. It lives in memory: losing it on eviction only forgives.
export class RateLimiter extends DurableObject {
  tokens = RATE_BURST;
  updated = Date.now();

  allow() {
    const now = Date.now();
    this.tokens = Math.min(RATE_BURST, this.tokens + (now - this.updated) / RATE_REFILL_MS);
    this.updated = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export class ChatRoom extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  async fetch(request) {
    if (request.headers.get("Upgrade") !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({ name: null, ip: request.headers.get("CF-Connecting-IP") ?? "unknown" });
    return new Response(null, { status: 101, webSocket: client });
  }

  async webSocketMessage(ws, raw) {
    let data;
    try {
      data = JSON.parse(typeof raw === "string" ? raw : new TextDecoder().decode(raw));
    } catch {
      ws.send(JSON.stringify({ error: "messages must be JSON" }));
      return;
    }
    const session = ws.deserializeAttachment() ?? { name: null };
    if (session.name === null) {
      const name = String(data.name ?? "").trim().slice(0, NAME_CHARS_MAX);
      if (!name) {
        ws.send(JSON.stringify({ error: "send your name first: {\"name\": \"...\"}" }));
        return;
      }
      ws.serializeAttachment({ ...session, name });
      ws.send(JSON.stringify({ backlog: await this.history() }));
      this.broadcast({ joined: name });
      return;
    }
    const message = String(data.message ?? "").slice(0, MESSAGE_CHARS_MAX);
    if (!message) return;
    if (!(await this.env.LIMITERS.getByName(session.ip ?? "unknown").allow())) {
      ws.send(JSON.stringify({ error: "rate limited: slow down" }));
      return;
    }
    const entry = { name: session.name, message, timestamp: Date.now() };
    const seq = ((await this.ctx.storage.get("seq")) ?? 0) + 1;
    this.ctx.storage.put("seq", seq);
    this.ctx.storage.put(`msg:${String(seq).padStart(12, "0")}`, entry);
    if (seq > BACKLOG_MAX) this.ctx.storage.delete(`msg:${String(seq - BACKLOG_MAX).padStart(12, "0")}`);
    // Sent only once the message is durable: the output gate holds these frames.
    this.broadcast(entry);
  }

  async webSocketClose(ws, code, reason, wasClean) {
    const session = ws.deserializeAttachment();
    if (session?.name) this.broadcast({ quit: session.name });
    if (wasClean) ws.close(1000, "bye");
  }

  async webSocketError(ws) {
    const session = ws.deserializeAttachment();
    if (session?.name) this.broadcast({ quit: session.name });
  }

  // The room's recent messages, oldest first (also callable over RPC).
  async history() {
    const entries = await this.ctx.storage.list({ prefix: "msg:", reverse: true, limit: BACKLOG_MAX });
    return [...entries.values()].reverse();
  }

  broadcast(payload) {
    const text = JSON.stringify(payload);
    for (const ws of this.ctx.getWebSockets()) {
      if (ws.deserializeAttachment()?.name) {
        try {
          ws.send(text);
        } catch {
          // A socket that is closing: its close event will follow.
        }
      }
    }
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/") {
      return new Response(page, { headers: { "content-type": "text/html;charset=UTF-8" } });
    }
    const match = url.pathname.match(/^\/api\/room\/([A-Za-z0-9_-]{1,64})\/(websocket|history)$/);
    if (!match) return new Response("not found", { status: 404 });
    const room = env.ROOMS.getByName(match[1]);
    if (match[2] === "history") return Response.json(await room.history());
    return room.fetch(request);
  },
};
