// Headers: a case-insensitive multimap with WHATWG Fetch validation and iteration order.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const kGuard = Symbol("guard");
const kList = Symbol("list");

// Header names already validated, to their lowercase form: most code uses a few names over
// and over, and a Map lookup is much cheaper than the regular expression. Bounded.
const VALID_NAMES = new Map();
const VALID_NAMES_MAX = 1024;

function isHttpWhitespace(code) {
  return code === 9 || code === 10 || code === 13 || code === 32;
}
function normalizeValue(value) {
  value = String(value);
  const n = value.length;
  if (n === 0 || (!isHttpWhitespace(value.charCodeAt(0)) && !isHttpWhitespace(value.charCodeAt(n - 1)))) {
    return value;
  }
  return value.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, "");
}
function checkName(name) {
  if (typeof name === "string") {
    const known = VALID_NAMES.get(name);
    if (known !== undefined) return known;
  }
  name = String(name);
  if (!TOKEN.test(name)) throw new TypeError(`Invalid header name: '${name}'`);
  const lower = name.toLowerCase();
  if (VALID_NAMES.size < VALID_NAMES_MAX) VALID_NAMES.set(name, lower);
  return lower;
}
function checkValue(value) {
  value = normalizeValue(value);
  if (value.indexOf("\n") !== -1 || value.indexOf("\r") !== -1 || value.indexOf("\0") !== -1) {
    throw new TypeError(`Invalid header value: '${value}'`);
  }
  return value;
}

class Headers {
  // Flat [lowercase name, value, name, value, ...] in insertion order: the shape Rust sends and
  // takes, so headers passed through a worker are never rebuilt.
  [kList] = [];
  [kGuard] = "none";
  constructor(init = undefined) {
    if (init === undefined || init === null) return;
    if (init instanceof Headers) {
      this[kList] = init[kList].slice();
    } else if (typeof init === "object" && typeof init[Symbol.iterator] === "function") {
      for (const pair of init) {
        const entry = [...pair];
        if (entry.length !== 2) throw new TypeError("Failed to construct 'Headers': Invalid value");
        this.append(entry[0], entry[1]);
      }
    } else if (typeof init === "object") {
      for (const key of Object.keys(init)) this.append(key, init[key]);
    } else {
      throw new TypeError("Failed to construct 'Headers': The provided value is not of type '(record<ByteString, ByteString> or sequence<sequence<ByteString>>)'.");
    }
  }
  #mutable() {
    if (this[kGuard] === "immutable") throw new TypeError("Can't modify immutable headers.");
  }
  append(name, value) {
    this.#mutable();
    this[kList].push(checkName(name), checkValue(value));
  }
  delete(name) {
    this.#mutable();
    const key = checkName(name);
    this[kList] = withoutName(this[kList], key, -1);
  }
  get(name) {
    const key = checkName(name);
    const list = this[kList];
    let found = null;
    for (let i = 0; i < list.length; i += 2) {
      if (list[i] === key) found = found === null ? list[i + 1] : `${found}, ${list[i + 1]}`;
    }
    return found;
  }
  getAll(name) {
    const key = checkName(name);
    if (key !== "set-cookie") throw new TypeError("getAll() can only be used with the header name \"Set-Cookie\".");
    return this.getSetCookie();
  }
  getSetCookie() {
    const list = this[kList];
    const cookies = [];
    for (let i = 0; i < list.length; i += 2) if (list[i] === "set-cookie") cookies.push(list[i + 1]);
    return cookies;
  }
  has(name) {
    const key = checkName(name);
    const list = this[kList];
    for (let i = 0; i < list.length; i += 2) if (list[i] === key) return true;
    return false;
  }
  set(name, value) {
    this.#mutable();
    const key = checkName(name);
    value = checkValue(value);
    const list = this[kList];
    let i = 0;
    while (i < list.length && list[i] !== key) i += 2;
    if (i === list.length) { list.push(key, value); return; }
    list[i + 1] = value;
    this[kList] = withoutName(list, key, i);
  }
  forEach(callback, thisArg = undefined) {
    for (const [k, v] of this) callback.call(thisArg, v, k, this);
  }
  *entries() {
    const list = this[kList];
    const seen = new Set();
    for (let i = 0; i < list.length; i += 2) seen.add(list[i]);
    const names = [...seen].sort();
    for (const name of names) {
      if (name === "set-cookie") {
        for (const v of this.getSetCookie()) yield [name, v];
      } else {
        yield [name, this.get(name)];
      }
    }
  }
  *keys() { for (const [k] of this.entries()) yield k; }
  *values() { for (const [, v] of this.entries()) yield v; }
  [Symbol.iterator]() { return this.entries(); }
  get [Symbol.toStringTag]() { return "Headers"; }
}

// `list` without the entries named `key`, except the one at index `keep`.
function withoutName(list, key, keep) {
  const out = [];
  for (let i = 0; i < list.length; i += 2) {
    if (list[i] !== key || i === keep) out.push(list[i], list[i + 1]);
  }
  return out;
}

// Headers from a flat list Rust built from parsed HTTP (names lowercase, values valid). The
// list becomes the headers' own.
function headersFromList(list, guard = "none") {
  const headers = new Headers();
  headers[kList] = list;
  headers[kGuard] = guard;
  return headers;
}

// Flattens headers to [name, value, name, value, ...] for Rust (which copies them at once).
function headersToList(headers) {
  return headers[kList];
}

Object.defineProperty(globalThis, "Headers", { value: Headers, writable: true, configurable: true, enumerable: false });
