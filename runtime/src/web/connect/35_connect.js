// `connect()` of cloudflare:sockets: a Socket with a readable and a writable stream over a TCP
// (or TLS) connection in Rust (runtime/src/connect), `opened`, `closed`, `close()` and
// `startTls()`, as workerd has them.
function tcpAddress(address) {
  let hostname;
  let port;
  if (typeof address === "string") {
    const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(address.trim());
    if (!match) throw new TypeError("The address must be \"host:port\" or an object with hostname and port.");
    hostname = match[1] ?? match[2];
    port = Number(match[3]);
  } else if (address !== null && typeof address === "object") {
    hostname = String(address.hostname ?? "");
    port = Number(address.port);
  } else {
    throw new TypeError("The address must be \"host:port\" or an object with hostname and port.");
  }
  if (hostname === "") throw new TypeError("The address must name a host.");
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TypeError(`Invalid port: ${port}.`);
  return [hostname, port];
}

function tcpBytes(chunk) {
  if (typeof chunk === "string") return new TextEncoder().encode(chunk);
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError("The socket's writable stream takes ArrayBuffer, ArrayBufferView or string chunks.");
}

class Socket {
  #id;
  #hostname;
  #closedSettle;
  #done = false;
  #readDone = false;
  #writeDone = false;
  constructor(connecting, hostname, secureTransport, allowHalfOpen) {
    this.#hostname = hostname;
    this.secureTransport = secureTransport;
    this.upgraded = false;
    this.#id = connecting.then((answer) => Number(answer[0]));
    this.opened = connecting.then((answer) => ({ remoteAddress: answer[1], localAddress: answer[2] }));
    this.closed = new Promise((resolve, reject) => { this.#closedSettle = [resolve, reject]; });
    this.closed.catch(() => {});
    this.opened.catch((err) => this.#finish(err));
    const socket = this;
    this.readable = new ReadableStream({
      async pull(controller) {
        try {
          const chunk = await ops.op_tcp_read(await socket.#id);
          if (chunk === null || chunk === undefined) {
            controller.close();
            socket.#readDone = true;
            if (!allowHalfOpen) await socket.#shutdownWrite();
            socket.#maybeFinish();
          } else {
            controller.enqueue(new Uint8Array(chunk));
          }
        } catch (err) {
          controller.error(err);
          socket.#finish(err);
        }
      },
      cancel() { socket.#readDone = true; socket.#maybeFinish(); },
    });
    this.writable = new WritableStream({
      async write(chunk) {
        await ops.op_tcp_write(await socket.#id, tcpBytes(chunk));
      },
      async close() {
        await socket.#shutdownWrite();
        socket.#maybeFinish();
      },
      async abort() {
        await socket.#shutdownWrite();
        socket.#maybeFinish();
      },
    });
  }
  async #shutdownWrite() {
    if (this.#writeDone) return;
    this.#writeDone = true;
    try { await ops.op_tcp_shutdown(await this.#id); } catch {}
  }
  #maybeFinish() {
    if (this.#readDone && this.#writeDone) this.#finish(null);
  }
  #finish(err) {
    if (this.#done) return;
    this.#done = true;
    this.#id.then((id) => ops.op_tcp_close(id), () => {});
    if (err) this.#closedSettle[1](err); else this.#closedSettle[0]();
  }
  async close() {
    this.#readDone = true;
    this.#writeDone = true;
    try { await this.readable.cancel(); } catch {}
    try { await this.writable.abort(); } catch {}
    this.#finish(null);
    return this.closed;
  }
  startTls(options = {}) {
    if (this.secureTransport !== "starttls") {
      throw new TypeError("startTls() needs a socket opened with secureTransport: \"starttls\".");
    }
    if (this.upgraded) throw new TypeError("startTls() can only be called once.");
    this.upgraded = true;
    const hostname = options?.expectedServerHostname ?? this.#hostname;
    const upgrading = this.#id.then((id) => ops.op_tcp_start_tls(id, hostname)).then((id) => [String(id), "", ""]);
    this.#done = true;
    this.#closedSettle[0]();
    const secured = new Socket(upgrading, hostname, "on", false);
    return secured;
  }
}

function tcpConnect(address, options = {}) {
  const [hostname, port] = tcpAddress(address);
  const secureTransport = options?.secureTransport ?? "off";
  if (!["off", "on", "starttls"].includes(secureTransport)) {
    throw new TypeError(`Unknown secureTransport "${secureTransport}".`);
  }
  const connecting = ops.op_tcp_connect(hostname, port, secureTransport === "on");
  return new Socket(connecting, hostname, secureTransport, options?.allowHalfOpen === true);
}

// Hyperdrive: the binding describes a database (a local one: Kiln has no connection pool) and
// connects to it, as drivers expect (`connectionString`, `host`, `port`, `user`, `password`,
// `database`, `connect()`).
class Hyperdrive {
  #url;
  constructor(connectionString) {
    this.#url = new URL(connectionString);
    this.connectionString = connectionString;
  }
  get host() { return this.#url.hostname; }
  get port() { return Number(this.#url.port || 5432); }
  get user() { return decodeURIComponent(this.#url.username); }
  get password() { return decodeURIComponent(this.#url.password); }
  get database() { return decodeURIComponent(this.#url.pathname.slice(1)); }
  connect() { return tcpConnect({ hostname: this.host, port: this.port }); }
}

function installHyperdriveBindings(env, entries) {
  for (const [name, connectionString] of entries) {
    Object.defineProperty(env, name, { value: new Hyperdrive(connectionString), enumerable: true, configurable: true, writable: true });
  }
}

export { installHyperdriveBindings, tcpConnect };
