// TransformStream and friends over LLRT's ReadableStream and WritableStream, plus Cloudflare's
// IdentityTransformStream and FixedLengthStream.
class TransformStream {
  #readable;
  #writable;
  constructor(transformer = {}, writableStrategy = undefined, readableStrategy = undefined) {
    transformer = transformer ?? {};
    if (transformer.readableType !== undefined) throw new RangeError("Invalid readableType");
    if (transformer.writableType !== undefined) throw new RangeError("Invalid writableType");
    let readableController;
    let pullWaiter = null;
    const wakeWriter = () => { if (pullWaiter) { const w = pullWaiter; pullWaiter = null; w(); } };
    let terminated = false;
    const controller = {
      enqueue(chunk) {
        if (terminated) throw new TypeError("The transform stream has been terminated");
        readableController.enqueue(chunk);
      },
      error(reason) { terminated = true; readableController.error(reason); writableAbort?.(reason); },
      terminate() { if (!terminated) { terminated = true; readableController.close(); } },
      get desiredSize() { return readableController.desiredSize; },
    };
    let writableAbort;
    // A transform or flush that throws errors both sides, as the Streams spec's
    // TransformStreamError does: readers see the error instead of waiting forever.
    const guarded = async (run) => {
      try {
        return await run();
      } catch (err) {
        if (!terminated) {
          terminated = true;
          try { readableController.error(err); } catch {}
        }
        throw err;
      }
    };
    this.#readable = new ReadableStream({
      start(c) { readableController = c; },
      pull() { wakeWriter(); },
      cancel(reason) { terminated = true; wakeWriter(); return transformer.cancel?.(reason); },
    }, readableStrategy ?? { highWaterMark: 0 });
    const started = Promise.resolve().then(() => transformer.start?.(controller));
    this.#writable = new WritableStream({
      start(c) { writableAbort = (reason) => c.error(reason); return started; },
      async write(chunk) {
        if (terminated) throw new TypeError("The transform stream has been terminated");
        if (typeof transformer.transform === "function") await guarded(() => transformer.transform(chunk, controller));
        else controller.enqueue(chunk);
        while (!terminated && readableController.desiredSize !== null && readableController.desiredSize < 0) {
          await new Promise((resolve) => { pullWaiter = resolve; });
        }
      },
      async close() {
        if (typeof transformer.flush === "function") await guarded(() => transformer.flush(controller));
        if (!terminated) { terminated = true; readableController.close(); }
      },
      abort(reason) {
        terminated = true;
        readableController.error(reason);
        return transformer.cancel?.(reason);
      },
    }, writableStrategy ?? { highWaterMark: 1 });
  }
  get readable() { return this.#readable; }
  get writable() { return this.#writable; }
}

function byteChunk(chunk) {
  if (chunk instanceof Uint8Array) return chunk;
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError("This TransformStream is being used as a byte stream, but received an object of non-ArrayBuffer/ArrayBufferView type on its writable side.");
}

class IdentityTransformStream extends TransformStream {
  constructor() { super({ transform(chunk, c) { c.enqueue(byteChunk(chunk)); } }); }
}

class FixedLengthStream extends TransformStream {
  constructor(length) {
    const expected = Number(length);
    if (!Number.isSafeInteger(expected) || expected < 0) throw new TypeError("FixedLengthStream requires a non-negative integer length.");
    let seen = 0;
    super({
      transform(chunk, c) {
        const bytes = byteChunk(chunk);
        seen += bytes.byteLength;
        if (seen > expected) throw new TypeError("Attempt to write too many bytes through a FixedLengthStream.");
        c.enqueue(bytes);
      },
      flush() { if (seen < expected) throw new TypeError("FixedLengthStream did not see all expected bytes before close()."); },
    });
    knownLengths.set(this.readable, expected);
  }
}

class TextEncoderStream extends TransformStream {
  constructor() {
    const encoder = new TextEncoder();
    // A chunk that ends in the first half of a surrogate pair keeps it for the next chunk, as
    // the Encoding standard says; one left at the end is U+FFFD.
    let pending = "";
    super({
      transform(chunk, c) {
        let text = pending + String(chunk);
        pending = "";
        const last = text.charCodeAt(text.length - 1);
        if (last >= 0xd800 && last <= 0xdbff) {
          pending = text.slice(-1);
          text = text.slice(0, -1);
        }
        const b = encoder.encode(text);
        if (b.byteLength) c.enqueue(b);
      },
      flush(c) { if (pending) c.enqueue(encoder.encode("\ufffd")); },
    });
  }
  get encoding() { return "utf-8"; }
}

class TextDecoderStream extends TransformStream {
  #decoder;
  constructor(label = "utf-8", options = {}) {
    const decoder = new TextDecoder(label, options);
    super({
      transform(chunk, c) { const s = decoder.decode(byteChunk(chunk), { stream: true }); if (s) c.enqueue(s); },
      flush(c) { const s = decoder.decode(); if (s) c.enqueue(s); },
    });
    this.#decoder = decoder;
  }
  get encoding() { return this.#decoder.encoding; }
  get fatal() { return this.#decoder.fatal; }
  get ignoreBOM() { return this.#decoder.ignoreBOM; }
}

if (typeof ReadableStream.from !== "function") {
  ReadableStream.from = function from(iterable) {
    const iterator = iterable[Symbol.asyncIterator]?.() ?? iterable[Symbol.iterator]();
    return new ReadableStream({
      async pull(c) {
        const { value, done } = await iterator.next();
        if (done) c.close(); else c.enqueue(value);
      },
      async cancel(reason) { await iterator.return?.(reason); },
    });
  };
}

for (const [name, value] of Object.entries({ TransformStream, IdentityTransformStream, FixedLengthStream, TextEncoderStream, TextDecoderStream })) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}

// LLRT's pipeTo() and pipeThrough() accept only LLRT's own AbortSignal, so a Kiln AbortSignal
// (03_events.js: the one `new AbortController()` makes) is forwarded to one of LLRT's.
{
  const NativeAbortController = ops.AbortController;
  const nativePipeTo = ReadableStream.prototype.pipeTo;
  const nativePipeThrough = ReadableStream.prototype.pipeThrough;
  // Returns [options LLRT accepts, a function that stops forwarding].
  const bridgeSignal = (options) => {
    const signal = options?.signal;
    if (signal === undefined || !(signal instanceof AbortSignal)) return [options, () => {}];
    const native = new NativeAbortController();
    const onAbort = () => native.abort(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    const bridged = {
      preventClose: options.preventClose,
      preventAbort: options.preventAbort,
      preventCancel: options.preventCancel,
      signal: native.signal,
    };
    return [bridged, () => signal.removeEventListener("abort", onAbort)];
  };
  Object.defineProperty(ReadableStream.prototype, "pipeTo", {
    value: function pipeTo(destination, options = undefined) {
      const [bridged, stop] = bridgeSignal(options);
      const piped = bridged === undefined ? nativePipeTo.call(this, destination) : nativePipeTo.call(this, destination, bridged);
      piped.then(stop, stop);
      return piped;
    },
    writable: true, configurable: true, enumerable: false,
  });
  Object.defineProperty(ReadableStream.prototype, "pipeThrough", {
    value: function pipeThrough(transform, options = undefined) {
      const [bridged] = bridgeSignal(options);
      return bridged === undefined ? nativePipeThrough.call(this, transform) : nativePipeThrough.call(this, transform, bridged);
    },
    writable: true, configurable: true, enumerable: false,
  });
}
