// Newer ECMAScript built-ins V8 has and QuickJS-ng lacks, as JavaScript: SuppressedError,
// DisposableStack and AsyncDisposableStack (explicit resource management, which bundlers lower
// `using` declarations to), and JSON.rawJSON / JSON.isRawJSON (JSON.stringify writes a raw JSON
// value's text as it is).
if (typeof globalThis.SuppressedError === "undefined") {
  class SuppressedError extends Error {
    constructor(error, suppressed, message) {
      super(message === undefined ? "" : String(message));
      Object.defineProperty(this, "error", { value: error, writable: true, configurable: true });
      Object.defineProperty(this, "suppressed", { value: suppressed, writable: true, configurable: true });
    }
  }
  Object.defineProperty(SuppressedError.prototype, "name", { value: "SuppressedError", writable: true, configurable: true });
  Object.defineProperty(globalThis, "SuppressedError", { value: SuppressedError, writable: true, configurable: true, enumerable: false });
}

if (typeof globalThis.DisposableStack === "undefined") {
  const disposableStack = (name, disposeSymbol, run) => {
    const Stack = class {
      #actions = [];
      #disposed = false;
      get disposed() { return this.#disposed; }
      #check() {
        if (this.#disposed) throw new ReferenceError(`${name} already disposed`);
      }
      use(value) {
        this.#check();
        if (value === null || value === undefined) return value;
        const method = value[disposeSymbol] ?? (disposeSymbol === Symbol.asyncDispose ? value[Symbol.dispose] : undefined);
        if (typeof method !== "function") throw new TypeError(`${name}.use() requires a value with a [Symbol.${disposeSymbol === Symbol.asyncDispose ? "asyncDispose" : "dispose"}]() method`);
        this.#actions.push(() => method.call(value));
        return value;
      }
      adopt(value, onDispose) {
        this.#check();
        if (typeof onDispose !== "function") throw new TypeError("onDispose must be a function");
        this.#actions.push(() => onDispose(value));
        return value;
      }
      defer(onDispose) {
        this.#check();
        if (typeof onDispose !== "function") throw new TypeError("onDispose must be a function");
        this.#actions.push(() => onDispose());
      }
      move() {
        this.#check();
        const moved = new Stack();
        moved.#actions = this.#actions;
        this.#actions = [];
        this.#disposed = true;
        return moved;
      }
      // The actions, newest first; a later failure wraps the earlier ones in SuppressedError.
      [run]() {
        if (this.#disposed) return [];
        this.#disposed = true;
        const actions = this.#actions.reverse();
        this.#actions = [];
        return actions;
      }
    };
    Object.defineProperty(Stack, "name", { value: name });
    Object.defineProperty(Stack.prototype, Symbol.toStringTag, { value: name, configurable: true });
    return Stack;
  };
  const takeActions = Symbol("actions");
  const DisposableStack = disposableStack("DisposableStack", Symbol.dispose, takeActions);
  DisposableStack.prototype.dispose = function dispose() {
    let failure;
    let failed = false;
    for (const action of this[takeActions]()) {
      try { action(); } catch (err) {
        failure = failed ? new SuppressedError(err, failure, "An error was suppressed during disposal.") : err;
        failed = true;
      }
    }
    if (failed) throw failure;
  };
  DisposableStack.prototype[Symbol.dispose] = DisposableStack.prototype.dispose;
  const AsyncDisposableStack = disposableStack("AsyncDisposableStack", Symbol.asyncDispose, takeActions);
  AsyncDisposableStack.prototype.disposeAsync = async function disposeAsync() {
    let failure;
    let failed = false;
    for (const action of this[takeActions]()) {
      try { await action(); } catch (err) {
        failure = failed ? new SuppressedError(err, failure, "An error was suppressed during disposal.") : err;
        failed = true;
      }
    }
    if (failed) throw failure;
  };
  AsyncDisposableStack.prototype[Symbol.asyncDispose] = AsyncDisposableStack.prototype.disposeAsync;
  for (const [name, value] of Object.entries({ DisposableStack, AsyncDisposableStack })) {
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  }
}

if (typeof JSON.rawJSON === "undefined") {
  const rawJSONs = new WeakSet();
  const nativeStringify = JSON.stringify;
  let made = 0;
  // Raw values are swapped for unique markers, which are then replaced by their text. Until a
  // raw value exists, the engine's own stringify does the work. (It cannot be installed only
  // then: `JSON.stringify({ a: JSON.rawJSON("1") })` reads JSON.stringify before its argument.)
  JSON.stringify = function stringify(value, replacer, space) {
    if (made === 0) return nativeStringify(value, replacer, space);
    const texts = [];
    const marker = `\u0000rawJSON${Math.random().toString(36).slice(2)}:`;
    const userReplacer = typeof replacer === "function" ? replacer : null;
    const allowed = Array.isArray(replacer) ? replacer.map(String) : null;
    const swap = function (key, item) {
      if (allowed !== null && key !== "" && !Array.isArray(this) && !allowed.includes(key)) return undefined;
      const out = userReplacer ? userReplacer.call(this, key, item) : item;
      if (out !== null && typeof out === "object" && rawJSONs.has(out)) {
        texts.push(out.rawJSON);
        return `${marker}${texts.length - 1}`;
      }
      return out;
    };
    const text = nativeStringify(value, swap, space);
    if (text === undefined || texts.length === 0) return text;
    const escaped = nativeStringify(marker).slice(1, -1).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    return text.replace(new RegExp(`"${escaped}(\\d+)"`, "g"), (_, index) => texts[Number(index)]);
  };
  JSON.rawJSON = function rawJSON(text) {
    const string = String(text);
    // Only a primitive JSON value may be raw: no objects, no arrays, no surrounding blanks.
    let parsed;
    try { parsed = JSON.parse(string); } catch { throw new SyntaxError(`Invalid value for JSON.rawJSON: ${string}`); }
    if ((parsed !== null && typeof parsed === "object") || string !== string.trim() || string === "") {
      throw new SyntaxError(`Invalid value for JSON.rawJSON: ${string}`);
    }
    const raw = Object.create(null);
    raw.rawJSON = string;
    Object.freeze(raw);
    rawJSONs.add(raw);
    made++;
    return raw;
  };
  JSON.isRawJSON = function isRawJSON(value) {
    return value !== null && typeof value === "object" && rawJSONs.has(value);
  };
}
