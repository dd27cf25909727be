// Request.
const kSignal = Symbol("signal");
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);
const NORMALIZED_METHODS = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"]);
// Passed as `input` by incomingRequest, which hands over parts Rust already checked.
const kFromWire = Symbol("fromWire");

// A request's AbortSignal, made only when someone asks for it (most handlers never do); until
// then an abort is only remembered.
class LazyAbort {
  #controller = null;
  #aborted = false;
  #reason = undefined;
  get signal() {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }
  // Whether anyone asked for the signal (and so may be waiting for the abort).
  get observed() { return this.#controller !== null; }
  abort(reason) {
    if (this.#controller !== null) this.#controller.abort(reason);
    else if (!this.#aborted) {
      this.#aborted = true;
      this.#reason = reason;
    }
  }
}

// `request.cf` of a request from the network, built when first read (most workers never do).
class EdgeCf {
  #parts;
  constructor(parts) { this.#parts = parts; }
  build() { return JSON.parse(ops.op_cf_json(this.#parts[0], this.#parts[1])); }
  get parts() { return this.#parts; }
}

// `request.cf` as it travels with a request to a Durable Object or a service: the edge's parts
// while nobody read it, JSON once a worker did (or set its own), undefined when there is none.
const kCfWire = Symbol("cfWire");

// The `cf` a request arriving from Rust carries (`cfWire`'s forms).
function cfFromWire(wire) {
  if (Array.isArray(wire)) return new EdgeCf(wire);
  if (typeof wire === "string") return JSON.parse(wire);
  return undefined;
}

function parseUrl(input) {
  try {
    return new URL(String(input)).href;
  } catch {
    throw new TypeError(`Invalid URL: ${String(input)}`);
  }
}

class Request {
  #method;
  #url;
  #headers;
  #redirect;
  #signal;
  #cf;
  constructor(input, init = {}) {
    if (arguments.length === 0) throw new TypeError("Failed to construct 'Request': 1 argument required, but only 0 present.");
    if (input === kFromWire) {
      // Indexed, not destructured: destructuring goes through the iterator protocol.
      this.#url = init[0];
      this.#method = init[1];
      this.#headers = init[2];
      this.#signal = init[3];
      this.#cf = init[4];
      this.#redirect = "manual"; // as workerd hands a fetch event its request
      return;
    }
    init = init ?? {};
    let base = null;
    if (input instanceof Request) {
      base = input;
      this.#url = input.url;
    } else {
      this.#url = parseUrl(input);
    }
    let method = init.method !== undefined ? String(init.method) : base ? base.method : "GET";
    if (!TOKEN.test(method)) throw new TypeError(`'${method}' is not a valid HTTP method.`);
    if (FORBIDDEN_METHODS.has(method.toUpperCase())) throw new TypeError(`'${method}' HTTP method is unsupported.`);
    if (NORMALIZED_METHODS.has(method.toUpperCase())) method = method.toUpperCase();
    this.#method = method;
    this.#headers = new Headers(init.headers !== undefined ? init.headers : base ? base.headers : undefined);
    this.#redirect = init.redirect ?? base?.redirect ?? "follow";
    if (!["follow", "manual", "error"].includes(this.#redirect)) throw new TypeError(`Invalid redirect value: ${this.#redirect}`);
    this.#signal = init.signal ?? base?.signal ?? new AbortController().signal;
    this.#cf = init.cf ?? base?.cf;
    let bodyInit = init.body;
    if (bodyInit === undefined && base) {
      this[kBody] = base[kBody];
      if (base[kBody].kind !== "none") {
        if (bodyUsed(base[kBody])) throw new TypeError("Cannot reconstruct a Request with a used body.");
        base[kBody] = new BodyState("none");
        base[kBody].used = true;
      }
    } else {
      const { state, type } = extractBody(bodyInit);
      this[kBody] = state;
      if (type && !this.#headers.has("content-type")) this.#headers.set("content-type", type);
    }
    if ((this.#method === "GET" || this.#method === "HEAD") && this[kBody].kind !== "none") {
      throw new TypeError("Request with a GET or HEAD method cannot have a body.");
    }
  }
  get method() { return this.#method; }
  get url() { return this.#url; }
  get headers() { return this.#headers; }
  get redirect() { return this.#redirect; }
  get signal() {
    const signal = this.#signal;
    return signal instanceof LazyAbort ? (this.#signal = signal.signal) : signal;
  }
  get cf() {
    const cf = this.#cf;
    return cf instanceof EdgeCf ? (this.#cf = cf.build()) : cf;
  }
  [kCfWire]() {
    const cf = this.#cf;
    if (cf === undefined || cf === null) return undefined;
    return cf instanceof EdgeCf ? cf.parts : JSON.stringify(cf);
  }
  get fetcher() { return null; }
  get integrity() { return ""; }
  get keepalive() { return false; }
  get cache() { return undefined; }
  get [Symbol.toStringTag]() { return "Request"; }
  clone() {
    if (bodyUsed(this[kBody])) throw new TypeError("Cannot clone a Request whose body has already been used.");
    const copy = new Request(this.#url, { method: this.#method, headers: this.#headers, redirect: this.#redirect, signal: this.signal, cf: this.cf });
    copy[kBody] = cloneBody(this[kBody]);
    return copy;
  }
}
mixBody(Request);

// Builds the Request a handler receives from what Rust parsed off the wire.
// `urlIsHref`: Rust already serialized the URL as WHATWG's href (it parsed it with the same
// `url` crate that backs URL), so it need not be parsed again. Method and header names and
// values come from a parsed HTTP request, so they are valid.
// `abort`: the LazyAbort behind its signal, if the caller may abort it.
function incomingRequest(method, url, headerList, bodyId, cf, abort, urlIsHref = false) {
  if (!NORMALIZED_METHODS.has(method)) {
    if (NORMALIZED_METHODS.has(method.toUpperCase())) method = method.toUpperCase();
    if (FORBIDDEN_METHODS.has(method.toUpperCase())) throw new TypeError(`'${method}' HTTP method is unsupported.`);
  }
  const headers = headersFromList(headerList, "request");
  const href = urlIsHref ? url : parseUrl(url);
  const request = new Request(kFromWire, [href, method, headers, abort ?? new LazyAbort(), cf]);
  request[kBody] = bodyId === null || bodyId === undefined ? new BodyState("none") : new BodyState("source", bodyId);
  return request;
}

Object.defineProperty(globalThis, "Request", { value: Request, writable: true, configurable: true, enumerable: false });
