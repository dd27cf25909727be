// Response.
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const kWebSocket = Symbol("webSocket");
// The reason phrase a Response without a statusText gets, as workerd gives it.
const STATUS_TEXTS = {
  101: "Switching Protocols", 200: "OK", 201: "Created", 202: "Accepted", 203: "Non-Authoritative Information",
  204: "No Content", 205: "Reset Content", 206: "Partial Content", 207: "Multi-Status", 208: "Already Reported",
  226: "IM Used", 300: "Multiple Choices", 301: "Moved Permanently", 302: "Found", 303: "See Other",
  304: "Not Modified", 305: "Use Proxy", 307: "Temporary Redirect", 308: "Permanent Redirect",
  400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden", 404: "Not Found",
  405: "Method Not Allowed", 406: "Not Acceptable", 407: "Proxy Authentication Required", 408: "Request Timeout",
  409: "Conflict", 410: "Gone", 411: "Length Required", 412: "Precondition Failed", 413: "Payload Too Large",
  414: "URI Too Long", 415: "Unsupported Media Type", 416: "Range Not Satisfiable", 417: "Expectation Failed",
  418: "I'm a teapot", 421: "Misdirected Request", 422: "Unprocessable Entity", 423: "Locked", 424: "Failed Dependency",
  425: "Too Early", 426: "Upgrade Required", 428: "Precondition Required", 429: "Too Many Requests",
  431: "Request Header Fields Too Large", 451: "Unavailable For Legal Reasons", 500: "Internal Server Error",
  501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
  505: "HTTP Version Not Supported", 506: "Variant Also Negotiates", 507: "Insufficient Storage",
  508: "Loop Detected", 510: "Not Extended", 511: "Network Authentication Required",
};

class Response {
  #status;
  #statusText;
  #headers;
  #type = "default";
  #url = "";
  #redirected = false;
  #webSocket = null;
  #cf;
  #encodeBody = "automatic";
  constructor(body = null, init = {}) {
    if (body === kFromWire) {
      // Response._fromFetch: parts Rust already checked.
      this.#status = init[0];
      this.#statusText = init[1];
      this.#headers = init[2];
      this.#url = init[3];
      this.#redirected = init[4];
      this[kBody] = init[5];
      this.#type = "basic";
      return;
    }
    init = init ?? {};
    const status = init.status === undefined ? 200 : Number(init.status);
    this.#webSocket = init.webSocket ?? null;
    if (this.#webSocket !== null && !(this.#webSocket instanceof WebSocket)) {
      throw new TypeError("Failed to construct 'Response': webSocket must be a WebSocket.");
    }
    if (!Number.isInteger(status) || ((status < 200 || status > 599) && !(status === 101 && this.#webSocket))) {
      throw new RangeError(`Responses may only be constructed with status codes in the range 200 to 599, inclusive.`);
    }
    if (this.#webSocket && status !== 101) {
      throw new RangeError("Responses with a WebSocket must have status code 101.");
    }
    this.#status = status;
    this.#statusText = init.statusText === undefined ? (STATUS_TEXTS[status] ?? "") : String(init.statusText);
    if (this.#statusText !== "" && /[\r\n]/.test(this.#statusText)) throw new TypeError("Invalid statusText");
    this.#headers = new Headers(init.headers);
    this.#cf = init.cf;
    if (init.encodeBody !== undefined) {
      const encodeBody = String(init.encodeBody);
      if (encodeBody !== "automatic" && encodeBody !== "manual") {
        throw new TypeError(`encodeBody must be "automatic" or "manual", not "${encodeBody}".`);
      }
      this.#encodeBody = encodeBody;
    }
    const { state, type } = extractBody(body);
    if (state.kind !== "none" && NULL_BODY_STATUSES.has(status)) {
      throw new TypeError("Response with null body status (101, 204, 205, or 304) cannot have a body.");
    }
    this[kBody] = state;
    if (type) {
      if (init.headers === undefined) this.#headers[kList].push("content-type", type);
      else if (!this.#headers.has("content-type")) this.#headers.set("content-type", type);
    }
  }
  // "manual": the body is already encoded as its Content-Encoding header says, and goes out as
  // it is; "automatic": the runtime encodes it.
  get encodeBody() { return this.#encodeBody; }
  static json(data, init = {}) {
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError("Value is not JSON serializable");
    const headers = new Headers(init?.headers);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
    return new Response(text, { ...init, headers });
  }
  static redirect(url, status = 302) {
    if (!REDIRECT_STATUSES.has(status)) throw new RangeError(`Invalid status code ${status}`);
    return new Response(null, { status, headers: { location: parseUrl(url) } });
  }
  static error() {
    const response = new Response(null, { status: 200 });
    response.#status = 0;
    response.#type = "error";
    response.#headers[kGuard] = "immutable";
    return response;
  }
  get status() { return this.#status; }
  get statusText() { return this.#statusText; }
  get ok() { return this.#status >= 200 && this.#status <= 299; }
  get headers() { return this.#headers; }
  get type() { return this.#type; }
  get url() { return this.#url; }
  get redirected() { return this.#redirected; }
  get webSocket() { return this.#webSocket; }
  get cf() { return this.#cf; }
  get [Symbol.toStringTag]() { return "Response"; }
  clone() {
    if (bodyUsed(this[kBody])) throw new TypeError("Cannot clone a Response whose body has already been used.");
    if (this.#webSocket) throw new TypeError("Cannot clone a response to a WebSocket handshake.");
    const copy = new Response(null, { status: this.#status === 0 ? 200 : this.#status, statusText: this.#statusText, headers: this.#headers, cf: this.#cf });
    copy.#status = this.#status;
    copy.#type = this.#type;
    copy.#url = this.#url;
    copy.#redirected = this.#redirected;
    copy[kBody] = cloneBody(this[kBody]);
    copy.#encodeBody = this.#encodeBody;
    return copy;
  }
  static _fromFetch(status, statusText, headerList, bodyId, url, redirected, socketId) {
    const body = bodyId === null || bodyId === undefined ? new BodyState("none") : new BodyState("source", bodyId);
    const response = new Response(kFromWire, [status, statusText, headersFromList(headerList, "immutable"), url, redirected, body]);
    if (socketId !== undefined) response.#webSocket = webSocketFromRust(socketId);
    return response;
  }
}
mixBody(Response);
const responseFromFetch = Response._fromFetch;
delete Response._fromFetch;

Object.defineProperty(globalThis, "Response", { value: Response, writable: true, configurable: true, enumerable: false });
