// EventSource: a client for Server-Sent Events over fetch(), as workerd has it. Events are
// `open`, `message` (or the stream's own event names) and `error`; a stream that ends is
// reconnected after its `retry` time (3 s unless the server set one) with Last-Event-ID, until
// close(). `init.fetcher` sends through a service binding instead of the global fetch(), and
// `EventSource.from(readable)` reads events from a stream the worker already has.
const EVENT_SOURCE_RETRY_MS = 3000;
const kEventSourceHandlers = Symbol("handlers");
const EVENT_SOURCE_LINE_CHARS_MAX = 16 * 1024 * 1024;

class EventSource extends EventTarget {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 2;
  #url;
  #fetcher;
  #readyState = 0;
  #lastEventId = "";
  #retryMs = EVENT_SOURCE_RETRY_MS;
  #abort = null;

  constructor(url, init = undefined) {
    super();
    if (url === kAbort) return; // EventSource.from()
    this.#url = new URL(String(url)).href;
    this.#fetcher = init?.fetcher ?? null;
    queueMicrotask(() => this.#connect());
  }

  static from(stream) {
    if (!(stream instanceof ReadableStream)) throw new TypeError("EventSource.from() takes a ReadableStream.");
    const source = new EventSource(kAbort);
    source.#url = "";
    source.#readyState = EventSource.OPEN;
    queueMicrotask(() => {
      source.dispatchEvent(new Event("open"));
      source.#read(stream.getReader(), false);
    });
    return source;
  }

  get url() { return this.#url; }
  get readyState() { return this.#readyState; }
  get withCredentials() { return false; }
  get CONNECTING() { return 0; }
  get OPEN() { return 1; }
  get CLOSED() { return 2; }

  close() {
    this.#readyState = EventSource.CLOSED;
    this.#abort?.abort();
    this.#abort = null;
  }

  async #connect() {
    if (this.#readyState === EventSource.CLOSED) return;
    this.#readyState = EventSource.CONNECTING;
    this.#abort = new AbortController();
    const headers = { accept: "text/event-stream", "cache-control": "no-store" };
    if (this.#lastEventId) headers["last-event-id"] = this.#lastEventId;
    let response;
    try {
      const send = this.#fetcher ? (u, o) => this.#fetcher.fetch(u, o) : fetch;
      response = await send(this.#url, { headers, signal: this.#abort.signal });
    } catch {
      this.#failed(true);
      return;
    }
    const type = response.headers.get("content-type") ?? "";
    if (response.status !== 200 || !type.toLowerCase().startsWith("text/event-stream") || response.body === null) {
      response.body?.cancel().catch(() => {});
      this.#failed(false);
      return;
    }
    if (this.#readyState === EventSource.CLOSED) return;
    this.#readyState = EventSource.OPEN;
    this.dispatchEvent(new Event("open"));
    await this.#read(response.body.getReader(), true);
  }

  #failed(reconnect) {
    if (this.#readyState === EventSource.CLOSED) return;
    if (reconnect) {
      this.#readyState = EventSource.CONNECTING;
      this.dispatchEvent(new Event("error"));
      setTimeout(() => this.#connect(), this.#retryMs);
    } else {
      this.#readyState = EventSource.CLOSED;
      this.dispatchEvent(new Event("error"));
    }
  }

  // Parses the stream (the WHATWG event stream format) until it ends; then reconnects.
  async #read(reader, reconnect) {
    const decoder = new TextDecoder();
    let buffer = "";
    let data = [], eventType = "", id = null;
    const dispatch = () => {
      if (id !== null) this.#lastEventId = id;
      if (data.length > 0) {
        const event = new MessageEvent(eventType || "message", { data: data.join("\n"), lastEventId: this.#lastEventId, origin: this.#url ? new URL(this.#url).origin : "" });
        this.dispatchEvent(event);
      }
      data = []; eventType = ""; id = null;
    };
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        if (buffer.length > EVENT_SOURCE_LINE_CHARS_MAX) throw new RangeError("An event stream line is too long.");
        let newline;
        while ((newline = buffer.search(/\r\n|\r|\n/)) !== -1) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + (buffer[newline] === "\r" && buffer[newline + 1] === "\n" ? 2 : 1));
          if (this.#readyState === EventSource.CLOSED) return;
          if (line === "") { dispatch(); continue; }
          if (line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const field = colon === -1 ? line : line.slice(0, colon);
          let value = colon === -1 ? "" : line.slice(colon + 1);
          if (value.startsWith(" ")) value = value.slice(1);
          if (field === "data") data.push(value);
          else if (field === "event") eventType = value;
          else if (field === "id" && !value.includes("\0")) id = value;
          else if (field === "retry" && /^\d+$/.test(value)) this.#retryMs = Number(value);
        }
      }
    } catch {
      // A failed read is the stream's end.
    }
    if (this.#readyState === EventSource.CLOSED) return;
    this.#failed(reconnect);
  }
}
for (const name of ["open", "message", "error"]) {
  Object.defineProperty(EventSource.prototype, `on${name}`, {
    get() { return this[kEventSourceHandlers]?.[name] ?? null; },
    set(handler) {
      this[kEventSourceHandlers] ??= {};
      const old = this[kEventSourceHandlers][name];
      if (old) this.removeEventListener(name, old);
      this[kEventSourceHandlers][name] = typeof handler === "function" ? handler : null;
      if (typeof handler === "function") this.addEventListener(name, handler);
    },
    configurable: true,
  });
}
Object.defineProperty(globalThis, "EventSource", { value: EventSource, writable: true, configurable: true, enumerable: false });
