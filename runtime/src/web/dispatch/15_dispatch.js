// Turning events from Rust into handler calls: `fetch` and `scheduled`, on an exported object or
// a WorkerEntrypoint class, with the ExecutionContext (`ctx`) Cloudflare passes.
const kWaitUntil = Symbol("waitUntil");

class ExecutionContext {
  #passThrough = false;
  #props;
  #exports;
  constructor(props, exports = undefined) {
    this[kWaitUntil] = [];
    this.#props = props ?? {};
    this.#exports = exports;
  }
  // ctx.exports: stubs for this worker's own entrypoints (web/service/22_service.js).
  get exports() { return this.#exports === undefined ? {} : selfExports(this.#exports); }
  waitUntil(promise) {
    this[kWaitUntil].push(Promise.resolve(promise).catch((err) => reportError(err)));
  }
  passThroughOnException() { this.#passThrough = true; }
  get props() { return this.#props; }
  // Assignable, as on Cloudflare (libraries such as workers-oauth-provider set it).
  set props(value) { this.#props = value; }
  get passingThrough() { return this.#passThrough; }
}

// Resolves once every waitUntil() promise, including ones added while waiting, has settled.
async function drainWaitUntil(ctx) {
  let seen = 0;
  while (seen < ctx[kWaitUntil].length) {
    const batch = ctx[kWaitUntil].slice(seen);
    seen += batch.length;
    await Promise.all(batch);
  }
}

function handlerFor(exports, entrypoint, env, ctx, method) {
  const name = entrypoint ?? "default";
  const target = exports[name];
  if (target === undefined || target === null) {
    throw new TypeError(name === "default" ? "The worker has no default export." : `The worker has no export named "${name}".`);
  }
  if (typeof target === "function") {
    const instance = new target(ctx, env);
    if (typeof instance[method] !== "function") return null;
    return (event) => instance[method](event);
  }
  if (typeof target[method] !== "function") return null;
  return (event) => target[method](event, env, ctx);
}

// What Rust needs of a handler's Response; `waitUntil` resolves when the event's work is done.
function responseForRust(response, waitUntil) {
  return {
    status: response.status,
    statusText: response.statusText,
    headers: headersToList(response.headers),
    body: bodyForRust(response[kBody]),
    webSocket: response.webSocket ? socketForResponse(response.webSocket) : undefined,
    manualEncoding: response.encodeBody === "manual",
    waitUntil,
  };
}

const inflight = new Map();

// `parts`: [method, url, headerList, bodyId, urlIsHref, cfParts] (indexed: destructuring goes
// through the iterator protocol).
async function dispatchFetch(exports, env, entrypoint, id, parts, props) {
  const abort = new LazyAbort();
  inflight.set(id, abort);
  const ctx = new ExecutionContext(props ? JSON.parse(props) : undefined, exports);
  try {
    const handler = serviceWorkerHandler(exports, entrypoint, ctx, "fetch") ?? handlerFor(exports, entrypoint, env, ctx, "fetch");
    if (!handler) throw new Error(`Handler does not export a fetch() function.`);
    const cf = cfFromWire(parts[5]);
    const request = incomingRequest(parts[0], parts[1], parts[2], parts[3], cf, abort, parts[4]);
    const response = await handler(request);
    if (!(response instanceof Response)) {
      throw new TypeError("Incorrect type for Promise: the Promise did not resolve to 'Response'.");
    }
    // Undefined when nothing was passed to waitUntil(), so Rust need not wait for anything.
    return responseForRust(response, () => (ctx[kWaitUntil].length === 0 ? undefined : drainWaitUntil(ctx)));
  } catch (err) {
    ctx.waitUntil(Promise.resolve());
    if (err && typeof err === "object") err.kilnWaitUntil = () => drainWaitUntil(ctx);
    throw err;
  } finally {
    inflight.delete(id);
  }
}

// The client went away: abort the request's signal.
// Whether request `id`'s handler looked at its signal: then a client going away may still
// settle it, and it is not reported as never answering.
function requestSignalObserved(id) {
  const abort = inflight.get(id);
  return abort !== undefined && abort.observed;
}

function abortRequest(id) {
  const abort = inflight.get(id);
  if (abort) abort.abort(new DOMException("The client disconnected.", "AbortError"));
}

async function dispatchScheduled(exports, env, scheduledTime, cron) {
  const ctx = new ExecutionContext(undefined, exports);
  let retry = false;
  const controller = { scheduledTime, cron, type: "scheduled", noRetry() { retry = false; } };
  const handler = serviceWorkerHandler(exports, null, ctx, "scheduled") ?? handlerFor(exports, null, env, ctx, "scheduled");
  if (!handler) throw new Error("Handler does not export a scheduled() function.");
  await handler(controller);
  await drainWaitUntil(ctx);
  return retry;
}

// A Tail Worker's tail(events, env, ctx): the trace items of another worker's invocations.
async function dispatchTail(exports, env, eventsJson) {
  const ctx = new ExecutionContext(undefined, exports);
  const handler = handlerFor(exports, null, env, ctx, "tail");
  if (!handler) throw new Error("Handler does not export a tail() function.");
  await handler(JSON.parse(eventsJson));
  await drainWaitUntil(ctx);
}

// The headers of a raw RFC 5322 message: its lines up to the first empty one, with folded
// lines joined. A header Headers refuses is left out.
function emailHeaders(raw) {
  const text = new TextDecoder("latin1").decode(raw.subarray(0, Math.min(raw.byteLength, EMAIL_HEADER_BYTES_MAX)));
  const end = text.search(/\r?\n\r?\n/);
  const lines = (end < 0 ? text : text.slice(0, end)).split(/\r?\n/);
  const headers = new Headers();
  let name = null, value = "";
  const flush = () => {
    if (name !== null) {
      try { headers.append(name, value.trim()); } catch {}
    }
  };
  for (const line of lines) {
    if (/^[ \t]/.test(line) && name !== null) {
      value += " " + line.trim();
      continue;
    }
    flush();
    const colon = line.indexOf(":");
    if (colon <= 0) { name = null; continue; }
    name = line.slice(0, colon).trim();
    value = line.slice(colon + 1);
  }
  flush();
  return headers;
}
const EMAIL_HEADER_BYTES_MAX = 256 * 1024;

// An email for `email(message, env, ctx)`: a ForwardableEmailMessage. Kiln delivers no mail, so
// `forward()` and `reply()` are logged. Returns the reason given to `setReject()`, or null.
async function dispatchEmail(exports, env, from, to, raw) {
  const ctx = new ExecutionContext(undefined, exports);
  let rejected = null;
  const message = {
    from,
    to,
    headers: emailHeaders(raw),
    raw: new Response(raw).body,
    rawSize: raw.byteLength,
    setReject(reason) { rejected = String(reason); },
    async forward(rcptTo, headers = undefined) {
      console.log(`email from ${from} to ${to} forwarded to ${rcptTo} (Kiln sends no mail)`);
    },
    async reply(reply) {
      console.log(`email from ${from} to ${to} replied to from ${reply?.from} (Kiln sends no mail)`);
    },
  };
  const handler = handlerFor(exports, null, env, ctx, "email");
  if (!handler) throw new Error("Handler does not export an email() function.");
  await handler(message);
  await drainWaitUntil(ctx);
  return rejected;
}

export { dispatchFetch, abortRequest, requestSignalObserved, dispatchScheduled, dispatchTail, dispatchEmail };
