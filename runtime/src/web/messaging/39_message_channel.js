// MessageChannel and MessagePort within one isolate, as workerd has them: postMessage()
// structured-clones its data and delivers it to the other port as a `message` event on a later
// turn, in order; a port delivers once started (start(), or setting onmessage); close() on
// either end stops both. Ports cannot be transferred to other workers.
const kPortEntangle = Symbol("entangle");
const MESSAGE_PORT_QUEUE_MAX = 100000;

class MessagePort extends EventTarget {
  #other = null;
  #started = false;
  #closed = false;
  #queue = [];
  #onmessage = null;
  #onmessageerror = null;
  constructor(key) {
    if (key !== kAbort) throw new TypeError("Illegal constructor");
    super();
  }
  [kPortEntangle](other) { this.#other = other; }
  postMessage(message, transfer = undefined) {
    if (this.#closed) return;
    const other = this.#other;
    if (other === null) return;
    const data = structuredClone(message, Array.isArray(transfer) ? { transfer } : transfer);
    other.#receive(data);
  }
  #receive(data) {
    if (this.#closed) return;
    if (this.#queue.length >= MESSAGE_PORT_QUEUE_MAX) throw new RangeError("Too many messages are queued on this MessagePort.");
    this.#queue.push(data);
    if (this.#started) this.#drainSoon();
  }
  #drainSoon() {
    setTimeout(() => {
      while (this.#started && !this.#closed && this.#queue.length > 0) {
        this.dispatchEvent(new MessageEvent("message", { data: this.#queue.shift() }));
      }
    }, 0);
  }
  start() {
    if (this.#started) return;
    this.#started = true;
    if (this.#queue.length > 0) this.#drainSoon();
  }
  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.length = 0;
    const other = this.#other;
    this.#other = null;
    if (other !== null) other.close();
  }
  get onmessage() { return this.#onmessage; }
  set onmessage(handler) {
    if (this.#onmessage) this.removeEventListener("message", this.#onmessage);
    this.#onmessage = typeof handler === "function" ? handler : null;
    if (this.#onmessage) {
      this.addEventListener("message", this.#onmessage);
      this.start();
    }
  }
  get onmessageerror() { return this.#onmessageerror; }
  set onmessageerror(handler) {
    if (this.#onmessageerror) this.removeEventListener("messageerror", this.#onmessageerror);
    this.#onmessageerror = typeof handler === "function" ? handler : null;
    if (this.#onmessageerror) this.addEventListener("messageerror", this.#onmessageerror);
  }
  get [Symbol.toStringTag]() { return "MessagePort"; }
}

class MessageChannel {
  #port1 = new MessagePort(kAbort);
  #port2 = new MessagePort(kAbort);
  constructor() {
    this.#port1[kPortEntangle](this.#port2);
    this.#port2[kPortEntangle](this.#port1);
  }
  get port1() { return this.#port1; }
  get port2() { return this.#port2; }
  get [Symbol.toStringTag]() { return "MessageChannel"; }
}

for (const [name, value] of [["MessageChannel", MessageChannel], ["MessagePort", MessagePort]]) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}
