// CompressionStream and DecompressionStream (gzip, deflate, deflate-raw): TransformStreams over
// a Rust codec (web/compression/mod.rs).
const COMPRESSION_FORMATS = ["gzip", "deflate", "deflate-raw"];

function codecStream(decompress, format, name) {
  format = String(format);
  if (!COMPRESSION_FORMATS.includes(format)) {
    throw new TypeError(`Failed to construct '${name}': Unsupported compression format: '${format}'`);
  }
  const codec = ops.op_compression_new(decompress, format, undefined);
  return new TransformStream({
    transform(chunk, controller) {
      const bytes = bufferSourceBytes(chunk);
      if (bytes === null) throw new TypeError(`${name} only accepts ArrayBuffer or ArrayBufferView chunks.`);
      const out = codec.push(bytes);
      if (out.byteLength) controller.enqueue(new Uint8Array(out));
    },
    flush(controller) {
      const out = codec.finish();
      if (out.byteLength) controller.enqueue(new Uint8Array(out));
    },
  });
}

// What both classes are: a readable and a writable side over one codec.
class CodecStream {
  #stream;
  constructor(decompress, format, name, argumentCount) {
    if (argumentCount === 0) throw new TypeError(`Failed to construct '${name}': 1 argument required, but only 0 present.`);
    this.#stream = codecStream(decompress, format, name);
  }
  get readable() { return this.#stream.readable; }
  get writable() { return this.#stream.writable; }
}

class CompressionStream extends CodecStream {
  constructor(format) { super(false, format, "CompressionStream", arguments.length); }
  get [Symbol.toStringTag]() { return "CompressionStream"; }
}

class DecompressionStream extends CodecStream {
  constructor(format) { super(true, format, "DecompressionStream", arguments.length); }
  get [Symbol.toStringTag]() { return "DecompressionStream"; }
}

for (const [name, value] of [["CompressionStream", CompressionStream], ["DecompressionStream", DecompressionStream]]) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}
