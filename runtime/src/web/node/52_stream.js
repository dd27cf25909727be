// Node's streams for `nodejs_compat` workers (`node:stream`, `node:stream/promises`,
// `node:stream/consumers`, `node:stream/web`, `node:_stream_*`): Readable (flowing and paused
// modes, 'readable', async iteration), Writable (buffering, cork, backpressure and 'drain',
// _final), Duplex, Transform, PassThrough, pipeline, finished, and the conversions to and from
// web streams. Buffers and their lengths bound every queue by `highWaterMark`, as in Node.

function nodeStreamError(code, message, Type = Error) {
  const err = new Type(message);
  err.code = code;
  return err;
}

let streamDefaultHighWaterMark = 64 * 1024;
const streamObjectHighWaterMark = 16;
const kDestroyed = Symbol("kDestroyed");

function streamTick(fn, ...args) { queueMicrotask(() => fn(...args)); }

function chunkLength(state, chunk) {
  return state.objectMode ? 1 : chunk.length;
}

// What `destroy()` does for both sides: once, then `_destroy`, then 'error' and 'close'.
function destroyStream(stream, err, cb) {
  const r = stream._readableState;
  const w = stream._writableState;
  if (stream[kDestroyed]) {
    if (typeof cb === "function") cb(err);
    return stream;
  }
  stream[kDestroyed] = true;
  if (r) r.destroyed = true;
  if (w) w.destroyed = true;
  if (err) {
    if (r && !r.errored) r.errored = err;
    if (w && !w.errored) w.errored = err;
  }
  const done = (error) => {
    if (typeof cb === "function") cb(error);
    streamTick(() => {
      if (error && !(r?.errorEmitted || w?.errorEmitted)) {
        if (r) r.errorEmitted = true;
        if (w) w.errorEmitted = true;
        if ((r?.emitClose ?? true) || true) stream.emit("error", error);
      }
      if (r) r.closed = true;
      if (w) w.closed = true;
      if ((r?.emitClose ?? w?.emitClose) !== false) stream.emit("close");
    });
  };
  try {
    stream._destroy(err ?? null, (error) => done(error ?? err));
  } catch (error) {
    done(error);
  }
  return stream;
}

function Stream(options) {
  nodeEvents.EventEmitter.call(this, options);
}
Object.setPrototypeOf(Stream.prototype, nodeEvents.EventEmitter.prototype);
Object.setPrototypeOf(Stream, nodeEvents.EventEmitter);
// The legacy `pipe` of `Stream` (Readable has its own).
Stream.prototype.pipe = function pipe(dest, options) {
  return Readable.prototype.pipe.call(this, dest, options);
};

// What both sides of a stream keep: the mode, the high-water mark and the ending of the side.
// `side` is "readable" or "writable" (a Duplex's own options for that side win).
class StreamSideState {
  constructor(options, isDuplex, side) {
    this.objectMode = !!(options.objectMode || (isDuplex && options[`${side}ObjectMode`]));
    const hwm = options[`${side}HighWaterMark`] ?? options.highWaterMark;
    this.highWaterMark = hwm ?? (this.objectMode ? streamObjectHighWaterMark : streamDefaultHighWaterMark);
    this.errorEmitted = false;
    this.emitClose = options.emitClose !== false;
    this.autoDestroy = options.autoDestroy !== false;
    this.destroyed = false;
    this.errored = null;
    this.closed = false;
    this.defaultEncoding = options.defaultEncoding || "utf8";
  }
}

class ReadableState extends StreamSideState {
  constructor(options = {}, stream, isDuplex) {
    super(options, isDuplex, "readable");
    this.buffer = [];
    this.length = 0;
    this.pipes = [];
    this.flowing = null;
    this.ended = false;
    this.endEmitted = false;
    this.reading = false;
    this.constructed = true;
    this.sync = true;
    this.needReadable = false;
    this.emittedReadable = false;
    this.readableListening = false;
    this.resumeScheduled = false;
    this.decoder = null;
    this.encoding = null;
    this.dataEmitted = false;
    if (options.encoding) {
      this.decoder = new nodeStringDecoder.StringDecoder(options.encoding);
      this.encoding = options.encoding;
    }
  }
}

function Readable(options) {
  if (!(this instanceof Readable)) return new Readable(options);
  const isDuplex = this instanceof Duplex;
  this._readableState = new ReadableState(options, this, isDuplex);
  if (options) {
    if (typeof options.read === "function") this._read = options.read;
    if (typeof options.destroy === "function") this._destroy = options.destroy;
    if (typeof options.construct === "function") this._construct = options.construct;
    if (options.signal) addAbortSignal(options.signal, this);
  }
  Stream.call(this, options);
  if (typeof this._construct === "function") constructStream(this);
}
Object.setPrototypeOf(Readable.prototype, Stream.prototype);
Object.setPrototypeOf(Readable, Stream);

function constructStream(stream) {
  const r = stream._readableState;
  const w = stream._writableState;
  if (r) r.constructed = false;
  if (w) w.constructed = false;
  streamTick(() => {
    stream._construct((err) => {
      if (r) r.constructed = true;
      if (w) w.constructed = true;
      if (err) { destroyStream(stream, err); return; }
      if (r && (r.needReadable || r.flowing)) maybeReadMore(stream);
      if (w) { clearBuffer(stream, w); finishMaybe(stream, w); }
    });
  });
}

Readable.prototype._destroy = function _destroy(err, cb) { cb(err); };
Readable.prototype.destroy = function destroy(err, cb) { return destroyStream(this, err, cb); };
Readable.prototype._read = function _read() {
  throw nodeStreamError("ERR_METHOD_NOT_IMPLEMENTED", "The _read() method is not implemented");
};

function readableAddChunk(stream, chunk, encoding, addToFront) {
  const state = stream._readableState;
  if (chunk === null) {
    state.reading = false;
    if (!state.ended) {
      if (state.decoder) {
        const rest = state.decoder.end();
        if (rest && rest.length) { state.buffer.push(rest); state.length += chunkLength(state, rest); }
      }
      state.ended = true;
      emitReadable(stream);
    }
    return false;
  }
  if (!state.objectMode) {
    if (typeof chunk === "string") {
      encoding = encoding || state.defaultEncoding;
      if (state.encoding !== encoding) {
        chunk = nodeBuffer.Buffer.from(chunk, encoding);
        encoding = "";
      }
    } else if (chunk instanceof Uint8Array && !nodeBuffer.Buffer.isBuffer(chunk)) {
      chunk = nodeBuffer.Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    } else if (!nodeBuffer.Buffer.isBuffer(chunk) && chunk !== undefined) {
      const err = nodeStreamError("ERR_INVALID_ARG_TYPE", `The "chunk" argument must be of type string or an instance of Buffer or Uint8Array. Received ${typeof chunk}`, TypeError);
      destroyStream(stream, err);
      return false;
    }
  }
  if (state.ended && !addToFront) {
    destroyStream(stream, nodeStreamError("ERR_STREAM_PUSH_AFTER_EOF", "stream.push() after EOF"));
    return false;
  }
  if (state.destroyed || state.errored) return false;
  state.reading = false;
  if (state.decoder && !encoding && typeof chunk !== "string") {
    chunk = state.decoder.write(chunk);
    if (chunk.length === 0) return state.length < state.highWaterMark;
  }
  if (!state.objectMode && chunk.length === 0) {
    return state.length < state.highWaterMark;
  }
  if (state.flowing && state.length === 0 && !state.sync && stream.listenerCount("data") > 0) {
    state.dataEmitted = true;
    stream.emit("data", chunk);
  } else {
    state.length += chunkLength(state, chunk);
    if (addToFront) state.buffer.unshift(chunk); else state.buffer.push(chunk);
    if (state.needReadable) emitReadable(stream);
  }
  maybeReadMore(stream);
  return state.length < state.highWaterMark || state.length === 0;
}

Readable.prototype.push = function push(chunk, encoding) {
  return readableAddChunk(this, chunk, encoding, false);
};
Readable.prototype.unshift = function unshift(chunk, encoding) {
  return readableAddChunk(this, chunk, encoding, true);
};
Readable.prototype.isPaused = function isPaused() {
  return this._readableState.flowing === false;
};
Readable.prototype.setEncoding = function setEncoding(encoding) {
  const state = this._readableState;
  state.decoder = new nodeStringDecoder.StringDecoder(encoding);
  state.encoding = state.decoder.encoding ?? encoding;
  let content = "";
  for (const chunk of state.buffer) content += state.decoder.write(chunk);
  state.buffer = content ? [content] : [];
  state.length = content.length;
  return this;
};

// Takes `n` bytes (or one object) from the buffer.
function takeFromBuffer(state, n) {
  if (state.length === 0) return null;
  if (state.objectMode) {
    state.length -= 1;
    return state.buffer.shift();
  }
  if (n === undefined || n >= state.length) {
    let out;
    if (state.decoder) out = state.buffer.join("");
    else if (state.buffer.length === 1) out = state.buffer[0];
    else out = nodeBuffer.Buffer.concat(state.buffer, state.length);
    state.buffer = [];
    state.length = 0;
    return out;
  }
  if (state.decoder) {
    const all = state.buffer.join("");
    state.buffer = [all.slice(n)];
    state.length -= n;
    return all.slice(0, n);
  }
  const all = nodeBuffer.Buffer.concat(state.buffer, state.length);
  state.buffer = [all.subarray(n)];
  state.length -= n;
  return all.subarray(0, n);
}

Readable.prototype.read = function read(n) {
  const state = this._readableState;
  if (n !== undefined) n = Number.parseInt(n, 10);
  const nOrig = n;
  if (n > state.highWaterMark) state.highWaterMark = Math.min(2 ** 30, 2 ** Math.ceil(Math.log2(n)));
  if (n !== 0) state.emittedReadable = false;
  if (n === 0 && state.needReadable && (state.length >= state.highWaterMark || state.ended)) {
    if (state.length === 0 && state.ended) endReadable(this); else emitReadable(this);
    return null;
  }
  if (state.ended && state.length === 0) {
    endReadable(this);
    return null;
  }
  let doRead = state.needReadable || state.length === 0 || state.length - (n ?? state.length) < state.highWaterMark;
  if (state.ended || state.reading || state.destroyed || state.errored || !state.constructed) doRead = false;
  if (doRead) {
    state.reading = true;
    state.sync = true;
    if (state.length === 0) state.needReadable = true;
    try {
      this._read(state.highWaterMark);
    } catch (err) {
      destroyStream(this, err);
    }
    state.sync = false;
  }
  let out = null;
  if (state.objectMode) out = n === 0 ? null : takeFromBuffer(state);
  else if (n === undefined || Number.isNaN(n)) out = takeFromBuffer(state);
  else if (n > 0 && n <= state.length) out = takeFromBuffer(state, n);
  else if (n > 0 && state.ended) out = takeFromBuffer(state);
  if (out === null) {
    state.needReadable = state.length <= state.highWaterMark;
  }
  if (state.length === 0) {
    if (!state.ended) state.needReadable = true;
    if (nOrig !== n && state.ended) endReadable(this);
  }
  if (out !== null) {
    state.dataEmitted = true;
    this.emit("data", out);
  }
  if (state.ended && state.length === 0) endReadable(this);
  return out;
};

function emitReadable(stream) {
  const state = stream._readableState;
  state.needReadable = false;
  if (!state.emittedReadable) {
    state.emittedReadable = true;
    streamTick(emitReadableNow, stream);
  }
}

function emitReadableNow(stream) {
  const state = stream._readableState;
  if (!state.destroyed && !state.errored && (state.length || state.ended)) {
    stream.emit("readable");
    state.emittedReadable = false;
  }
  state.needReadable = !state.flowing && !state.ended && state.length <= state.highWaterMark;
  flow(stream);
}

function maybeReadMore(stream) {
  const state = stream._readableState;
  if (state.readingMore || !state.constructed) return;
  state.readingMore = true;
  streamTick(() => {
    while (!state.reading && !state.ended && !state.destroyed &&
      (state.length < state.highWaterMark || (state.flowing && state.length === 0))) {
      const len = state.length;
      stream.read(0);
      if (len === state.length) break;
    }
    state.readingMore = false;
  });
}

function flow(stream) {
  const state = stream._readableState;
  while (state.flowing && stream.read() !== null);
}

Readable.prototype.on = function on(event, fn) {
  const result = Stream.prototype.on.call(this, event, fn);
  const state = this._readableState;
  if (event === "data") {
    state.readableListening = this.listenerCount("readable") > 0;
    if (state.flowing !== false) this.resume();
  } else if (event === "readable") {
    if (!state.endEmitted && !state.readableListening) {
      state.readableListening = state.needReadable = true;
      state.flowing = false;
      state.emittedReadable = false;
      if (state.length) emitReadable(this);
      else if (!state.reading) streamTick(() => this.read(0));
    }
  }
  return result;
};
Readable.prototype.addListener = Readable.prototype.on;

Readable.prototype.removeListener = function removeListener(event, fn) {
  const result = Stream.prototype.removeListener.call(this, event, fn);
  if (event === "readable") {
    streamTick(() => {
      const state = this._readableState;
      state.readableListening = this.listenerCount("readable") > 0;
      if (!state.readableListening && this.listenerCount("data") > 0) this.resume();
    });
  }
  return result;
};
Readable.prototype.off = Readable.prototype.removeListener;

Readable.prototype.resume = function resume() {
  const state = this._readableState;
  if (!state.flowing) {
    state.flowing = !state.readableListening;
    if (!state.resumeScheduled) {
      state.resumeScheduled = true;
      streamTick(() => {
        state.resumeScheduled = false;
        if (!state.reading) this.read(0);
        this.emit("resume");
        flow(this);
        if (state.flowing && !state.reading) this.read(0);
      });
    }
  }
  return this;
};

Readable.prototype.pause = function pause() {
  const state = this._readableState;
  if (state.flowing !== false) {
    state.flowing = false;
    this.emit("pause");
  }
  return this;
};

function endReadable(stream) {
  const state = stream._readableState;
  if (!state.endEmitted) {
    state.ended = true;
    streamTick(() => {
      if (!state.errored && !state.closeEmitted && !state.endEmitted && state.length === 0) {
        state.endEmitted = true;
        stream.emit("end");
        const w = stream._writableState;
        if (w && !stream.allowHalfOpen && !w.ending) stream.end();
        if (state.autoDestroy && (!w || (w.autoDestroy && (w.finished || w.writable === false)))) {
          stream.destroy();
        }
      }
    });
  }
}

Readable.prototype.pipe = function pipe(dest, options = {}) {
  const src = this;
  const state = src._readableState;
  if (state) state.pipes.push(dest);
  const doEnd = options.end !== false;
  const ondata = (chunk) => {
    const ret = dest.write(chunk);
    if (ret === false) {
      src.pause();
      dest.once("drain", () => src.resume());
    }
  };
  const onend = () => { if (doEnd) dest.end(); };
  const cleanup = () => {
    src.removeListener("data", ondata);
    src.removeListener("end", onend);
    dest.removeListener("close", cleanup);
    dest.removeListener("unpipe", onunpipe);
  };
  const onunpipe = (readable) => { if (readable === src) cleanup(); };
  const onerror = (err) => {
    src.unpipe?.(dest);
    if (dest.listenerCount("error") === 0) dest.destroy?.(err);
  };
  src.on("data", ondata);
  src.once("end", onend);
  dest.once("close", cleanup);
  dest.on("unpipe", onunpipe);
  dest.prependListener?.("error", onerror);
  dest.emit("pipe", src);
  if (state && !state.flowing) src.resume();
  return dest;
};

Readable.prototype.unpipe = function unpipe(dest) {
  const state = this._readableState;
  const targets = dest === undefined ? [...state.pipes] : [dest];
  for (const target of targets) {
    const at = state.pipes.indexOf(target);
    if (at === -1) continue;
    state.pipes.splice(at, 1);
    target.emit("unpipe", this, { hasUnpiped: false });
  }
  if (state.pipes.length === 0) this.pause();
  return this;
};

Readable.prototype.wrap = function wrap(old) {
  old.on("data", (chunk) => { if (!this.push(chunk)) old.pause?.(); });
  old.on("end", () => this.push(null));
  old.on("error", (err) => destroyStream(this, err));
  this._read = () => old.resume?.();
  return this;
};

Readable.prototype[Symbol.asyncIterator] = function asyncIterator() {
  return readableIterator(this, true);
};
Readable.prototype.iterator = function iterator(options = {}) {
  return readableIterator(this, options.destroyOnReturn !== false);
};

async function* readableIterator(stream, destroyOnReturn) {
  let wake = null;
  const next = () => { const w = wake; wake = null; w?.(); };
  stream.on("readable", next);
  let error = null;
  let ended = false;
  const onEnd = () => { ended = true; next(); };
  const onError = (err) => { error = err; next(); };
  stream.on("end", onEnd);
  stream.on("error", onError);
  stream.on("close", onEnd);
  let finished = false;
  try {
    for (;;) {
      const chunk = stream.destroyed ? null : stream.read();
      if (chunk !== null) {
        yield chunk;
      } else if (error) {
        throw error;
      } else if (ended || stream._readableState.endEmitted) {
        if (stream._readableState.errored) throw stream._readableState.errored;
        finished = true;
        return;
      } else if (stream.destroyed) {
        if (stream._readableState.errored) throw stream._readableState.errored;
        finished = true;
        return;
      } else {
        await new Promise((resolve) => { wake = resolve; });
      }
    }
  } finally {
    stream.removeListener("readable", next);
    stream.removeListener("end", onEnd);
    stream.removeListener("error", onError);
    stream.removeListener("close", onEnd);
    if (!finished && destroyOnReturn) destroyStream(stream, null);
  }
}

for (const [name, get] of Object.entries({
  readable: function () { const s = this._readableState; return !!s && !s.destroyed && !s.errored && !s.endEmitted; },
  readableEnded: function () { return this._readableState?.endEmitted ?? false; },
  readableFlowing: function () { return this._readableState?.flowing ?? null; },
  readableLength: function () { return this._readableState?.length ?? 0; },
  readableHighWaterMark: function () { return this._readableState?.highWaterMark; },
  readableObjectMode: function () { return this._readableState?.objectMode ?? false; },
  readableEncoding: function () { return this._readableState?.encoding ?? null; },
  readableAborted: function () { const s = this._readableState; return !!s && (s.destroyed || !!s.errored) && !s.endEmitted; },
  readableDidRead: function () { return this._readableState?.dataEmitted ?? false; },
  closed: function () { return (this._readableState ?? this._writableState)?.closed ?? false; },
  errored: function () { return (this._readableState ?? this._writableState)?.errored ?? null; },
})) {
  Object.defineProperty(Readable.prototype, name, { get, configurable: true, enumerable: false });
}
// `destroyed` of both sides: one accessor, set once destroy() has begun.
const destroyedAccessor = {
  get() { return !!this[kDestroyed]; },
  set(value) { this[kDestroyed] = !!value; },
  configurable: true,
};
Object.defineProperty(Readable.prototype, "destroyed", destroyedAccessor);
Object.defineProperty(Readable.prototype, "readable", {
  get() { const s = this._readableState; return !!s && s.readable !== false && !s.destroyed && !s.errored && !s.endEmitted; },
  set(value) { if (this._readableState) this._readableState.readable = !!value; },
  configurable: true,
});

Readable.from = function from(iterable, options) {
  if (typeof iterable === "string" || iterable instanceof Uint8Array) {
    return new Readable({ objectMode: true, ...options, read() { this.push(iterable); this.push(null); } });
  }
  let iterator;
  const isAsync = typeof iterable?.[Symbol.asyncIterator] === "function";
  if (isAsync) iterator = iterable[Symbol.asyncIterator]();
  else if (typeof iterable?.[Symbol.iterator] === "function") iterator = iterable[Symbol.iterator]();
  else throw nodeStreamError("ERR_INVALID_ARG_TYPE", 'The "iterable" argument must be an instance of Iterable.', TypeError);
  let reading = false;
  const readable = new Readable({
    objectMode: true,
    highWaterMark: 1,
    ...options,
    async read() {
      if (reading) return;
      reading = true;
      try {
        for (;;) {
          const { value, done } = isAsync ? await iterator.next() : iterator.next();
          if (done) { this.push(null); break; }
          const chunk = value && typeof value.then === "function" ? await value : value;
          if (chunk === null) throw nodeStreamError("ERR_STREAM_NULL_VALUES", "May not write null values to stream", TypeError);
          if (!this.push(chunk)) break;
        }
      } catch (err) {
        destroyStream(this, err);
      } finally {
        reading = false;
      }
    },
    destroy(err, cb) {
      Promise.resolve(iterator.return?.()).then(() => cb(err), (e) => cb(err ?? e));
    },
  });
  return readable;
};

Readable.fromWeb = function fromWeb(readableStream, options = {}) {
  const reader = readableStream.getReader();
  return new Readable({
    objectMode: options.objectMode ?? false,
    highWaterMark: options.highWaterMark,
    encoding: options.encoding,
    signal: options.signal,
    read() {
      reader.read().then(({ value, done }) => {
        if (done) this.push(null);
        else this.push(value);
      }, (err) => destroyStream(this, err));
    },
    destroy(err, cb) {
      reader.cancel(err ?? undefined).then(() => cb(err), () => cb(err));
    },
  });
};

Readable.toWeb = function toWeb(readable) {
  let pending = null;
  return new ReadableStream({
    start(controller) {
      readable.on("data", (chunk) => {
        const bytes = typeof chunk === "string" ? nodeBuffer.Buffer.from(chunk) : chunk;
        controller.enqueue(bytes instanceof Uint8Array ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes);
        if (controller.desiredSize <= 0) readable.pause();
      });
      readable.once("end", () => { try { controller.close(); } catch {} pending?.(); });
      readable.once("error", (err) => { try { controller.error(err); } catch {} pending?.(); });
    },
    pull() {
      readable.resume();
    },
    cancel(reason) {
      destroyStream(readable, reason);
    },
  });
};

Readable.isDisturbed = function isDisturbed(stream) {
  return !!(stream?._readableState?.dataEmitted || stream?.locked || stream?.bodyUsed);
};

// Writable ---------------------------------------------------------------------------------

class WritableState extends StreamSideState {
  constructor(options = {}, stream, isDuplex) {
    super(options, isDuplex, "writable");
    this.decodeStrings = options.decodeStrings !== false;
    this.length = 0;
    this.writing = false;
    this.corked = 0;
    this.buffered = [];
    this.ending = false;
    this.ended = false;
    this.finished = false;
    this.needDrain = false;
    this.pendingcb = 0;
    this.prefinished = false;
    this.finalCalled = false;
    this.constructed = true;
  }
}

function Writable(options) {
  const isDuplex = this instanceof Duplex;
  if (!isDuplex && !Function.prototype[Symbol.hasInstance].call(Writable, this)) return new Writable(options);
  this._writableState = new WritableState(options, this, isDuplex);
  if (options) {
    if (typeof options.write === "function") this._write = options.write;
    if (typeof options.writev === "function") this._writev = options.writev;
    if (typeof options.destroy === "function") this._destroy = options.destroy;
    if (typeof options.final === "function") this._final = options.final;
    if (typeof options.construct === "function") this._construct = options.construct;
    if (options.signal) addAbortSignal(options.signal, this);
  }
  Stream.call(this, options);
  if (!isDuplex && typeof this._construct === "function") constructStream(this);
}
Object.setPrototypeOf(Writable.prototype, Stream.prototype);
Object.setPrototypeOf(Writable, Stream);
Object.defineProperty(Writable, Symbol.hasInstance, {
  value(object) {
    if (Function.prototype[Symbol.hasInstance].call(this, object)) return true;
    if (this !== Writable) return false;
    return !!object && object._writableState instanceof WritableState;
  },
});

Writable.prototype._destroy = function _destroy(err, cb) { cb(err); };
Writable.prototype.destroy = function destroy(err, cb) { return destroyStream(this, err, cb); };
Writable.prototype._write = function _write(chunk, encoding, cb) {
  if (this._writev) this._writev([{ chunk, encoding }], cb);
  else throw nodeStreamError("ERR_METHOD_NOT_IMPLEMENTED", "The _write() method is not implemented");
};

Writable.prototype.write = function write(chunk, encoding, cb) {
  const state = this._writableState;
  if (typeof encoding === "function") { cb = encoding; encoding = state.defaultEncoding; }
  else if (!encoding) encoding = state.defaultEncoding;
  if (typeof cb !== "function") cb = () => {};
  if (chunk === null) throw nodeStreamError("ERR_STREAM_NULL_VALUES", "May not write null values to stream", TypeError);
  if (!state.objectMode) {
    if (typeof chunk === "string") {
      if (state.decodeStrings) { chunk = nodeBuffer.Buffer.from(chunk, encoding); encoding = "buffer"; }
    } else if (chunk instanceof Uint8Array) {
      if (!nodeBuffer.Buffer.isBuffer(chunk)) chunk = nodeBuffer.Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      encoding = "buffer";
    } else {
      throw nodeStreamError("ERR_INVALID_ARG_TYPE", `The "chunk" argument must be of type string or an instance of Buffer or Uint8Array. Received ${typeof chunk}`, TypeError);
    }
  }
  let err;
  if (state.ending) err = nodeStreamError("ERR_STREAM_WRITE_AFTER_END", "write after end");
  else if (state.destroyed) err = nodeStreamError("ERR_STREAM_DESTROYED", "Cannot call write after a stream was destroyed");
  if (err) {
    streamTick(cb, err);
    destroyStream(this, err);
    return false;
  }
  state.pendingcb++;
  const len = chunkLength(state, chunk);
  state.length += len;
  const ret = state.length < state.highWaterMark;
  if (!ret) state.needDrain = true;
  if (state.writing || state.corked || state.errored || !state.constructed) {
    state.buffered.push({ chunk, encoding, callback: cb });
  } else {
    doWrite(this, state, chunk, encoding, cb);
  }
  return ret && !state.errored && !state.destroyed;
};

function doWrite(stream, state, chunk, encoding, cb) {
  const len = chunkLength(state, chunk);
  state.writing = true;
  state.sync = true;
  let called = false;
  const onwrite = (err) => {
    if (called) {
      destroyStream(stream, nodeStreamError("ERR_MULTIPLE_CALLBACK", "Callback called multiple times"));
      return;
    }
    called = true;
    const sync = state.sync;
    state.writing = false;
    state.length -= len;
    if (err) {
      state.errored ??= err;
      const after = () => { state.pendingcb--; cb(err); };
      if (sync) streamTick(after); else after();
      destroyStream(stream, err);
      return;
    }
    const after = () => {
      state.pendingcb--;
      cb(null);
      if (state.needDrain && state.length === 0 && !state.ending && !state.destroyed) {
        state.needDrain = false;
        stream.emit("drain");
      }
      finishMaybe(stream, state);
    };
    if (state.buffered.length && !state.corked) clearBuffer(stream, state);
    if (sync) streamTick(after); else after();
  };
  try {
    stream._write(chunk, encoding, onwrite);
  } catch (err) {
    onwrite(err);
  }
  state.sync = false;
}

function clearBuffer(stream, state) {
  if (state.corked || state.writing || state.destroyed || !state.constructed) return;
  if (state.buffered.length > 1 && stream._writev) {
    const entries = state.buffered.splice(0);
    let len = 0;
    for (const entry of entries) len += chunkLength(state, entry.chunk);
    state.writing = true;
    state.sync = true;
    stream._writev(entries.map(({ chunk, encoding }) => ({ chunk, encoding })), (err) => {
      state.writing = false;
      state.length -= len;
      for (const entry of entries) { state.pendingcb--; entry.callback(err ?? null); }
      if (err) { destroyStream(stream, err); return; }
      if (state.needDrain && state.length === 0) { state.needDrain = false; stream.emit("drain"); }
      clearBuffer(stream, state);
      finishMaybe(stream, state);
    });
    state.sync = false;
    return;
  }
  if (state.buffered.length) {
    const { chunk, encoding, callback } = state.buffered.shift();
    state.length -= chunkLength(state, chunk);
    state.pendingcb--;
    state.pendingcb++;
    state.length += chunkLength(state, chunk);
    doWrite(stream, state, chunk, encoding, callback);
  }
}

Writable.prototype.cork = function cork() { this._writableState.corked++; };
Writable.prototype.uncork = function uncork() {
  const state = this._writableState;
  if (state.corked) {
    state.corked--;
    if (!state.writing) clearBuffer(this, state);
  }
};
Writable.prototype.setDefaultEncoding = function setDefaultEncoding(encoding) {
  this._writableState.defaultEncoding = String(encoding).toLowerCase();
  return this;
};

Writable.prototype.end = function end(chunk, encoding, cb) {
  const state = this._writableState;
  if (typeof chunk === "function") { cb = chunk; chunk = null; encoding = null; }
  else if (typeof encoding === "function") { cb = encoding; encoding = null; }
  if (chunk !== null && chunk !== undefined) this.write(chunk, encoding);
  if (state.corked) { state.corked = 1; this.uncork(); }
  let err;
  if (state.errored) err = state.errored;
  else if (state.destroyed) err = nodeStreamError("ERR_STREAM_DESTROYED", "Cannot call end after a stream was destroyed");
  else if (state.finished && state.ending) err = nodeStreamError("ERR_STREAM_ALREADY_FINISHED", "Cannot call end after a stream was finished");
  if (!state.ending && !err) {
    state.ending = true;
    finishMaybe(this, state, true);
    state.ended = true;
  }
  if (typeof cb === "function") {
    if (err || state.finished) streamTick(cb, err ?? null);
    else this.once("finish", () => cb(null));
  }
  return this;
};

function needFinish(state) {
  return state.ending && !state.destroyed && state.constructed && state.length === 0 &&
    !state.errored && state.buffered.length === 0 && !state.finished && !state.writing;
}

function finishMaybe(stream, state, sync) {
  if (!needFinish(state)) return;
  if (!state.prefinished && !state.finalCalled) {
    if (typeof stream._final === "function" && !state.destroyed) {
      state.finalCalled = true;
      state.pendingcb++;
      const onFinal = (err) => {
        state.pendingcb--;
        if (err) { destroyStream(stream, err); return; }
        state.prefinished = true;
        stream.emit("prefinish");
        finishMaybe(stream, state);
      };
      streamTick(() => {
        try { stream._final(onFinal); } catch (err) { onFinal(err); }
      });
      return;
    }
    state.prefinished = true;
    stream.emit("prefinish");
  }
  if (state.pendingcb === 0 && state.prefinished) {
    const finish = () => {
      if (state.finished || state.destroyed || state.errored) return;
      state.finished = true;
      stream.emit("finish");
      const r = stream._readableState;
      if (state.autoDestroy && (!r || (r.autoDestroy && (r.endEmitted || r.readable === false)))) {
        stream.destroy();
      }
    };
    if (sync) streamTick(finish); else finish();
  }
}

for (const [name, get] of Object.entries({
  writableEnded: function () { return this._writableState?.ending ?? false; },
  writableFinished: function () { return this._writableState?.finished ?? false; },
  writableLength: function () { return this._writableState?.length ?? 0; },
  writableHighWaterMark: function () { return this._writableState?.highWaterMark; },
  writableObjectMode: function () { return this._writableState?.objectMode ?? false; },
  writableCorked: function () { return this._writableState?.corked ?? 0; },
  writableNeedDrain: function () { const s = this._writableState; return !!s && !s.destroyed && !s.ending && s.needDrain; },
  writableAborted: function () { const s = this._writableState; return !!s && (s.destroyed || !!s.errored) && !s.finished; },
  closed: function () { return this._writableState?.closed ?? false; },
  errored: function () { return this._writableState?.errored ?? null; },
})) {
  Object.defineProperty(Writable.prototype, name, { get, configurable: true, enumerable: false });
}
Object.defineProperty(Writable.prototype, "destroyed", destroyedAccessor);
Object.defineProperty(Writable.prototype, "writable", {
  get() { const s = this._writableState; return !!s && s.writable !== false && !s.destroyed && !s.errored && !s.ending; },
  set(value) { if (this._writableState) this._writableState.writable = !!value; },
  configurable: true,
});

Writable.fromWeb = function fromWeb(writableStream, options = {}) {
  const writer = writableStream.getWriter();
  return new Writable({
    objectMode: options.objectMode ?? false,
    highWaterMark: options.highWaterMark,
    decodeStrings: options.decodeStrings ?? true,
    signal: options.signal,
    write(chunk, encoding, cb) {
      writer.ready.then(() => writer.write(chunk)).then(() => cb(), cb);
    },
    final(cb) {
      writer.close().then(() => cb(), cb);
    },
    destroy(err, cb) {
      (err ? writer.abort(err) : Promise.resolve()).then(() => cb(err), () => cb(err));
    },
  });
};

Writable.toWeb = function toWeb(writable) {
  return new WritableStream({
    write(chunk) {
      return new Promise((resolve, reject) => {
        const ok = writable.write(chunk, (err) => { if (err) reject(err); });
        if (ok) resolve(); else writable.once("drain", resolve);
      });
    },
    close() {
      return new Promise((resolve, reject) => {
        writable.end((err) => (err ? reject(err) : resolve()));
      });
    },
    abort(reason) {
      destroyStream(writable, reason);
    },
  });
};

// Duplex, Transform, PassThrough -----------------------------------------------------------

function Duplex(options) {
  if (!(this instanceof Duplex)) return new Duplex(options);
  Readable.call(this, options);
  Writable.call(this, options);
  this.allowHalfOpen = options?.allowHalfOpen !== false;
  if (options?.readable === false) { this._readableState.readable = false; this._readableState.ended = true; this._readableState.endEmitted = true; }
  if (options?.writable === false) { this._writableState.writable = false; this._writableState.ending = true; this._writableState.ended = true; this._writableState.finished = true; }
}
Object.setPrototypeOf(Duplex.prototype, Readable.prototype);
Object.setPrototypeOf(Duplex, Readable);
for (const name of Object.getOwnPropertyNames(Writable.prototype)) {
  if (name === "constructor" || name === "destroy" || name === "_destroy" || name === "destroyed" || name === "closed" || name === "errored") continue;
  if (!Object.prototype.hasOwnProperty.call(Duplex.prototype, name)) {
    Object.defineProperty(Duplex.prototype, name, Object.getOwnPropertyDescriptor(Writable.prototype, name));
  }
}

Duplex.from = function from(body) {
  if (body instanceof Duplex) return body;
  if (body instanceof Readable) return body;
  if (body instanceof Writable) return body;
  if (typeof body === "function") return duplexFromFunction(body);
  if (body instanceof ReadableStream) return Readable.fromWeb(body);
  if (body instanceof WritableStream) return Writable.fromWeb(body);
  if (body && typeof body === "object" && ("readable" in body || "writable" in body) && (body.readable instanceof ReadableStream || body.writable instanceof WritableStream)) {
    return Duplex.fromWeb(body);
  }
  if (typeof body?.[Symbol.asyncIterator] === "function" || typeof body?.[Symbol.iterator] === "function" || typeof body === "string") {
    return Readable.from(body);
  }
  if (typeof body?.then === "function") {
    return Readable.from((async function* () { const value = await body; if (value !== undefined && value !== null) yield value; })());
  }
  throw nodeStreamError("ERR_INVALID_ARG_TYPE", "The \"body\" argument must be a stream, an iterable, a promise or a web stream pair.", TypeError);
};

// Duplex.from(async function* (source, { signal }) { ... }): what is written becomes `source`,
// what the function yields is read (object mode, as in Node).
function duplexFromFunction(fn) {
  const written = [];
  let ended = false;
  let wake = null;
  let pull = null;
  const controller = new AbortController();
  const source = (async function* () {
    for (;;) {
      if (written.length) {
        const { chunk, callback } = written.shift();
        callback();
        yield chunk;
        continue;
      }
      if (ended) return;
      await new Promise((resolve) => { wake = resolve; });
      wake = null;
    }
  })();
  let started = false;
  const start = (duplex) => {
    started = true;
    (async () => {
      const output = fn(source, { signal: controller.signal });
      if (typeof output?.[Symbol.asyncIterator] === "function" || typeof output?.[Symbol.iterator] === "function") {
        for await (const value of output) {
          if (!duplex.push(value)) await new Promise((resolve) => { pull = resolve; });
        }
      } else {
        await output;
      }
      duplex.push(null);
    })().catch((err) => destroyStream(duplex, err));
  };
  return new Duplex({
    objectMode: true,
    highWaterMark: 1,
    write(chunk, encoding, callback) {
      written.push({ chunk, callback });
      wake?.();
    },
    final(callback) {
      ended = true;
      wake?.();
      callback();
    },
    read() {
      if (!started) start(this);
      const resume = pull;
      pull = null;
      resume?.();
    },
    destroy(err, callback) {
      controller.abort(err ?? undefined);
      ended = true;
      wake?.();
      callback(err);
    },
  });
}

// stream.compose(...stages): one Duplex that writes to the first stage and reads from the last,
// the stages piped together in between (a function stage is an async generator transform).
function compose(...streams) {
  if (streams.length === 1 && Array.isArray(streams[0])) streams = streams[0];
  if (streams.length === 0) throw nodeStreamError("ERR_MISSING_ARGS", 'The "streams" argument must be specified');
  const stages = streams.map((stage) => (isNodeStream(stage) ? stage : Duplex.from(stage)));
  if (stages.length === 1) return stages[0];
  const head = stages[0];
  const tail = stages[stages.length - 1];
  const writable = typeof head.write === "function" && head.writable !== false;
  const readable = typeof tail.read === "function" && tail.readable !== false;
  let composed;
  let finalCallback = null;
  const onReadable = () => composed._read();
  composed = new Duplex({
    writableObjectMode: !!head._writableState?.objectMode,
    readableObjectMode: !!tail._readableState?.objectMode,
    writable,
    readable,
    write(chunk, encoding, callback) {
      if (head.write(chunk, encoding)) callback();
      else head.once("drain", () => callback());
    },
    final(callback) {
      head.end();
      if (readable) callback();
      else finalCallback = callback;
    },
    read() {
      for (;;) {
        const chunk = tail.read();
        if (chunk === null) {
          tail.once("readable", onReadable);
          return;
        }
        if (!this.push(chunk)) return;
      }
    },
    destroy(err, callback) {
      for (const stage of stages) if (!stage.destroyed) stage.destroy(err);
      callback(err);
    },
  });
  if (readable) tail.once("end", () => composed.push(null));
  pipelineImpl(stages, (err) => {
    if (err) destroyStream(composed, err);
    const callback = finalCallback;
    finalCallback = null;
    callback?.(err);
  }, {});
  return composed;
}

Duplex.fromWeb = function fromWeb(pair, options = {}) {
  const reader = pair.readable.getReader();
  const writer = pair.writable.getWriter();
  return new Duplex({
    ...options,
    read() {
      reader.read().then(({ value, done }) => { if (done) this.push(null); else this.push(value); }, (err) => destroyStream(this, err));
    },
    write(chunk, encoding, cb) { writer.write(chunk).then(() => cb(), cb); },
    final(cb) { writer.close().then(() => cb(), cb); },
    destroy(err, cb) {
      Promise.all([reader.cancel(err ?? undefined), err ? writer.abort(err) : null]).then(() => cb(err), () => cb(err));
    },
  });
};

Duplex.toWeb = function toWeb(duplex) {
  return { readable: Readable.toWeb(duplex), writable: Writable.toWeb(duplex) };
};

function Transform(options) {
  if (!(this instanceof Transform)) return new Transform(options);
  Duplex.call(this, options);
  this._readableState.sync = false;
  if (options) {
    if (typeof options.transform === "function") this._transform = options.transform;
    if (typeof options.flush === "function") this._flush = options.flush;
  }
  this._transformCallback = null;
}
Object.setPrototypeOf(Transform.prototype, Duplex.prototype);
Object.setPrototypeOf(Transform, Duplex);

Transform.prototype._transform = function _transform() {
  throw nodeStreamError("ERR_METHOD_NOT_IMPLEMENTED", "The _transform() method is not implemented");
};

Transform.prototype._write = function _write(chunk, encoding, callback) {
  const rState = this._readableState;
  const length = rState.length;
  this._transform(chunk, encoding, (err, value) => {
    if (err) { callback(err); return; }
    if (value !== undefined && value !== null) this.push(value);
    if (rState.ended || length === rState.length || rState.length < rState.highWaterMark) {
      callback();
    } else {
      this._transformCallback = callback;
    }
  });
};

Transform.prototype._read = function _read() {
  if (this._transformCallback) {
    const callback = this._transformCallback;
    this._transformCallback = null;
    callback();
  }
};

Transform.prototype._final = function _final(cb) {
  const done = (err, value) => {
    if (err) { cb(err); return; }
    if (value !== undefined && value !== null) this.push(value);
    this.push(null);
    cb();
  };
  if (typeof this._flush === "function" && !this.destroyed) {
    this._flush(done);
  } else {
    done();
  }
};

function PassThrough(options) {
  if (!(this instanceof PassThrough)) return new PassThrough(options);
  Transform.call(this, options);
}
Object.setPrototypeOf(PassThrough.prototype, Transform.prototype);
Object.setPrototypeOf(PassThrough, Transform);
PassThrough.prototype._transform = function _transform(chunk, encoding, cb) { cb(null, chunk); };

// finished, pipeline, addAbortSignal -------------------------------------------------------

function isNodeStream(value) {
  return !!value && typeof value.pipe === "function" && typeof value.on === "function";
}

function eos(stream, options, callback) {
  if (typeof options === "function") { callback = options; options = {}; }
  options ??= {};
  let called = false;
  const done = (err) => {
    if (called) return;
    called = true;
    cleanup();
    callback.call(stream, err);
  };
  const r = stream._readableState;
  const w = stream._writableState;
  const wantReadable = options.readable ?? (!!r && stream.readable !== false);
  const wantWritable = options.writable ?? (!!w && stream.writable !== false);
  let readableDone = !wantReadable || !!r?.endEmitted;
  let writableDone = !wantWritable || !!w?.finished;
  const onEnd = () => { readableDone = true; if (writableDone) done(); };
  const onFinish = () => { writableDone = true; if (readableDone) done(); };
  const onError = (err) => done(err);
  const onClose = () => {
    if ((wantReadable && !readableDone) || (wantWritable && !writableDone)) {
      const errored = r?.errored ?? w?.errored;
      done(errored ?? nodeStreamError("ERR_STREAM_PREMATURE_CLOSE", "Premature close"));
    } else {
      done();
    }
  };
  stream.on("end", onEnd);
  stream.on("finish", onFinish);
  if (options.error !== false) stream.on("error", onError);
  stream.on("close", onClose);
  const cleanup = () => {
    stream.removeListener("end", onEnd);
    stream.removeListener("finish", onFinish);
    stream.removeListener("error", onError);
    stream.removeListener("close", onClose);
  };
  if (readableDone && writableDone) streamTick(done);
  else if ((r?.errored ?? w?.errored)) streamTick(done, r?.errored ?? w?.errored);
  else if (stream.destroyed && (r?.closed || w?.closed)) streamTick(onClose);
  if (options.signal) {
    const onAbort = () => done(options.signal.reason ?? nodeStreamError("ABORT_ERR", "The operation was aborted"));
    if (options.signal.aborted) streamTick(onAbort);
    else options.signal.addEventListener("abort", onAbort, { once: true });
  }
  return cleanup;
}

function pipeline(...streams) {
  const callback = typeof streams[streams.length - 1] === "function" ? streams.pop() : null;
  if (callback === null) throw nodeStreamError("ERR_INVALID_ARG_TYPE", 'The "streams[stream.length - 1]" argument must be of type function.', TypeError);
  let options = {};
  if (streams.length && !isNodeStream(streams[streams.length - 1]) && typeof streams[streams.length - 1] === "object" &&
    !(streams[streams.length - 1] instanceof ReadableStream) && typeof streams[streams.length - 1][Symbol.asyncIterator] !== "function" &&
    typeof streams[streams.length - 1][Symbol.iterator] !== "function") {
    options = streams.pop();
  }
  if (streams.length === 1 && Array.isArray(streams[0])) streams = streams[0];
  return pipelineImpl(streams, callback, options);
}

function toNodeStage(stage, previous, index, count) {
  if (isNodeStream(stage)) return stage;
  if (stage instanceof ReadableStream) return Readable.fromWeb(stage);
  if (stage instanceof WritableStream) return Writable.fromWeb(stage);
  if (typeof stage === "function") {
    const output = stage(previous ?? undefined, {});
    if (index === count - 1 && typeof output?.then === "function") return output;
    return Readable.from(output);
  }
  if (index === 0) return Readable.from(stage);
  throw nodeStreamError("ERR_INVALID_ARG_TYPE", "A pipeline stage must be a stream, an iterable or a function.", TypeError);
}

function pipelineImpl(streams, callback, options) {
  if (streams.length < 2) throw nodeStreamError("ERR_MISSING_ARGS", 'The "streams" argument must be specified');
  const stages = [];
  let finishedError;
  let doneCalled = false;
  const destroys = [];
  const finish = (err) => {
    if (err && !finishedError) finishedError = err;
    if (doneCalled) return;
    if (err) {
      for (const destroy of destroys) destroy(err);
    }
    pending--;
    if (pending === 0 || err) {
      doneCalled = true;
      streamTick(callback, finishedError, lastValue);
    }
  };
  let pending = 0;
  let lastValue;
  let previous = null;
  for (let i = 0; i < streams.length; i++) {
    // A function stage reads the previous stage itself (it is given it); a stream is piped to.
    const fromFunction = typeof streams[i] === "function";
    const stage = toNodeStage(streams[i], previous, i, streams.length);
    if (typeof stage?.then === "function" && !isNodeStream(stage)) {
      pending++;
      stage.then((value) => { lastValue = value; finish(); }, (err) => finish(err));
      previous = null;
      continue;
    }
    stages.push(stage);
    const isLast = i === streams.length - 1;
    const isFirst = i === 0;
    pending += isLast || isFirst ? 1 : 0;
    if (isLast || isFirst) {
      eos(stage, { readable: !isLast || !stage._writableState, writable: !isFirst }, (err) => {
        if (err && err.code === "ERR_STREAM_PREMATURE_CLOSE" && isFirst && !isLast && stage._readableState?.endEmitted) { finish(); return; }
        finish(err);
      });
    } else {
      eos(stage, { readable: false, writable: false }, (err) => { if (err) finish(err); });
    }
    destroys.push((err) => { if (!stage.destroyed) stage.destroy(err); });
    if (previous && !fromFunction) previous.pipe(stage);
    previous = typeof stage.pipe === "function" ? stage : null;
  }
  if (options.signal) {
    const onAbort = () => finish(options.signal.reason ?? nodeStreamError("ABORT_ERR", "The operation was aborted"));
    if (options.signal.aborted) streamTick(onAbort);
    else options.signal.addEventListener("abort", onAbort, { once: true });
  }
  return stages[stages.length - 1];
}

function addAbortSignal(signal, stream) {
  const onAbort = () => destroyStream(stream, Object.assign(new Error("The operation was aborted"), { name: "AbortError", code: "ABORT_ERR", cause: signal.reason }));
  if (signal.aborted) streamTick(onAbort);
  else signal.addEventListener("abort", onAbort, { once: true });
  return stream;
}

function promisePipeline(...streams) {
  let options;
  const last = streams[streams.length - 1];
  if (last && typeof last === "object" && !isNodeStream(last) && !(last instanceof ReadableStream) && !(last instanceof WritableStream) &&
    typeof last[Symbol.asyncIterator] !== "function" && typeof last[Symbol.iterator] !== "function") {
    options = streams.pop();
  }
  return new Promise((resolve, reject) => {
    pipelineImpl(streams.length === 1 && Array.isArray(streams[0]) ? streams[0] : streams, (err, value) => (err ? reject(err) : resolve(value)), options ?? {});
  });
}

function promiseFinished(stream, options) {
  return new Promise((resolve, reject) => {
    eos(stream, options, (err) => (err ? reject(err) : resolve()));
  });
}

const nodeStreamPromises = { pipeline: promisePipeline, finished: promiseFinished };

// stream/consumers: whole bodies of async iterables (Node streams and web streams alike).
async function* consumeChunks(stream) {
  if (typeof stream?.[Symbol.asyncIterator] === "function") {
    yield* stream;
    return;
  }
  const reader = stream.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    yield value;
  }
}

async function consumeBytes(stream) {
  const parts = [];
  for await (const chunk of consumeChunks(stream)) {
    parts.push(typeof chunk === "string" ? nodeBuffer.Buffer.from(chunk) : chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk));
  }
  return nodeBuffer.Buffer.concat(parts);
}

const nodeStreamConsumers = {
  async arrayBuffer(stream) { const bytes = await consumeBytes(stream); return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength); },
  async blob(stream) { return new Blob([await consumeBytes(stream)]); },
  buffer: consumeBytes,
  async text(stream) {
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of consumeChunks(stream)) text += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    return text + decoder.decode();
  },
  async json(stream) { return JSON.parse(await nodeStreamConsumers.text(stream)); },
};

const nodeStreamWeb = {
  ReadableStream, ReadableStreamDefaultReader, ReadableStreamBYOBReader: globalThis.ReadableStreamBYOBReader,
  ReadableByteStreamController: globalThis.ReadableByteStreamController,
  ReadableStreamDefaultController: globalThis.ReadableStreamDefaultController,
  ReadableStreamBYOBRequest: globalThis.ReadableStreamBYOBRequest,
  TransformStream, TransformStreamDefaultController: globalThis.TransformStreamDefaultController,
  WritableStream, WritableStreamDefaultWriter, WritableStreamDefaultController: globalThis.WritableStreamDefaultController,
  ByteLengthQueuingStrategy, CountQueuingStrategy, TextEncoderStream, TextDecoderStream,
  CompressionStream, DecompressionStream,
};

Object.assign(Stream, {
  Stream, Readable, Writable, Duplex, Transform, PassThrough,
  pipeline, finished: eos, addAbortSignal, promises: nodeStreamPromises, compose,
  isReadable: (s) => !!s && s.readable === true,
  isWritable: (s) => !!s && s.writable === true,
  isErrored: (s) => !!(s?._readableState?.errored ?? s?._writableState?.errored),
  isDisturbed: Readable.isDisturbed,
  isDestroyed: (s) => !!(s?.destroyed ?? s?._readableState?.destroyed ?? s?._writableState?.destroyed),
  destroy: (s, err) => { if (s && typeof s.destroy === "function") s.destroy(err); },
  getDefaultHighWaterMark: (objectMode) => (objectMode ? streamObjectHighWaterMark : streamDefaultHighWaterMark),
  setDefaultHighWaterMark: (objectMode, value) => { if (!objectMode) streamDefaultHighWaterMark = value; },
  duplexPair() {
    const a = new Duplex({ read() {}, write(chunk, enc, cb) { b.push(chunk); cb(); }, final(cb) { b.push(null); cb(); } });
    const b = new Duplex({ read() {}, write(chunk, enc, cb) { a.push(chunk); cb(); }, final(cb) { a.push(null); cb(); } });
    return [a, b];
  },
});
pipeline[Symbol.for("nodejs.util.promisify.custom")] = promisePipeline;
eos[Symbol.for("nodejs.util.promisify.custom")] = promiseFinished;

const nodeStream = Stream;
