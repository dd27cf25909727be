// TextEncoder, TextDecoder, atob, btoa.
const KilnDecoder = ops.KilnDecoder;

class TextEncoder {
  get encoding() { return "utf-8"; }
  encode(input = "") {
    return ops.op_encoding_encode(String(input).toWellFormed());
  }
  encodeInto(source, destination) {
    if (!(destination instanceof Uint8Array)) throw new TypeError("Failed to execute 'encodeInto' on 'TextEncoder': parameter 2 is not of type 'Uint8Array'.");
    const text = String(source).toWellFormed();
    let read = 0, written = 0;
    const capacity = destination.length;
    for (const ch of text) {
      const cp = ch.codePointAt(0);
      const size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      if (written + size > capacity) break;
      written += size;
      read += ch.length;
    }
    if (written > 0) destination.set(ops.op_encoding_encode(text.slice(0, read)), 0);
    return { read, written };
  }
}

function toBytes(input, what) {
  if (input === undefined) return undefined;
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer || (typeof SharedArrayBuffer !== "undefined" && input instanceof SharedArrayBuffer)) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  throw new TypeError(`${what}: The provided value is not of type '(ArrayBuffer or ArrayBufferView)'.`);
}

class TextDecoder {
  #decoder;
  #fatal;
  #ignoreBOM;
  constructor(label = "utf-8", options = {}) {
    this.#fatal = Boolean(options?.fatal);
    this.#ignoreBOM = Boolean(options?.ignoreBOM);
    const decoder = ops.op_encoding_decoder_new(String(label), this.#fatal, this.#ignoreBOM);
    if (!decoder) throw new RangeError(`Failed to construct 'TextDecoder': The encoding label provided ('${label}') is invalid.`);
    this.#decoder = decoder;
  }
  get encoding() { return this.#decoder.encoding; }
  get fatal() { return this.#fatal; }
  get ignoreBOM() { return this.#ignoreBOM; }
  decode(input = undefined, options = {}) {
    return this.#decoder.decode(toBytes(input, "Failed to execute 'decode' on 'TextDecoder'"), Boolean(options?.stream));
  }
}

function btoa(data) {
  if (arguments.length === 0) throw new TypeError("Failed to execute 'btoa': 1 argument required, but only 0 present.");
  const out = ops.op_encoding_btoa(String(data));
  if (out === null || out === undefined) throw new DOMException("Invalid character", "InvalidCharacterError");
  return out;
}

function atob(data) {
  if (arguments.length === 0) throw new TypeError("Failed to execute 'atob': 1 argument required, but only 0 present.");
  const out = ops.op_encoding_atob(String(data));
  if (out === null || out === undefined) throw new DOMException("The string to be decoded is not correctly encoded.", "InvalidCharacterError");
  return out;
}

Object.assign(globalThis, { TextEncoder, TextDecoder, atob, btoa });
