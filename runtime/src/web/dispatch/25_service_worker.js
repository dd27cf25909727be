// The service-worker syntax: a classic script that calls `addEventListener("fetch", listener)`
// (or "scheduled") and answers with `event.respondWith(...)`. The global addEventListener exists
// for every worker, as on Cloudflare (module workers use it for "unhandledrejection").
const serviceWorkerListeners = new Map(); // type -> listeners, in the order added
const kEventCtx = Symbol("eventCtx");

function globalAddEventListener(type, listener) {
  if (listener === null || listener === undefined) return;
  type = String(type);
  const list = serviceWorkerListeners.get(type) ?? [];
  if (!list.includes(listener)) list.push(listener);
  serviceWorkerListeners.set(type, list);
}

function globalRemoveEventListener(type, listener) {
  const list = serviceWorkerListeners.get(String(type));
  if (!list) return;
  const i = list.indexOf(listener);
  if (i >= 0) list.splice(i, 1);
}

function hasServiceWorkerListeners(type) {
  return (serviceWorkerListeners.get(type)?.length ?? 0) > 0;
}

function callListeners(type, event) {
  for (const listener of [...(serviceWorkerListeners.get(type) ?? [])]) {
    if (typeof listener === "function") listener.call(globalThis, event);
    else if (typeof listener.handleEvent === "function") listener.handleEvent(event);
  }
}

class FetchEvent extends Event {
  #request;
  #ctx;
  #response = null;
  constructor(type, init = {}) {
    super(type);
    this.#request = init?.request;
    this.#ctx = init?.[kEventCtx] ?? new ExecutionContext();
  }
  get request() { return this.#request; }
  respondWith(response) {
    if (this.#response !== null) {
      throw new DOMException("FetchEvent.respondWith() has already been called; it can only be called once.", "InvalidStateError");
    }
    this.#response = Promise.resolve(response);
  }
  waitUntil(promise) { this.#ctx.waitUntil(promise); }
  passThroughOnException() { this.#ctx.passThroughOnException(); }
  static _response(event) { return event.#response; }
}
const fetchEventResponse = FetchEvent._response;
delete FetchEvent._response;

class ScheduledEvent extends Event {
  #controller;
  #ctx;
  constructor(type, init = {}) {
    super(type);
    this.#controller = init?.controller ?? { scheduledTime: Date.now(), cron: "", noRetry() {} };
    this.#ctx = init?.[kEventCtx] ?? new ExecutionContext();
  }
  get scheduledTime() { return this.#controller.scheduledTime; }
  get cron() { return this.#controller.cron; }
  waitUntil(promise) { this.#ctx.waitUntil(promise); }
  noRetry() { this.#controller.noRetry(); }
}

// A service worker's answer to one request: every "fetch" listener runs; the first
// respondWith() decides.
async function serviceWorkerFetch(request, ctx) {
  const event = new FetchEvent("fetch", { request, [kEventCtx]: ctx });
  callListeners("fetch", event);
  const response = fetchEventResponse(event);
  if (response === null) throw new Error("The script will never generate a response.");
  return await response;
}

// The handler of an event for a worker without exports but with listeners, or null.
function serviceWorkerHandler(exports, entrypoint, ctx, type) {
  if ((entrypoint ?? "default") !== "default" || exports.default !== undefined) return null;
  if (!hasServiceWorkerListeners(type)) return null;
  if (type === "fetch") return (request) => serviceWorkerFetch(request, ctx);
  return (controller) => {
    callListeners(type, new ScheduledEvent(type, { controller, [kEventCtx]: ctx }));
  };
}

// Bindings are globals in a service worker (there is no `env`).
function installServiceWorkerGlobals(env) {
  for (const key of Object.keys(env)) {
    Object.defineProperty(globalThis, key, { value: env[key], writable: true, configurable: true, enumerable: true });
  }
}

for (const [name, value] of [
  ["addEventListener", globalAddEventListener],
  ["removeEventListener", globalRemoveEventListener],
  ["FetchEvent", FetchEvent],
  ["ScheduledEvent", ScheduledEvent],
]) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}
if (!("self" in globalThis)) {
  Object.defineProperty(globalThis, "self", { value: globalThis, writable: true, configurable: true, enumerable: false });
}

export { installServiceWorkerGlobals };
