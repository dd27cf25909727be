// FormData, and the multipart/form-data and urlencoded encodings bodies use.
function formValue(value, filename) {
  if (value instanceof Blob) {
    if (filename !== undefined) return new File([value], String(filename), { type: value.type });
    if (value instanceof File) return value;
    return new File([value], "blob", { type: value.type });
  }
  return String(value);
}

class FormData {
  #entries = [];
  constructor(form = undefined) {
    if (form !== undefined) throw new TypeError("Failed to construct 'FormData': parameter 1 is not of type 'HTMLFormElement'.");
  }
  append(name, value, filename = undefined) { this.#entries.push([String(name), formValue(value, filename)]); }
  delete(name) { name = String(name); this.#entries = this.#entries.filter(([k]) => k !== name); }
  get(name) { name = String(name); const e = this.#entries.find(([k]) => k === name); return e ? e[1] : null; }
  getAll(name) { name = String(name); return this.#entries.filter(([k]) => k === name).map(([, v]) => v); }
  has(name) { name = String(name); return this.#entries.some(([k]) => k === name); }
  set(name, value, filename = undefined) {
    name = String(name);
    const entry = [name, formValue(value, filename)];
    const i = this.#entries.findIndex(([k]) => k === name);
    if (i < 0) { this.#entries.push(entry); return; }
    this.#entries[i] = entry;
    this.#entries = this.#entries.filter(([k], j) => k !== name || j === i);
  }
  forEach(callback, thisArg = undefined) { for (const [k, v] of this) callback.call(thisArg, v, k, this); }
  *entries() { yield* this.#entries.map(([k, v]) => [k, v]); }
  *keys() { for (const [k] of this.#entries) yield k; }
  *values() { for (const [, v] of this.#entries) yield v; }
  [Symbol.iterator]() { return this.entries(); }
  get [Symbol.toStringTag]() { return "FormData"; }
}

function escapeMultipartName(name) {
  return name.replace(/\r\n|\r|\n/g, "\r\n").replace(/\n/g, "%0A").replace(/\r/g, "%0D").replace(/"/g, "%22");
}

function serializeFormData(form) {
  const boundary = "----KilnFormBoundary" + ops.op_crypto_random_uuid().replace(/-/g, "");
  const chunks = [];
  for (const [name, value] of form) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${escapeMultipartName(name)}"`;
    if (typeof value === "string") {
      chunks.push(textEncoder.encode(`${head}\r\n\r\n${value.replace(/\r(?!\n)|(?<!\r)\n/g, "\r\n")}\r\n`));
    } else {
      head += `; filename="${escapeMultipartName(value.name)}"\r\nContent-Type: ${value.type || "application/octet-stream"}\r\n\r\n`;
      chunks.push(textEncoder.encode(head), value[kBlobBytes], textEncoder.encode("\r\n"));
    }
  }
  chunks.push(textEncoder.encode(`--${boundary}--\r\n`));
  return { bytes: concatBytes(chunks), boundary };
}

function indexOfBytes(haystack, needle, from) {
  outer: for (let i = from; i <= haystack.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function parseFormData(bytes, contentType) {
  const form = new FormData();
  const type = contentType.split(";")[0].trim().toLowerCase();
  if (type === "application/x-www-form-urlencoded") {
    for (const [k, v] of new URLSearchParams(textDecoder.decode(bytes))) form.append(k, v);
    return form;
  }
  if (type !== "multipart/form-data") throw new TypeError("Parsing a Body as FormData requires a Content-Type header.");
  const match = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!match) throw new TypeError("Missing boundary in multipart/form-data Content-Type header.");
  const delimiter = textEncoder.encode(`--${match[1] ?? match[2].trim()}`);
  let pos = indexOfBytes(bytes, delimiter, 0);
  if (pos < 0) throw new TypeError("Failed to parse multipart/form-data body.");
  for (;;) {
    pos += delimiter.length;
    if (bytes[pos] === 0x2d && bytes[pos + 1] === 0x2d) break; // closing "--"
    if (bytes[pos] === 0x0d) pos += 2;
    const headerEnd = indexOfBytes(bytes, textEncoder.encode("\r\n\r\n"), pos);
    if (headerEnd < 0) throw new TypeError("Failed to parse multipart/form-data body.");
    const headerText = textDecoder.decode(bytes.subarray(pos, headerEnd));
    const next = indexOfBytes(bytes, delimiter, headerEnd + 4);
    if (next < 0) throw new TypeError("Failed to parse multipart/form-data body.");
    const content = bytes.subarray(headerEnd + 4, next - 2);
    const disposition = /content-disposition:[^\r\n]*/i.exec(headerText)?.[0] ?? "";
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
    const partType = /content-type:\s*([^\r\n]*)/i.exec(headerText)?.[1] ?? "";
    if (name === undefined) throw new TypeError("Failed to parse multipart/form-data body: a part has no name.");
    if (filename !== undefined) form.append(name, new File([content], filename, { type: partType }));
    else form.append(name, textDecoder.decode(content));
    pos = next;
  }
  return form;
}

Object.defineProperty(globalThis, "FormData", { value: FormData, writable: true, configurable: true, enumerable: false });
