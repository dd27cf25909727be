// DOMException, Event, EventTarget, CustomEvent, AbortController, AbortSignal.
const DOM_EXCEPTION_CODES = {
  IndexSizeError: 1, HierarchyRequestError: 3, WrongDocumentError: 4, InvalidCharacterError: 5,
  NoModificationAllowedError: 7, NotFoundError: 8, NotSupportedError: 9, InvalidStateError: 11,
  SyntaxError: 12, InvalidModificationError: 13, NamespaceError: 14, InvalidAccessError: 15,
  TypeMismatchError: 17, SecurityError: 18, NetworkError: 19, AbortError: 20, URLMismatchError: 21,
  QuotaExceededError: 22, TimeoutError: 23, InvalidNodeTypeError: 24, DataCloneError: 25,
};

class DOMException extends Error {
  #name;
  #code;
  constructor(message = "", options = "Error") {
    super(String(message));
    if (options !== null && typeof options === "object") {
      this.#name = "name" in options ? String(options.name) : "Error";
      if ("cause" in options) Object.defineProperty(this, "cause", { value: options.cause, writable: true, configurable: true });
    } else {
      this.#name = String(options);
    }
    this.#code = DOM_EXCEPTION_CODES[this.#name] ?? 0;
  }
  get name() { return this.#name; }
  get code() { return this.#code; }
}
// WebIDL's legacy code constants, on the constructor and the prototype.
const DOM_EXCEPTION_CONSTANTS = {
  INDEX_SIZE_ERR: 1, DOMSTRING_SIZE_ERR: 2, HIERARCHY_REQUEST_ERR: 3, WRONG_DOCUMENT_ERR: 4,
  INVALID_CHARACTER_ERR: 5, NO_DATA_ALLOWED_ERR: 6, NO_MODIFICATION_ALLOWED_ERR: 7,
  NOT_FOUND_ERR: 8, NOT_SUPPORTED_ERR: 9, INUSE_ATTRIBUTE_ERR: 10, INVALID_STATE_ERR: 11,
  SYNTAX_ERR: 12, INVALID_MODIFICATION_ERR: 13, NAMESPACE_ERR: 14, INVALID_ACCESS_ERR: 15,
  VALIDATION_ERR: 16, TYPE_MISMATCH_ERR: 17, SECURITY_ERR: 18, NETWORK_ERR: 19, ABORT_ERR: 20,
  URL_MISMATCH_ERR: 21, QUOTA_EXCEEDED_ERR: 22, TIMEOUT_ERR: 23, INVALID_NODE_TYPE_ERR: 24,
  DATA_CLONE_ERR: 25,
};
Object.defineProperty(DOMException.prototype, Symbol.toStringTag, { value: "DOMException", configurable: true });
for (const [constant, code] of Object.entries(DOM_EXCEPTION_CONSTANTS)) {
  Object.defineProperty(DOMException, constant, { value: code, enumerable: true });
  Object.defineProperty(DOMException.prototype, constant, { value: code, enumerable: true });
}

const kStop = Symbol("stop");
const kTarget = Symbol("target");

class Event {
  #type; #bubbles; #cancelable; #composed; #defaultPrevented = false; #timeStamp;
  constructor(type, init = {}) {
    if (arguments.length === 0) throw new TypeError("Failed to construct 'Event': 1 argument required, but only 0 present.");
    this.#type = String(type);
    this.#bubbles = Boolean(init?.bubbles);
    this.#cancelable = Boolean(init?.cancelable);
    this.#composed = Boolean(init?.composed);
    this.#timeStamp = performance.now();
    this[kStop] = false;
    this[kTarget] = null;
  }
  get type() { return this.#type; }
  get bubbles() { return this.#bubbles; }
  get cancelable() { return this.#cancelable; }
  get composed() { return this.#composed; }
  get defaultPrevented() { return this.#defaultPrevented; }
  get returnValue() { return !this.#defaultPrevented; }
  get timeStamp() { return this.#timeStamp; }
  get target() { return this[kTarget]; }
  get currentTarget() { return this[kTarget]; }
  get srcElement() { return this[kTarget]; }
  get eventPhase() { return this[kTarget] ? 2 : 0; }
  get isTrusted() { return false; }
  get cancelBubble() { return this[kStop] !== false; }
  set cancelBubble(v) { if (v) this[kStop] = true; }
  composedPath() { return this[kTarget] ? [this[kTarget]] : []; }
  preventDefault() { if (this.#cancelable) this.#defaultPrevented = true; }
  stopPropagation() { if (this[kStop] === false) this[kStop] = true; }
  stopImmediatePropagation() { this[kStop] = "immediate"; }
}
Event.NONE = 0; Event.CAPTURING_PHASE = 1; Event.AT_TARGET = 2; Event.BUBBLING_PHASE = 3;

class CustomEvent extends Event {
  #detail;
  constructor(type, init = {}) { super(type, init); this.#detail = init?.detail ?? null; }
  get detail() { return this.#detail; }
}

class EventTarget {
  #listeners = new Map();
  addEventListener(type, listener, options = {}) {
    if (listener === null || listener === undefined) return;
    if (typeof options === "boolean") options = { capture: options };
    const capture = Boolean(options?.capture);
    const list = this.#listeners.get(type) ?? [];
    if (list.some((l) => l.listener === listener && l.capture === capture)) return;
    const signal = options?.signal;
    if (signal?.aborted) return;
    const entry = { listener, capture, once: Boolean(options?.once), removed: false };
    list.push(entry);
    this.#listeners.set(type, list);
    signal?.addEventListener("abort", () => this.removeEventListener(type, listener, { capture }));
  }
  removeEventListener(type, listener, options = {}) {
    if (typeof options === "boolean") options = { capture: options };
    const capture = Boolean(options?.capture);
    const list = this.#listeners.get(type);
    if (!list) return;
    const i = list.findIndex((l) => l.listener === listener && l.capture === capture);
    if (i >= 0) { list[i].removed = true; list.splice(i, 1); }
  }
  dispatchEvent(event) {
    if (!(event instanceof Event)) throw new TypeError("Failed to execute 'dispatchEvent' on 'EventTarget': parameter 1 is not of type 'Event'.");
    event[kTarget] = this;
    const list = (this.#listeners.get(event.type) ?? []).slice();
    for (const entry of list) {
      if (entry.removed) continue;
      if (entry.once) this.removeEventListener(event.type, entry.listener, { capture: entry.capture });
      try {
        if (typeof entry.listener === "function") entry.listener.call(this, event);
        else if (typeof entry.listener?.handleEvent === "function") entry.listener.handleEvent(event);
      } catch (err) {
        reportError(err);
      }
      if (event[kStop] === "immediate") break;
    }
    const handler = this["on" + event.type];
    if (typeof handler === "function" && event[kStop] !== "immediate" && !Object.prototype.hasOwnProperty.call(EventTarget.prototype, "on" + event.type)) {
      if (!list.some((l) => l.listener === handler)) {
        try { handler.call(this, event); } catch (err) { reportError(err); }
      }
    }
    return !event.defaultPrevented;
  }
}

function reportError(err) {
  console.error("Uncaught", err);
}

const kAbort = Symbol("abort");
class AbortSignal extends EventTarget {
  #aborted = false;
  #reason = undefined;
  onabort = null;
  constructor(key) {
    super();
    if (key !== kAbort) throw new TypeError("Illegal constructor");
  }
  get aborted() { return this.#aborted; }
  get reason() { return this.#reason; }
  throwIfAborted() { if (this.#aborted) throw this.#reason; }
  [kAbort](reason) {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason === undefined ? new DOMException("This operation was aborted", "AbortError") : reason;
    this.dispatchEvent(new Event("abort"));
  }
  static abort(reason) {
    const signal = new AbortSignal(kAbort);
    signal[kAbort](reason);
    return signal;
  }
  static timeout(ms) {
    const signal = new AbortSignal(kAbort);
    setTimeout(() => signal[kAbort](new DOMException("The operation timed out.", "TimeoutError")), ms);
    return signal;
  }
  static any(signals) {
    const signal = new AbortSignal(kAbort);
    for (const s of signals) {
      if (s.aborted) { signal[kAbort](s.reason); return signal; }
    }
    for (const s of signals) s.addEventListener("abort", () => signal[kAbort](s.reason), { once: true });
    return signal;
  }
}

class AbortController {
  #signal = new AbortSignal(kAbort);
  get signal() { return this.#signal; }
  abort(reason) { this.#signal[kAbort](reason); }
}

function abortSignal(signal, reason) { signal[kAbort](reason); }

// The event of "unhandledrejection" and "rejectionhandled" listeners.
class PromiseRejectionEvent extends Event {
  #promise;
  #reason;
  constructor(type, init) {
    super(type, init);
    if (init === null || typeof init !== "object" || !("promise" in init)) {
      throw new TypeError("Failed to construct 'PromiseRejectionEvent': required member promise is undefined.");
    }
    this.#promise = init.promise;
    this.#reason = init.reason;
  }
  get promise() { return this.#promise; }
  get reason() { return this.#reason; }
}

for (const [name, value] of Object.entries({ DOMException, Event, CustomEvent, EventTarget, AbortSignal, AbortController, reportError, PromiseRejectionEvent })) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}
