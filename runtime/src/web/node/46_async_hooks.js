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

// A ReadableStream's source callbacks run later than the code that made the stream (a
// response body is pulled after the handler returned), so they run with the stores that were
// current when it was made, as workerd does. Installed with the first AsyncLocalStorage.
let streamsCarryContext = false;
function carryContextIntoStreams() {
  if (streamsCarryContext) return;
  streamsCarryContext = true;
  const NativeReadableStream = globalThis.ReadableStream;
  const ReadableStreamWithContext = new Proxy(NativeReadableStream, {
    construct(target, args, newTarget) {
      const source = args[0];
      const current = [...liveStorages].some((storage) => storage.getStore() !== undefined);
      if (current && source !== null && typeof source === "object") {
        const snapshot = AsyncLocalStorage.snapshot();
        const wrapped = Object.create(source);
        for (const name of ["start", "pull", "cancel"]) {
          if (typeof source[name] === "function") {
            wrapped[name] = (...callArgs) => snapshot(() => source[name].apply(source, callArgs));
          }
        }
        if (source.type !== undefined) wrapped.type = source.type;
        if (source.autoAllocateChunkSize !== undefined) wrapped.autoAllocateChunkSize = source.autoAllocateChunkSize;
        args = [wrapped, ...args.slice(1)];
      }
      return Reflect.construct(target, args, newTarget === ReadableStreamWithContext ? target : newTarget);
    },
  });
  Object.defineProperty(globalThis, "ReadableStream", { value: ReadableStreamWithContext, writable: true, configurable: true, enumerable: false });
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
