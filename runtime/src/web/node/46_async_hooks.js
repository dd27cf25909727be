// node:async_hooks: AsyncLocalStorage and AsyncResource. QuickJS has no async context (no
// hook on `await`), so a store set by run() stays current until the function it ran settles
// (its promise, for an async one): exact for one request at a time; with requests of one
// isolate interleaved, getStore() answers the store of the newest run() still in progress.
class AsyncLocalStorage {
  #frames = []; // { store } of the runs in progress, newest last
  #base = undefined; // enterWith()
  #enabled = true;

  getStore() {
    if (!this.#enabled) return undefined;
    const frames = this.#frames;
    return frames.length > 0 ? frames[frames.length - 1].store : this.#base;
  }

  run(store, fn, ...args) {
    const frame = { store };
    this.#enabled = true;
    this.#frames.push(frame);
    const leave = () => {
      const at = this.#frames.lastIndexOf(frame);
      if (at >= 0) this.#frames.splice(at, 1);
    };
    let result;
    try {
      result = fn(...args);
    } catch (err) {
      leave();
      throw err;
    }
    if (result !== null && (typeof result === "object" || typeof result === "function") && typeof result.then === "function") {
      Promise.resolve(result).then(leave, leave);
    } else {
      leave();
    }
    return result;
  }

  exit(fn, ...args) {
    return this.run(undefined, fn, ...args);
  }

  enterWith(store) {
    this.#enabled = true;
    this.#base = store;
  }

  disable() {
    this.#enabled = false;
    this.#frames = [];
    this.#base = undefined;
  }

  static bind(fn) {
    const snapshot = AsyncLocalStorage.snapshot();
    return (...args) => snapshot(fn, ...args);
  }

  static snapshot() {
    const stores = [...liveStorages].map((storage) => [storage, storage.getStore()]);
    return (fn, ...args) => {
      let run = () => fn(...args);
      for (const [storage, store] of stores) {
        const inner = run;
        run = () => storage.run(store, inner);
      }
      return run();
    };
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
      const current = [...liveStorages].some((storage) => storage.getStore() !== undefined);
      if (current && callbacks !== null && typeof callbacks === "object") {
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
