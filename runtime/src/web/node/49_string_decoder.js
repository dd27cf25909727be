// node:string_decoder: bytes in, text out, holding back a character split across chunks.
class StringDecoder {
  #decoder;
  #encoding;
  constructor(encoding = "utf8") {
    const name = String(encoding).toLowerCase().replace("-", "");
    this.#encoding = name === "utf8" ? "utf8" : name;
    const label = { utf8: "utf-8", utf16le: "utf-16le", ucs2: "utf-16le", latin1: "latin1", binary: "latin1", ascii: "latin1" }[name];
    this.#decoder = label === undefined ? null : new TextDecoder(label);
  }
  get encoding() { return this.#encoding; }
  write(chunk) {
    if (typeof chunk === "string") return chunk;
    if (this.#decoder === null) return nodeBuffer.Buffer.from(chunk).toString(this.#encoding);
    return this.#decoder.decode(chunk, { stream: true });
  }
  end(chunk = undefined) {
    const head = chunk === undefined ? "" : this.write(chunk);
    return this.#decoder === null ? head : head + this.#decoder.decode();
  }
}
const nodeStringDecoder = { StringDecoder };
