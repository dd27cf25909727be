// Node's EventEmitter for `nodejs_compat` workers (`node:events`).
const kEvents = Symbol("events");
const kMaxListeners = Symbol("maxListeners");
const errorMonitor = Symbol("events.errorMonitor");

// A plain function, as in Node, so old-style code can call `EventEmitter.call(this)`.
function EventEmitter() {
  this[kEvents] = new Map();
  this[kMaxListeners] = undefined;
}
EventEmitter.defaultMaxListeners = 10;
EventEmitter.errorMonitor = errorMonitor;
EventEmitter.captureRejections = false;

// The listeners of an emitter, made on first use (for objects that skipped the constructor).
function eventsOf(emitter) {
  if (!(emitter[kEvents] instanceof Map)) {
    Object.defineProperty(emitter, kEvents, { value: new Map(), writable: true, configurable: true });
  }
  return emitter[kEvents];
}

function addListener(emitter, name, listener, prepend, once) {
  if (typeof listener !== "function") {
    throw new TypeError(`The "listener" argument must be of type function. Received ${listener === null ? "null" : typeof listener}`);
  }
  const events = eventsOf(emitter);
  if (events.has("newListener")) emitter.emit("newListener", name, listener);
  const entry = { listener, once };
  const list = events.get(name) ?? [];
  if (prepend) list.unshift(entry); else list.push(entry);
  events.set(name, list);
  return emitter;
}

Object.assign(EventEmitter.prototype, {
  on(name, listener) { return addListener(this, name, listener, false, false); },
  addListener(name, listener) { return addListener(this, name, listener, false, false); },
  prependListener(name, listener) { return addListener(this, name, listener, true, false); },
  once(name, listener) { return addListener(this, name, listener, false, true); },
  prependOnceListener(name, listener) { return addListener(this, name, listener, true, true); },
  off(name, listener) { return this.removeListener(name, listener); },
  removeListener(name, listener) {
    const events = eventsOf(this);
    const list = events.get(name);
    if (!list) return this;
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i].listener === listener) {
        list.splice(i, 1);
        if (list.length === 0) events.delete(name);
        if (events.has("removeListener")) this.emit("removeListener", name, listener);
        break;
      }
    }
    return this;
  },
  removeAllListeners(name = undefined) {
    if (name === undefined) eventsOf(this).clear();
    else eventsOf(this).delete(name);
    return this;
  },
  emit(name, ...args) {
    const events = eventsOf(this);
    const list = events.get(name);
    if (name === "error") {
      const monitors = events.get(errorMonitor);
      if (monitors) for (const { listener } of [...monitors]) listener.apply(this, args);
      if (!list || list.length === 0) {
        const err = args[0];
        if (err instanceof Error) throw err;
        const wrapped = new Error(`Unhandled error. (${String(err)})`);
        wrapped.context = err;
        throw wrapped;
      }
    }
    if (!list || list.length === 0) return false;
    for (const entry of [...list]) {
      if (entry.once) this.removeListener(name, entry.listener);
      entry.listener.apply(this, args);
    }
    return true;
  },
  listeners(name) { return (eventsOf(this).get(name) ?? []).map((e) => e.listener); },
  rawListeners(name) { return this.listeners(name); },
  listenerCount(name) { return (eventsOf(this).get(name) ?? []).length; },
  eventNames() { return [...eventsOf(this).keys()]; },
  setMaxListeners(n) { this[kMaxListeners] = n; return this; },
  getMaxListeners() { return this[kMaxListeners] ?? EventEmitter.defaultMaxListeners; },
});

// Resolves with the arguments of the next `name` event; rejects on an "error" event first.
EventEmitter.once = function once(emitter, name) {
  return new Promise((resolve, reject) => {
    const onError = (err) => { emitter.removeListener(name, onEvent); reject(err); };
    const onEvent = (...args) => { if (name !== "error") emitter.removeListener("error", onError); resolve(args); };
    emitter.once(name, onEvent);
    if (name !== "error") emitter.once("error", onError);
  });
};
EventEmitter.listenerCount = (emitter, name) => emitter.listenerCount(name);
EventEmitter.EventEmitter = EventEmitter;
EventEmitter.captureRejectionSymbol = Symbol.for("nodejs.rejection");
EventEmitter.getEventListeners = (emitter, name) =>
  typeof emitter?.listeners === "function" ? emitter.listeners(name) : [];
EventEmitter.getMaxListeners = (emitter) => emitter?.getMaxListeners?.() ?? EventEmitter.defaultMaxListeners;
EventEmitter.setMaxListeners = (n = EventEmitter.defaultMaxListeners, ...emitters) => {
  if (emitters.length === 0) EventEmitter.defaultMaxListeners = n;
  for (const emitter of emitters) emitter?.setMaxListeners?.(n);
};
EventEmitter.addAbortListener = (signal, listener) => {
  signal.addEventListener("abort", listener, { once: true });
  return { [Symbol.dispose ?? Symbol.for("Symbol.dispose")]() { signal.removeEventListener("abort", listener); } };
};
// `for await (const args of on(emitter, name))`: every `name` event's arguments, until an
// "error" event (thrown) or the signal aborts.
EventEmitter.on = function on(emitter, name, options = {}) {
  const queue = [];
  const waiting = [];
  let error = null;
  let done = false;
  const push = (item) => { const w = waiting.shift(); if (w) w(item); else queue.push(item); };
  const onEvent = (...args) => push({ value: args, done: false });
  const onError = (err) => { error = err; push(null); };
  emitter.on(name, onEvent);
  if (name !== "error") emitter.on("error", onError);
  const stop = () => {
    done = true;
    emitter.removeListener(name, onEvent);
    emitter.removeListener("error", onError);
    while (waiting.length) waiting.shift()({ value: undefined, done: true });
  };
  options.signal?.addEventListener("abort", () => { error = options.signal.reason ?? new Error("The operation was aborted"); push(null); }, { once: true });
  return {
    [Symbol.asyncIterator]() { return this; },
    async next() {
      const item = queue.length ? queue.shift() : done ? { value: undefined, done: true } : await new Promise((r) => waiting.push(r));
      if (item === null || error) { const err = error; stop(); throw err; }
      return item;
    },
    async return() { stop(); return { value: undefined, done: true }; },
    async throw(err) { stop(); throw err; },
  };
};
EventEmitter.EventEmitterAsyncResource = EventEmitter;

const nodeEvents = { EventEmitter, errorMonitor, once: EventEmitter.once, default: EventEmitter };

