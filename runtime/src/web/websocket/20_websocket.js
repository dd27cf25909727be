// WebSockets: WebSocketPair, the WebSocket class (server ends, accept(), send(), close()), the
// events they fire, and the Durable Object hibernation API's side of a socket.
//
// An end's id names it in Rust's socket table. A new end can be accepted (its frames then come
// to dispatchSocketEvent), hibernated by ctx.acceptWebSocket() (its frames become events of the
// object), or returned in a 101 Response (it leaves the isolate). Sends and closes wait for the
// output gate: a frame sent after a storage write leaves only once that write is durable, and in
// order with every other frame of the socket.
const kCreate = Symbol("create");
const kReceive = Symbol("receive");
const WS_CONNECTING = 0, WS_OPEN = 1, WS_CLOSING = 2, WS_CLOSED = 3;
const WEBSOCKET_CLOSE_REASON_BYTES_MAX = 123;
const WEBSOCKET_ATTACHMENT_BYTES_MAX = 16384;
const WEBSOCKET_TAGS_MAX = 10;
const WEBSOCKET_TAG_BYTES_MAX = 256;
const WEBSOCKET_AUTO_RESPONSE_BYTES_MAX = 2048;
const WEBSOCKET_EVENT_TIMEOUT_MS_MAX = 604800000;

// Sockets accepted with accept() in this isolate, by id: their frames arrive here.
const acceptedSockets = new Map();

class MessageEvent extends Event {
  #data; #origin; #lastEventId;
  constructor(type, init = {}) {
    super(type, init);
    this.#data = init?.data ?? null;
    this.#origin = String(init?.origin ?? "");
    this.#lastEventId = String(init?.lastEventId ?? "");
  }
  get data() { return this.#data; }
  get origin() { return this.#origin; }
  get lastEventId() { return this.#lastEventId; }
  get source() { return null; }
  get ports() { return []; }
}

class CloseEvent extends Event {
  #code; #reason; #wasClean;
  constructor(type, init = {}) {
    super(type, init);
    this.#code = Number(init?.code ?? 0);
    this.#reason = String(init?.reason ?? "");
    this.#wasClean = Boolean(init?.wasClean);
  }
  get code() { return this.#code; }
  get reason() { return this.#reason; }
  get wasClean() { return this.#wasClean; }
}

class ErrorEvent extends Event {
  #message; #error;
  constructor(type, init = {}) {
    super(type, init);
    this.#message = String(init?.message ?? "");
    this.#error = init?.error;
  }
  get message() { return this.#message; }
  get error() { return this.#error; }
  get filename() { return ""; }
  get lineno() { return 0; }
  get colno() { return 0; }
}

function isValidCloseCode(code) {
  return Number.isInteger(code) && code >= 1000 && code <= 4999 && code !== 1004 && code !== 1005 && code !== 1006 && code !== 1015;
}

class WebSocket extends EventTarget {
  #id;
  #owner = null;
  #mode = "new"; // new | connecting | accepted | hibernated | returned
  #url = null;
  #protocol = "";
  #state = WS_OPEN;
  #closeSent = false;
  #pending = [];
  #draining = false;
  #attachment = null; // serialized, for sockets that are not hibernatable
  #binaryType = compatFlags.has("websocket_standard_binary_type") ? "blob" : "arraybuffer";

  constructor(url, protocols) {
    if (url === kCreate) {
      super();
      this.#id = protocols.id;
      if (protocols.hibernated) this.#mode = "hibernated";
      return;
    }
    super();
    this.#connect(url, protocols);
  }

  // `new WebSocket(url, protocols)`: the handshake is a fetch() with `Upgrade: websocket`; the
  // socket opens (and fires `open`) when the server answers 101.
  #connect(url, protocols) {
    const fail = (message) => new DOMException(`WebSocket Constructor: ${message}`, "SyntaxError");
    let parsed;
    try {
      parsed = new URL(String(url));
    } catch {
      throw fail("The url is invalid.");
    }
    if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") throw fail("The url scheme must be ws or wss.");
    if (parsed.hash !== "" || String(url).includes("#")) throw fail("The url fragment must be empty.");
    const list = protocols === undefined ? [] : typeof protocols === "string" ? [protocols] : [...protocols].map(String);
    const token = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
    for (const protocol of list) {
      if (!token.test(protocol)) throw fail(list.length === 1 ? "The protocol header token is invalid." : "One of the protocol header tokens is invalid.");
    }
    if (new Set(list).size !== list.length) throw fail("The protocols header cannot have repeating values.");
    this.#mode = "connecting";
    this.#state = WS_CONNECTING;
    this.#url = parsed.href;
    const target = (parsed.protocol === "wss:" ? "https:" : "http:") + parsed.href.slice(parsed.protocol.length);
    const headers = { Upgrade: "websocket" };
    if (list.length > 0) headers["Sec-WebSocket-Protocol"] = list.join(", ");
    fetch(target, { headers }).then((response) => {
      if (response.status !== 101 || !response.webSocket) {
        this.#failConnect(`Failed to establish the WebSocket connection: expected server to reply with HTTP status code 101 (switching protocols), but received ${response.status} instead.`);
        return;
      }
      const socket = response.webSocket;
      this.#id = socketIdOf(socket);
      setSocketMode(socket, "returned");
      this.#protocol = response.headers.get("sec-websocket-protocol") ?? "";
      ops.op_ws_accept(this.#id);
      this.#mode = "accepted";
      acceptedSockets.set(this.#id, this);
      if (this.#closeSent) {
        // close() was called while connecting: the connection is dropped at once.
        this.#state = WS_CLOSING;
        ops.op_ws_close(this.#id, 1000, "");
        return;
      }
      this.#state = WS_OPEN;
      this.dispatchEvent(new Event("open"));
    }, (err) => this.#failConnect(String(err?.message ?? err)));
  }

  #failConnect(message) {
    const wasClosing = this.#closeSent;
    this.#state = WS_CLOSED;
    if (!wasClosing) this.dispatchEvent(new ErrorEvent("error", { message }));
    this.dispatchEvent(new CloseEvent("close", { code: 1006, reason: "Failed to establish websocket connection", wasClean: false }));
  }

  get readyState() { return this.#state; }
  get url() { return this.#url; }
  get protocol() { return this.#protocol; }
  get extensions() { return ""; }
  get binaryType() { return this.#binaryType; }
  set binaryType(value) {
    if (value === "arraybuffer" || value === "blob") this.#binaryType = value;
  }

  accept(options = undefined) {
    if (this.#mode === "connecting") throw new TypeError("Websockets obtained from the 'new WebSocket()' constructor cannot call accept");
    if (this.#mode === "hibernated") throw new TypeError("Can't accept() WebSocket after enabling hibernation.");
    if (this.#mode === "returned") throw new TypeError("Can't accept() WebSocket that was already used in a response.");
    if (this.#mode === "accepted") return;
    ops.op_ws_accept(this.#id);
    this.#mode = "accepted";
    acceptedSockets.set(this.#id, this);
  }

  send(message) {
    if (this.#mode === "new" || this.#mode === "returned" || this.#mode === "connecting") {
      throw new TypeError("You must call one of accept() or state.acceptWebSocket() on this WebSocket before sending messages.");
    }
    if (this.#closeSent) throw new TypeError("Can't call WebSocket send() after close().");
    if (this.#state === WS_CLOSED) return;
    let payload;
    if (typeof message === "string") payload = message;
    else if (message instanceof ArrayBuffer) payload = message.slice(0);
    else if (ArrayBuffer.isView(message)) payload = new Uint8Array(message.buffer, message.byteOffset, message.byteLength).slice();
    else payload = String(message);
    // The common case sends at once, without a closure per message (a room fanning one message
    // out to a thousand sockets calls this a thousand times).
    if (this.#pending.length === 0 && undurableStorages.size === 0) ops.op_ws_send(this.#id, payload);
    else this.#enqueue(() => ops.op_ws_send(this.#id, payload));
  }

  close(code = undefined, reason = undefined) {
    if (code !== undefined) {
      code = Number(code);
      if (!isValidCloseCode(code)) throw new DOMException(`Invalid WebSocket close code: ${code}.`, "InvalidAccessError");
    } else if (reason !== undefined) {
      throw new DOMException("If you specify a WebSocket close reason, you must also specify a code.", "InvalidAccessError");
    }
    reason = reason === undefined ? "" : String(reason);
    if (utf8Length(reason) > WEBSOCKET_CLOSE_REASON_BYTES_MAX) {
      throw new DOMException(`WebSocket close reason must not be longer than ${WEBSOCKET_CLOSE_REASON_BYTES_MAX} bytes when UTF-8 encoded.`, "SyntaxError");
    }
    if (this.#mode === "connecting") {
      // Cancels the connection attempt.
      this.#closeSent = true;
      this.#state = WS_CLOSING;
      return;
    }
    if (this.#mode === "new" || this.#mode === "returned") {
      throw new TypeError("You must call one of accept() or state.acceptWebSocket() on this WebSocket before sending messages.");
    }
    if (this.#closeSent || this.#state === WS_CLOSED) return;
    this.#closeSent = true;
    this.#state = WS_CLOSING;
    this.#enqueue(() => ops.op_ws_close(this.#id, code ?? 1005, reason));
  }

  serializeAttachment(value) {
    const text = serializeValue(value);
    const size = utf8Length(text) <= WEBSOCKET_ATTACHMENT_BYTES_MAX ? 0 : v8SerializedBytes(value, WEBSOCKET_ATTACHMENT_BYTES_MAX);
    if (size > WEBSOCKET_ATTACHMENT_BYTES_MAX) {
      throw new Error(`A WebSocket 'attachment' cannot be larger than ${WEBSOCKET_ATTACHMENT_BYTES_MAX} bytes.'attachment' was ${size} bytes.`);
    }
    if (this.#mode === "hibernated") ops.op_ws_attachment_set(this.#id, text);
    else this.#attachment = text;
  }

  deserializeAttachment() {
    const text = this.#mode === "hibernated" ? ops.op_ws_attachment_get(this.#id) : this.#attachment;
    return text === null || text === undefined ? null : deserializeValue(text);
  }

  get [Symbol.toStringTag]() { return "WebSocket"; }

  // Output gate: frames wait for every write made before them, and keep their order.
  #enqueue(op) {
    if (this.#owner?.broken) return;
    if (this.#pending.length === 0 && undurableStorages.size === 0) {
      op();
      return;
    }
    this.#pending.push(op);
    if (this.#draining) return;
    this.#draining = true;
    (async () => {
      try {
        while (this.#pending.length > 0) {
          await waitForOutputGates();
          if (this.#owner?.broken) throw this.#owner.broken;
          for (const queued of this.#pending.splice(0)) queued();
        }
      } catch {
        // A write failed to commit: the object was reset, and what it sent after is dropped.
        this.#pending.length = 0;
      } finally {
        this.#draining = false;
      }
    })();
  }

  static _id(ws) { return ws.#id; }
  static _mode(ws) { return ws.#mode; }
  static _setMode(ws, mode) { ws.#mode = mode; }
  // The Durable Object whose hibernatable socket this is: once it is reset, what its old
  // instance still sends is dropped (its writes will never be durable).
  static _setOwner(ws, actor) { ws.#owner = actor; }

  // A frame or the close from the peer of an accepted socket.
  [kReceive](kind, data, code, reason, wasClean) {
    if (kind === "message") {
      if (this.#binaryType === "blob" && data instanceof ArrayBuffer) data = new Blob([data]);
      this.dispatchEvent(new MessageEvent("message", { data }));
      return;
    }
    if (kind === "error") {
      this.#state = WS_CLOSED;
      this.dispatchEvent(new ErrorEvent("error", { message: data, error: new Error(data) }));
      return;
    }
    this.#peerClosed(code, reason, wasClean);
    this.dispatchEvent(new CloseEvent("close", { code, reason, wasClean }));
  }

  // The peer closed: answer its close (Cloudflare's auto-reply) unless we closed first.
  #peerClosed(code, reason, wasClean) {
    if (wasClean && !this.#closeSent && this.#mode === "accepted") {
      this.#closeSent = true;
      this.#enqueue(() => ops.op_ws_close(this.#id, isValidCloseCode(code) ? code : 1005, isValidCloseCode(code) ? reason : ""));
    }
    this.#state = WS_CLOSED;
  }

  static _peerClosed(ws, code, reason, wasClean) { ws.#peerClosed(code, reason, wasClean); }
}
for (const [name, value] of [["CONNECTING", WS_CONNECTING], ["OPEN", WS_OPEN], ["CLOSING", WS_CLOSING], ["CLOSED", WS_CLOSED]]) {
  Object.defineProperty(WebSocket, name, { value, enumerable: true });
  Object.defineProperty(WebSocket.prototype, name, { value, enumerable: true });
  // workerd's names too (partyserver compares readyState with READY_STATE_OPEN).
  Object.defineProperty(WebSocket, `READY_STATE_${name}`, { value, enumerable: true });
  Object.defineProperty(WebSocket.prototype, `READY_STATE_${name}`, { value, enumerable: true });
}
const socketIdOf = WebSocket._id;
const socketModeOf = WebSocket._mode;
const setSocketMode = WebSocket._setMode;
const setSocketOwner = WebSocket._setOwner;
const socketPeerClosed = WebSocket._peerClosed;
delete WebSocket._id;
delete WebSocket._mode;
delete WebSocket._setMode;
delete WebSocket._peerClosed;

class WebSocketPair {
  constructor() {
    const [client, server] = ops.op_ws_pair();
    Object.defineProperty(this, 0, { value: new WebSocket(kCreate, { id: client }), enumerable: true });
    Object.defineProperty(this, 1, { value: new WebSocket(kCreate, { id: server }), enumerable: true });
  }
}

class WebSocketRequestResponsePair {
  #request; #response;
  constructor(request, response) {
    this.#request = String(request);
    this.#response = String(response);
  }
  get request() { return this.#request; }
  get response() { return this.#response; }
}

// A WebSocket that arrived in a response from another worker or object.
function webSocketFromRust(id) {
  return new WebSocket(kCreate, { id });
}

// The id Rust takes a response's WebSocket by; the socket leaves this isolate.
function socketForResponse(ws) {
  const mode = socketModeOf(ws);
  if (mode === "accepted") throw new TypeError("Can't return WebSocket in a Response after calling accept().");
  if (mode === "hibernated") throw new TypeError("Can't return WebSocket in a Response after calling acceptWebSocket().");
  if (mode === "returned") throw new TypeError("Can't return WebSocket that was already used in a response.");
  if (mode === "connecting" || ws.url !== null) throw new TypeError("Can't return WebSocket in a Response if it was created with `new WebSocket()`");
  setSocketMode(ws, "returned");
  return socketIdOf(ws);
}

// Frames of accepted sockets, from Rust.
function dispatchSocketEvent(id, kind, data, code, reason, wasClean) {
  const ws = acceptedSockets.get(id);
  if (ws === undefined) return;
  if (kind !== "message") acceptedSockets.delete(id);
  ws[kReceive](kind, data, code, reason, wasClean);
}

// Sockets accepted with accept() keep every object of the isolate in memory, as Cloudflare
// keeps an object with open non-hibernatable sockets.
function hasAcceptedSockets() {
  return acceptedSockets.size > 0;
}

// --- The hibernation API (ctx.acceptWebSocket and friends), used by the actor. ---

function checkTags(tags) {
  if (tags === undefined || tags === null) return [];
  const list = [...tags].map(String);
  if (list.length > WEBSOCKET_TAGS_MAX) throw new Error(`a Hibernatable WebSocket cannot have more than ${WEBSOCKET_TAGS_MAX} tags`);
  for (const tag of list) {
    if (utf8Length(tag) > WEBSOCKET_TAG_BYTES_MAX) {
      throw new Error(`"${tag}" is longer than the max tag length (${WEBSOCKET_TAG_BYTES_MAX} characters).`);
    }
  }
  return [...new Set(list)];
}

function hibernateSocket(actor, ws, tags) {
  if (!(ws instanceof WebSocket)) throw new TypeError("Failed to execute 'acceptWebSocket': parameter 1 is not of type 'WebSocket'.");
  const mode = socketModeOf(ws);
  if (mode === "accepted" || mode === "hibernated") {
    throw new Error("Cannot call `acceptWebSocket()` if the WebSocket was already accepted via `accept()`");
  }
  if (mode === "returned") {
    throw new Error("Cannot call `acceptWebSocket()` on this WebSocket because its pair has already been accepted or used in a Response.");
  }
  tags = checkTags(tags);
  const id = socketIdOf(ws);
  ops.op_ws_hibernate(id, actor.index, actor.idHex, actor.name ?? undefined, tags);
  setSocketMode(ws, "hibernated");
  setSocketOwner(ws, actor);
  actor.sockets.set(id, ws);
}

function objectSocket(actor, id) {
  let ws = actor.sockets.get(id);
  if (ws === undefined) {
    ws = new WebSocket(kCreate, { id, hibernated: true });
    setSocketOwner(ws, actor);
    actor.sockets.set(id, ws);
  }
  return ws;
}

function objectSockets(actor, tag) {
  const ids = ops.op_ws_object_sockets(actor.index, actor.idHex, tag === undefined || tag === null ? undefined : String(tag));
  return ids.map((id) => objectSocket(actor, id));
}

function socketTags(ws) {
  if (!(ws instanceof WebSocket)) throw new TypeError("Failed to execute 'getTags': parameter 1 is not of type 'WebSocket'.");
  if (socketModeOf(ws) === "accepted") throw new Error("only hibernatable websockets can have tags.");
  const tags = socketModeOf(ws) === "hibernated" ? ops.op_ws_tags(socketIdOf(ws)) : null;
  if (tags === null || tags === undefined) {
    throw new Error("you must call 'acceptWebSocket()' before attempting to access the tags of a WebSocket.");
  }
  return tags;
}

function setAutoResponse(actor, pair) {
  if (pair === undefined || pair === null) {
    ops.op_ws_auto_response_set(actor.index, actor.idHex, undefined, undefined);
    return;
  }
  if (!(pair instanceof WebSocketRequestResponsePair)) {
    throw new TypeError("Failed to execute 'setWebSocketAutoResponse': parameter 1 is not of type 'WebSocketRequestResponsePair'.");
  }
  for (const [what, text] of [["Request", pair.request], ["Response", pair.response]]) {
    const size = utf8Length(text);
    if (size > WEBSOCKET_AUTO_RESPONSE_BYTES_MAX) {
      throw new RangeError(`${what} cannot be larger than ${WEBSOCKET_AUTO_RESPONSE_BYTES_MAX} bytes. A ${what.toLowerCase()} of size ${size} was provided.`);
    }
  }
  ops.op_ws_auto_response_set(actor.index, actor.idHex, pair.request, pair.response);
}

function getAutoResponse(actor) {
  const pair = ops.op_ws_auto_response_get(actor.index, actor.idHex);
  return pair ? new WebSocketRequestResponsePair(pair[0], pair[1]) : null;
}

function autoResponseTimestamp(ws) {
  if (!(ws instanceof WebSocket) || socketModeOf(ws) !== "hibernated") return null;
  const ms = ops.op_ws_auto_response_timestamp(socketIdOf(ws));
  return ms === null || ms === undefined ? null : new Date(ms);
}

function checkEventTimeout(ms) {
  if (ms === undefined || ms === null || ms === 0) return null;
  ms = Number(ms);
  if (!Number.isFinite(ms) || ms < 0) throw new TypeError("Event timeout must be a non-negative number of milliseconds.");
  if (ms > WEBSOCKET_EVENT_TIMEOUT_MS_MAX) throw new Error(`Event timeout should not exceed ${WEBSOCKET_EVENT_TIMEOUT_MS_MAX} ms.`);
  return ms;
}

// Runs a hibernatable socket's handler within the object's event timeout, if it set one
// (ctx.setHibernatableWebSocketEventTimeout): past it the event fails and the object's next
// event may start.
async function withEventTimeout(actor, run) {
  const ms = actor.socketEventTimeoutMs;
  if (ms === null) return await run();
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`The WebSocket event handler did not finish within its timeout of ${ms} ms.`)), ms);
  });
  try {
    return await Promise.race([run(), expired]);
  } finally {
    clearTimeout(timer);
  }
}

// A hibernatable socket's message, close or error, as an event of its object.
async function dispatchObjectSocket(exports, env, address, socketId, [kind, data, code, reason, wasClean]) {
  const actor = actorFor(exports, env, address);
  return actor.deliver(async () => {
    const ws = objectSocket(actor, socketId);
    const instance = actor.instance;
    if (kind === "message") {
      if (typeof instance.webSocketMessage === "function") {
        await withEventTimeout(actor, () => instance.webSocketMessage(ws, data));
      }
    } else if (kind === "error") {
      socketPeerClosed(ws, 1006, "", false);
      actor.sockets.delete(socketId);
      if (typeof instance.webSocketError === "function") {
        await withEventTimeout(actor, () => instance.webSocketError(ws, new Error(data)));
      }
    } else {
      socketPeerClosed(ws, code, reason, wasClean);
      actor.sockets.delete(socketId);
      if (typeof instance.webSocketClose === "function") {
        await withEventTimeout(actor, () => instance.webSocketClose(ws, code, reason, wasClean));
      }
    }
    await actor.outputGate();
  });
}

for (const [name, value] of [["WebSocket", WebSocket], ["WebSocketPair", WebSocketPair], ["MessageEvent", MessageEvent], ["CloseEvent", CloseEvent], ["ErrorEvent", ErrorEvent], ["WebSocketRequestResponsePair", WebSocketRequestResponsePair]]) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}

export { dispatchSocketEvent, dispatchObjectSocket };
