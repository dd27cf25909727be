// The body shared by Request and Response: bytes held in JavaScript, a ReadableStream, or a
// body still streaming in from Rust (a "source", read on demand through ops).
const kBody = Symbol("body");

const sourceRegistry = new FinalizationRegistry((id) => ops.op_body_cancel(id));

class BodyState {
  constructor(kind, value = null) {
    this.kind = kind; // "none" | "bytes" | "stream" | "source"
    this.value = value;
    this.used = false;
    this.source = null; // for a stream wrapping a source: { id, pulled }
  }
}

function sourceStream(state, id) {
  const link = { id, pulled: false, done: false };
  const stream = new ReadableStream({
    type: "bytes",
    async pull(controller) {
      link.pulled = true;
      const chunk = await ops.op_body_read(id);
      if (chunk === undefined) { link.done = true; controller.close(); controller.byobRequest?.respond(0); }
      else controller.enqueue(chunk);
    },
    cancel() { link.done = true; ops.op_body_cancel(id); },
  }, { highWaterMark: 0 });
  state.source = link;
  sourceRegistry.register(stream, id, link);
  return stream;
}

function extractBody(init) {
  if (init === null || init === undefined) return { state: new BodyState("none"), type: null };
  if (typeof init === "string") return { state: new BodyState("bytes", textEncoder.encode(init)), type: "text/plain;charset=UTF-8" };
  if (init instanceof ArrayBuffer || ArrayBuffer.isView(init)) return { state: new BodyState("bytes", bufferSourceBytes(init)), type: null };
  if (init instanceof Blob) return { state: new BodyState("bytes", init[kBlobBytes]), type: init.type || null };
  if (init instanceof URLSearchParams) return { state: new BodyState("bytes", textEncoder.encode(init.toString())), type: "application/x-www-form-urlencoded;charset=UTF-8" };
  if (init instanceof FormData) {
    const { bytes, boundary } = serializeFormData(init);
    return { state: new BodyState("bytes", bytes), type: `multipart/form-data; boundary=${boundary}` };
  }
  if (init instanceof ReadableStream) {
    if (init.locked) throw new TypeError("This ReadableStream is currently locked to a reader.");
    const state = new BodyState("stream", init);
    const link = streamSources.get(init);
    if (link) state.source = link;
    return { state, type: null };
  }
  return { state: new BodyState("bytes", textEncoder.encode(String(init))), type: "text/plain;charset=UTF-8" };
}

// Streams made from a source, so passing one on (`new Response(request.body)`) hands the source
// back to Rust without pumping it through JavaScript.
const streamSources = new WeakMap();

// Streams whose length in bytes is known before they are read (a body made from bytes, a
// FixedLengthStream, an R2 object's body): a response with one goes out with Content-Length,
// as workerd sends it, rather than chunked.
const knownLengths = new WeakMap();

function bodyStream(state) {
  switch (state.kind) {
    case "none": return null;
    case "stream": return state.value;
    case "bytes": {
      const bytes = state.value;
      state.kind = "stream";
      state.value = new ReadableStream({
        type: "bytes",
        start(controller) { if (bytes.byteLength) controller.enqueue(bytes.slice()); controller.close(); },
      });
      knownLengths.set(state.value, bytes.byteLength);
      return state.value;
    }
    case "source": {
      const stream = sourceStream(state, state.value);
      streamSources.set(stream, state.source);
      state.kind = "stream";
      state.value = stream;
      return stream;
    }
  }
}

function bodyUsed(state) {
  if (state.used) return true;
  return state.kind === "stream" && state.value.locked;
}

async function readAllBytes(state, what) {
  if (state.used) throw new TypeError(`Body has already been used. It can only be used once. Use tee() first if you need to read it twice.`);
  if (state.kind === "stream" && state.value.locked) throw new TypeError("This ReadableStream is currently locked to a reader.");
  state.used = true;
  switch (state.kind) {
    case "none": return new Uint8Array(0);
    case "bytes": return state.value;
    case "source": return new Uint8Array(await ops.op_body_read_all(state.value));
    case "stream": {
      if (state.source && !state.source.pulled) {
        return new Uint8Array(await ops.op_body_read_all(state.source.id));
      }
      const reader = state.value.getReader();
      const chunks = [];
      let total = 0;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const bytes = typeof value === "string" ? textEncoder.encode(value) : byteChunk(value);
        chunks.push(bytes);
        total += bytes.byteLength;
      }
      return concatBytes(chunks, total);
    }
  }
}

function cloneBody(state) {
  switch (state.kind) {
    case "none": return new BodyState("none");
    case "bytes": return new BodyState("bytes", state.value);
    default: {
      const stream = bodyStream(state);
      const [a, b] = stream.tee();
      state.value = a;
      state.source = null;
      return new BodyState("stream", b);
    }
  }
}

// Methods every body-bearing class has; `this[kBody]` is its BodyState.
const BodyMixin = {
  get body() { return bodyStream(this[kBody]); },
  get bodyUsed() { return bodyUsed(this[kBody]); },
  async arrayBuffer() {
    const bytes = await readAllBytes(this[kBody]);
    return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer;
  },
  async bytes() { return (await readAllBytes(this[kBody])).slice(); },
  async text() { return textDecoder.decode(await readAllBytes(this[kBody])); },
  async json() { return JSON.parse(await this.text()); },
  async blob() {
    const bytes = await readAllBytes(this[kBody]);
    return new Blob([bytes], { type: this.headers.get("content-type") ?? "" });
  },
  async formData() {
    const type = this.headers.get("content-type") ?? "";
    const bytes = await readAllBytes(this[kBody]);
    return parseFormData(bytes, type);
  },
};

function mixBody(cls) {
  for (const key of Object.getOwnPropertyNames(BodyMixin)) {
    Object.defineProperty(cls.prototype, key, Object.getOwnPropertyDescriptor(BodyMixin, key));
  }
}

// What Rust receives for an outgoing body: null, bytes, a source id, or a chunk pump.
function bodyForRust(state) {
  if (state.used) throw new TypeError("Body has already been used. It can only be used once. Use tee() first if you need to read it twice.");
  switch (state.kind) {
    case "none": return null;
    case "bytes": state.used = true; return state.value;
    case "source": state.used = true; return state.value;
    case "stream": {
      state.used = true;
      if (state.source && !state.source.pulled && !state.value.locked) return state.source.id;
      const length = knownLengths.get(state.value);
      const reader = state.value.getReader();
      return {
        length,
        async next() {
          const { value, done } = await reader.read();
          if (done) return undefined;
          if (typeof value === "string") throw new TypeError("This ReadableStream did not return bytes.");
          return byteChunk(value);
        },
        cancel(reason) { reader.cancel(reason).catch(() => {}); },
      };
    }
  }
}
