// Blob and File: immutable byte sequences with a MIME type.
function bufferSourceBytes(part) {
  if (part instanceof ArrayBuffer) return new Uint8Array(part.slice(0));
  if (ArrayBuffer.isView(part)) return new Uint8Array(part.buffer.slice(part.byteOffset, part.byteOffset + part.byteLength));
  return null;
}

function concatBytes(chunks, total) {
  if (total === undefined) total = chunks.reduce((n, c) => n + c.byteLength, 0);
  if (chunks.length === 1 && chunks[0].byteLength === total) return chunks[0];
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) { out.set(chunk, offset); offset += chunk.byteLength; }
  return out;
}

const kBlobBytes = Symbol("blobBytes");
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

class Blob {
  #bytes;
  #type;
  constructor(parts = [], options = {}) {
    if (parts === null || typeof parts !== "object" || typeof parts[Symbol.iterator] !== "function") {
      throw new TypeError("Failed to construct 'Blob': The provided value cannot be converted to a sequence.");
    }
    const chunks = [];
    for (const part of parts) {
      if (part instanceof Blob) chunks.push(part[kBlobBytes]);
      else chunks.push(bufferSourceBytes(part) ?? textEncoder.encode(String(part)));
    }
    this.#bytes = concatBytes(chunks);
    const type = options?.type === undefined ? "" : String(options.type);
    this.#type = /^[\x20-\x7e]*$/.test(type) ? type.toLowerCase() : "";
  }
  get [kBlobBytes]() { return this.#bytes; }
  get size() { return this.#bytes.byteLength; }
  get type() { return this.#type; }
  slice(start = 0, end = this.size, contentType = "") {
    const size = this.size;
    const rel = (v) => (v < 0 ? Math.max(size + v, 0) : Math.min(v, size));
    const from = rel(Math.trunc(Number(start) || 0));
    const to = rel(Math.trunc(end === undefined ? size : Number(end) || 0));
    const blob = new Blob([], { type: contentType });
    blob.#bytes = this.#bytes.slice(from, Math.max(from, to));
    return blob;
  }
  async arrayBuffer() { return this.#bytes.slice().buffer; }
  async bytes() { return this.#bytes.slice(); }
  async text() { return textDecoder.decode(this.#bytes); }
  stream() {
    const bytes = this.#bytes;
    return new ReadableStream({
      type: "bytes",
      start(controller) {
        if (bytes.byteLength) controller.enqueue(bytes.slice());
        controller.close();
      },
    });
  }
  get [Symbol.toStringTag]() { return "Blob"; }
}

class File extends Blob {
  #name;
  #lastModified;
  constructor(parts, name, options = {}) {
    if (arguments.length < 2) throw new TypeError("Failed to construct 'File': 2 arguments required, but only " + arguments.length + " present.");
    super(parts, options);
    this.#name = String(name);
    this.#lastModified = options?.lastModified === undefined ? Date.now() : Number(options.lastModified);
  }
  get name() { return this.#name; }
  get lastModified() { return this.#lastModified; }
  get [Symbol.toStringTag]() { return "File"; }
}

for (const [name, value] of Object.entries({ Blob, File })) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}
