// node:async_hooks: AsyncLocalStorage and AsyncResource, on the engine's async context (Kiln's
// addition to QuickJS-ng: a promise reaction runs in the context current when it was
// registered, so an `await` resumes with the stores it started with). The context is a frame:
// a Map from storage to store, never changed once made (run() makes a new one), or undefined.
const asyncFrame = () => ops.op_async_context_get();
const setAsyncFrame = (frame) => ops.op_async_context_set(frame);

// Runs fn in `frame`, restoring the frame current before once it returns (or throws); what fn
// awaits carries `frame` on.
function runInFrame(frame, fn, thisArg, args) {
  const previous = asyncFrame();
  setAsyncFrame(frame);
  try {
    return Reflect.apply(fn, thisArg, args);
  } finally {
    setAsyncFrame(previous);
  }
}

class AsyncLocalStorage {
  #enabled = true;

  getStore() {
    if (!this.#enabled) return undefined;
    const frame = asyncFrame();
    return frame === undefined ? undefined : frame.get(this);
  }

  run(store, fn, ...args) {
    this.#enabled = true;
    const frame = new Map(asyncFrame() ?? []);
    frame.set(this, store);
    return runInFrame(frame, fn, undefined, args);
  }

  exit(fn, ...args) {
    const frame = new Map(asyncFrame() ?? []);
    frame.delete(this);
    return runInFrame(frame, fn, undefined, args);
  }

  // The store for the rest of this synchronous run and what it goes on to await.
  enterWith(store) {
    this.#enabled = true;
    const frame = new Map(asyncFrame() ?? []);
    frame.set(this, store);
    setAsyncFrame(frame);
  }

  disable() {
    this.#enabled = false;
    const current = asyncFrame();
    if (current !== undefined && current.has(this)) {
      const frame = new Map(current);
      frame.delete(this);
      setAsyncFrame(frame);
    }
  }

  static bind(fn) {
    const snapshot = AsyncLocalStorage.snapshot();
    return (...args) => snapshot(fn, ...args);
  }

  static snapshot() {
    const frame = asyncFrame();
    return (fn, ...args) => runInFrame(frame, fn, undefined, args);
  }
}

// Storages whose stores a snapshot carries (the first 1024 an isolate makes).
const liveStorages = new Set();
const AsyncLocalStorageTracked = new Proxy(AsyncLocalStorage, {
  construct(target, args, newTarget) {
    const storage = Reflect.construct(target, args, newTarget);
    if (liveStorages.size < 1024) liveStorages.add(storage);
    carryContextIntoStreams();
    return storage;
  },
});

// A stream's callbacks run later than the code that made the stream (a response body is pulled
// after the handler returned), so a ReadableStream's source and a TransformStream's transformer
// run with the stores that were current when the stream was made, as workerd does. Installed
// with the first AsyncLocalStorage.
let streamsCarryContext = false;
function carryContextIntoStreams() {
  if (streamsCarryContext) return;
  streamsCarryContext = true;
  carryContextInto("ReadableStream", ["start", "pull", "cancel"], ["type", "autoAllocateChunkSize"]);
  carryContextInto("TransformStream", ["start", "transform", "flush", "cancel"], ["readableType", "writableType"]);
}

// Replaces the global class `name` with one whose constructor wraps the `methods` of its first
// argument to run with the stores current at construction (`fields` are copied as they are).
function carryContextInto(name, methods, fields) {
  const Native = globalThis[name];
  const WithContext = new Proxy(Native, {
    construct(target, args, newTarget) {
      const callbacks = args[0];
      if (asyncFrame() !== undefined && callbacks !== null && typeof callbacks === "object") {
        const snapshot = AsyncLocalStorage.snapshot();
        const wrapped = Object.create(callbacks);
        for (const method of methods) {
          if (typeof callbacks[method] === "function") {
            wrapped[method] = (...callArgs) => snapshot(() => callbacks[method].apply(callbacks, callArgs));
          }
        }
        for (const field of fields) {
          if (callbacks[field] !== undefined) wrapped[field] = callbacks[field];
        }
        args = [wrapped, ...args.slice(1)];
      }
      return Reflect.construct(target, args, newTarget === WithContext ? target : newTarget);
    },
  });
  Object.defineProperty(globalThis, name, { value: WithContext, writable: true, configurable: true, enumerable: false });
}

class AsyncResource {
  #type;
  #snapshot;
  constructor(type, options = undefined) {
    this.#type = String(type);
    this.#snapshot = AsyncLocalStorage.snapshot();
  }
  runInAsyncScope(fn, thisArg, ...args) {
    return this.#snapshot(() => fn.apply(thisArg, args));
  }
  bind(fn, thisArg = undefined) {
    return (...args) => this.runInAsyncScope(fn, thisArg, ...args);
  }
  static bind(fn, type = undefined, thisArg = undefined) {
    return new AsyncResource(type ?? "bound-anonymous-fn").bind(fn, thisArg);
  }
  asyncId() { return 0; }
  triggerAsyncId() { return 0; }
  emitDestroy() { return this; }
}

const nodeAsyncHooks = {
  AsyncLocalStorage: AsyncLocalStorageTracked,
  AsyncResource,
  executionAsyncId: () => 0,
  triggerAsyncId: () => 0,
  executionAsyncResource: () => ({}),
  createHook: () => ({ enable() { return this; }, disable() { return this; } }),
};
