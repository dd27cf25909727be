// node:http's server side, as Cloudflare runs Node servers on Workers: `http.createServer()`
// and `server.listen(port)` register a handler, and `httpServerHandler()` of `cloudflare:node`
// turns each fetch event into an IncomingMessage (a Readable of the request body) and a
// ServerResponse (a Writable whose bytes become the Response body, streamed). No socket is
// opened: `listen()` only names the server for `httpServerHandler({ port })`.
const NODE_HTTP_SERVERS_MAX = 64;
const nodeHttpServers = new Map(); // port -> server

class NodeIncomingMessage extends Readable {
  constructor(request) {
    super();
    const url = new URL(request.url);
    this.method = request.method;
    this.url = url.pathname + url.search;
    this.httpVersion = "1.1";
    this.httpVersionMajor = 1;
    this.httpVersionMinor = 1;
    this.headers = {};
    this.rawHeaders = [];
    for (const [name, value] of request.headers) {
      this.rawHeaders.push(name, value);
      this.headers[name] = name in this.headers ? `${this.headers[name]}, ${value}` : value;
    }
    this.trailers = {};
    this.rawTrailers = [];
    this.complete = false;
    const ip = request.headers.get("cf-connecting-ip") ?? "127.0.0.1";
    this.socket = this.connection = { remoteAddress: ip, remotePort: 0, encrypted: url.protocol === "https:", destroy() {} };
    this.aborted = false;
    this.#reader = request.body === null ? null : request.body.getReader();
  }
  #reader;
  _read() {
    if (this.#reader === null) {
      this.complete = true;
      this.push(null);
      return;
    }
    this.#reader.read().then(({ value, done }) => {
      if (done) {
        this.complete = true;
        this.push(null);
      } else {
        this.push(Buffer.from(value));
      }
    }, (err) => this.destroy(err));
  }
  setTimeout() { return this; }
}

class NodeServerResponse extends Writable {
  #respond;
  #controller = null;
  #headers = new Map(); // lowercased name -> [name, value]
  constructor(request, respond) {
    super();
    this.req = request;
    this.#respond = respond;
    this.statusCode = 200;
    this.statusMessage = "";
    this.headersSent = false;
    this.sendDate = true;
    this.socket = this.connection = request.socket;
  }
  setHeader(name, value) {
    if (this.headersSent) throw nodeStreamError("ERR_HTTP_HEADERS_SENT", "Cannot set headers after they are sent to the client", Error);
    this.#headers.set(String(name).toLowerCase(), [String(name), value]);
    return this;
  }
  appendHeader(name, value) {
    const existing = this.getHeader(name);
    const values = existing === undefined ? [] : Array.isArray(existing) ? existing : [existing];
    return this.setHeader(name, values.concat(value));
  }
  getHeader(name) { return this.#headers.get(String(name).toLowerCase())?.[1]; }
  getHeaders() {
    const out = {};
    for (const [key, [, value]] of this.#headers) out[key] = value;
    return out;
  }
  getHeaderNames() { return [...this.#headers.keys()]; }
  hasHeader(name) { return this.#headers.has(String(name).toLowerCase()); }
  removeHeader(name) { this.#headers.delete(String(name).toLowerCase()); }
  writeHead(status, message = undefined, headers = undefined) {
    if (typeof message === "object" && message !== null) { headers = message; message = undefined; }
    this.statusCode = Number(status);
    if (message !== undefined) this.statusMessage = String(message);
    if (Array.isArray(headers)) {
      for (let i = 0; i + 1 < headers.length; i += 2) this.setHeader(headers[i], headers[i + 1]);
    } else if (headers) {
      for (const [name, value] of Object.entries(headers)) this.setHeader(name, value);
    }
    this.#start();
    return this;
  }
  flushHeaders() { this.#start(); }
  // Sends the status and headers: the Response the fetch event answers with, its body to come.
  #start() {
    if (this.headersSent) return;
    this.headersSent = true;
    const headers = new Headers();
    for (const [, [name, value]] of this.#headers) {
      if (Array.isArray(value)) for (const item of value) headers.append(name, String(item));
      else headers.set(name, String(value));
    }
    const noBody = this.req.method === "HEAD" || this.statusCode === 204 || this.statusCode === 304;
    const body = noBody ? null : new ReadableStream({ start: (controller) => { this.#controller = controller; } });
    this.#respond(new Response(body, { status: this.statusCode, statusText: this.statusMessage, headers }));
  }
  _write(chunk, encoding, callback) {
    this.#start();
    try {
      if (this.#controller !== null && chunk.length > 0) this.#controller.enqueue(new Uint8Array(Buffer.from(chunk, encoding)));
      callback();
    } catch (err) {
      callback(err);
    }
  }
  _final(callback) {
    this.#start();
    try { this.#controller?.close(); } catch {}
    callback();
  }
  setTimeout() { return this; }
}

class NodeHttpServer extends EventEmitter {
  #port = null;
  constructor(options = undefined, listener = undefined) {
    super();
    if (typeof options === "function") listener = options;
    if (typeof listener === "function") this.on("request", listener);
    this.listening = false;
  }
  listen(...args) {
    const callback = typeof args[args.length - 1] === "function" ? args.pop() : undefined;
    const port = typeof args[0] === "object" && args[0] !== null ? args[0].port : args[0];
    this.#port = Number(port ?? 0);
    if (nodeHttpServers.size >= NODE_HTTP_SERVERS_MAX && !nodeHttpServers.has(this.#port)) {
      throw nodeStreamError("ERR_SERVER_LISTEN", `at most ${NODE_HTTP_SERVERS_MAX} servers may listen`, Error);
    }
    nodeHttpServers.set(this.#port, this);
    this.listening = true;
    queueMicrotask(() => {
      this.emit("listening");
      callback?.();
    });
    return this;
  }
  close(callback = undefined) {
    if (nodeHttpServers.get(this.#port) === this) nodeHttpServers.delete(this.#port);
    this.listening = false;
    queueMicrotask(() => { this.emit("close"); callback?.(); });
    return this;
  }
  address() { return this.#port === null ? null : { port: this.#port, family: "IPv4", address: "127.0.0.1" }; }
  setTimeout() { return this; }
  // A fetch event, through the server's `request` listeners: resolves with the Response once
  // the handler sends its headers.
  handle(request) {
    return new Promise((resolve, reject) => {
      const incoming = new NodeIncomingMessage(request);
      const response = new NodeServerResponse(incoming, resolve);
      response.on("error", reject);
      try {
        if (this.listenerCount("request") === 0) throw new Error("The server has no request listener.");
        this.emit("request", incoming, response);
      } catch (err) {
        reject(err);
      }
    });
  }
}

// `httpServerHandler(serverOrOptions)` of cloudflare:node: an object with `fetch`, to export as
// a worker's default.
function httpServerHandler(target) {
  const server = () => {
    if (target instanceof NodeHttpServer) return target;
    const port = Number(target?.port);
    const found = nodeHttpServers.get(port);
    if (found === undefined) throw new Error(`httpServerHandler: no server is listening on port ${port}.`);
    return found;
  };
  return { fetch: (request) => server().handle(request) };
}

for (const name of ["http", "https"]) {
  Object.assign(nodeBuiltinValues[name], {
    createServer: (options, listener) => new NodeHttpServer(options, listener),
    Server: NodeHttpServer,
    IncomingMessage: NodeIncomingMessage,
    ServerResponse: NodeServerResponse,
    __kilnHttpServerHandler: httpServerHandler,
  });
}
