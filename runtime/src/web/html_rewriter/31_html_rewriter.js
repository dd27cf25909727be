// HTMLRewriter: rewrites HTML as it streams, on lol_html (see runtime/src/web/html_rewriter).
// lol_html calls back into `hrDispatch` for every matched token; the handler gets an object that
// records the mutations asked of it, and Rust applies them to lol_html's token as soon as the
// handler returns. A token is valid only while its handler runs, as on Cloudflare.
const HR_ELEMENT = 0;
const HR_COMMENTS = 1;
const HR_TEXT = 2;
const HR_DOCTYPE = 3;
const HR_DOCUMENT_COMMENTS = 4;
const HR_DOCUMENT_TEXT = 5;
const HR_DOCUMENT_END = 6;
const HR_END_TAG = 7;
const HR_HAS_ELEMENT = 1;
const HR_HAS_COMMENTS = 2;
const HR_HAS_TEXT = 4;
const HR_HAS_DOCTYPE = 8;
const HR_HAS_END = 16;
const kHrCreate = Symbol("htmlRewriterCreate");
// Input one transform keeps for replaying after a handler that waited on I/O, and how many
// such handlers it replays for.
const HR_REPLAY_BYTES_MAX = 16 * 1024 * 1024;
const HR_REPLAYS_MAX = 10000;
const HR_REPLAY_TOO_LARGE = `An HTMLRewriter content handler waited on I/O after more than ${HR_REPLAY_BYTES_MAX} bytes of input; Kiln replays the input to apply such a handler, and keeps at most that much.`;
const HR_INVALID_TOKEN = "This content token is no longer valid. Content tokens are only valid during the execution of the relevant content handler.";

// What every content token shares: the mutations recorded so far, and whether its handler is
// still running.
class HrToken {
  #ops = [];
  #valid = true;
  constructor(token) {
    if (token !== kHrCreate) throw new TypeError("Illegal constructor");
  }
  static record(token, op) {
    if (!token.#valid) throw new TypeError(HR_INVALID_TOKEN);
    token.#ops.push(op);
    return token;
  }
  static check(token) {
    if (!token.#valid) throw new TypeError(HR_INVALID_TOKEN);
  }
  static finish(token) {
    token.#valid = false;
    return token.#ops;
  }
}

function hrContent(name, content, options) {
  return [name, String(content), Boolean(options?.html)];
}

function hrCheckTagName(name) {
  if (name === "") throw new TypeError("Tag name can't be empty.");
  if (!/^[A-Za-z]/.test(name)) throw new TypeError("The first character of the tag name should be an ASCII alphabetical character.");
  const bad = /[ \n\r\t\f/>]/.exec(name);
  if (bad) throw new TypeError(`\`${bad[0]}\` character is forbidden in the tag name`);
}

function hrCheckAttributeName(name) {
  if (name === "") throw new TypeError("Attribute name can't be empty.");
  const bad = /[ \n\r\t\f/>=]/.exec(name);
  if (bad) throw new TypeError(`\`${bad[0]}\` character is forbidden in the attribute name`);
}

function hrCheckCommentText(text) {
  if (/-->|--!>/.test(text) || text.startsWith(">") || text.startsWith("->")) {
    throw new TypeError("Comment text shouldn't contain a comment-closing sequence.");
  }
}

class Element extends HrToken {
  #state;
  #tagName;
  #attributes;
  #removed;
  #canHaveContent;
  #selfClosing;
  #namespaceURI;
  constructor(token, state, tagName, attributeList, flags, namespaceURI) {
    super(token);
    this.#state = state;
    this.#tagName = tagName;
    this.#attributes = [];
    for (let i = 0; i + 1 < attributeList.length; i += 2) this.#attributes.push([attributeList[i], attributeList[i + 1]]);
    this.#removed = (flags & 1) !== 0;
    this.#canHaveContent = (flags & 2) !== 0;
    this.#selfClosing = (flags & 4) !== 0;
    this.#namespaceURI = namespaceURI;
  }
  get tagName() { HrToken.check(this); return this.#tagName; }
  set tagName(name) {
    name = String(name);
    hrCheckTagName(name);
    HrToken.record(this, ["tagName", name]);
    this.#tagName = name.toLowerCase();
  }
  get attributes() { HrToken.check(this); return this.#attributes.map(([name, value]) => [name, value])[Symbol.iterator](); }
  get namespaceURI() { HrToken.check(this); return this.#namespaceURI; }
  get removed() { HrToken.check(this); return this.#removed; }
  get selfClosing() { HrToken.check(this); return this.#selfClosing; }
  get canHaveContent() { HrToken.check(this); return this.#canHaveContent; }
  getAttribute(name) {
    HrToken.check(this);
    name = String(name).toLowerCase();
    const found = this.#attributes.find(([n]) => n.toLowerCase() === name);
    return found ? found[1] : null;
  }
  hasAttribute(name) {
    HrToken.check(this);
    name = String(name).toLowerCase();
    return this.#attributes.some(([n]) => n.toLowerCase() === name);
  }
  setAttribute(name, value) {
    name = String(name);
    value = String(value);
    hrCheckAttributeName(name);
    HrToken.record(this, ["setAttribute", name, value]);
    const lower = name.toLowerCase();
    const found = this.#attributes.find(([n]) => n.toLowerCase() === lower);
    if (found) found[1] = value; else this.#attributes.push([lower, value]);
    return this;
  }
  removeAttribute(name) {
    name = String(name);
    HrToken.record(this, ["removeAttribute", name]);
    const lower = name.toLowerCase();
    this.#attributes = this.#attributes.filter(([n]) => n.toLowerCase() !== lower);
    return this;
  }
  before(content, options = undefined) { return HrToken.record(this, hrContent("before", content, options)); }
  after(content, options = undefined) { return HrToken.record(this, hrContent("after", content, options)); }
  prepend(content, options = undefined) { return HrToken.record(this, hrContent("prepend", content, options)); }
  append(content, options = undefined) { return HrToken.record(this, hrContent("append", content, options)); }
  setInnerContent(content, options = undefined) { return HrToken.record(this, hrContent("setInnerContent", content, options)); }
  replace(content, options = undefined) {
    HrToken.record(this, hrContent("replace", content, options));
    this.#removed = true;
    return this;
  }
  remove() {
    HrToken.record(this, ["remove"]);
    this.#removed = true;
    return this;
  }
  removeAndKeepContent() {
    HrToken.record(this, ["removeAndKeepContent"]);
    this.#removed = true;
    return this;
  }
  onEndTag(handler) {
    HrToken.check(this);
    if (typeof handler !== "function") throw new TypeError("Failed to execute 'onEndTag' on 'Element': parameter 1 is not a function.");
    if (!this.#canHaveContent) throw new TypeError(`${this.#tagName} can't have content`);
    const id = this.#state.nextEndTag++;
    this.#state.endTags.set(id, handler);
    HrToken.record(this, ["onEndTag", id]);
  }
  get [Symbol.toStringTag]() { return "Element"; }
}

class EndTag extends HrToken {
  #name;
  constructor(token, name) {
    super(token);
    this.#name = name;
  }
  get name() { HrToken.check(this); return this.#name; }
  set name(name) {
    name = String(name);
    hrCheckTagName(name);
    HrToken.record(this, ["name", name]);
    this.#name = name.toLowerCase();
  }
  before(content, options = undefined) { return HrToken.record(this, hrContent("before", content, options)); }
  after(content, options = undefined) { return HrToken.record(this, hrContent("after", content, options)); }
  replace(content, options = undefined) { return HrToken.record(this, hrContent("replace", content, options)); }
  remove() { return HrToken.record(this, ["remove"]); }
  get [Symbol.toStringTag]() { return "EndTag"; }
}

class Text extends HrToken {
  #text;
  #lastInTextNode;
  #removed;
  constructor(token, text, flags) {
    super(token);
    this.#text = text;
    this.#lastInTextNode = (flags & 1) !== 0;
    this.#removed = (flags & 2) !== 0;
  }
  get text() { HrToken.check(this); return this.#text; }
  get lastInTextNode() { HrToken.check(this); return this.#lastInTextNode; }
  get removed() { HrToken.check(this); return this.#removed; }
  before(content, options = undefined) { return HrToken.record(this, hrContent("before", content, options)); }
  after(content, options = undefined) { return HrToken.record(this, hrContent("after", content, options)); }
  replace(content, options = undefined) {
    HrToken.record(this, hrContent("replace", content, options));
    this.#removed = true;
    return this;
  }
  remove() {
    HrToken.record(this, ["remove"]);
    this.#removed = true;
    return this;
  }
  get [Symbol.toStringTag]() { return "Text"; }
}

class Comment extends HrToken {
  #text;
  #removed;
  constructor(token, text, removed) {
    super(token);
    this.#text = text;
    this.#removed = Boolean(removed);
  }
  get text() { HrToken.check(this); return this.#text; }
  set text(text) {
    text = String(text);
    hrCheckCommentText(text);
    HrToken.record(this, ["text", text]);
    this.#text = text;
  }
  get removed() { HrToken.check(this); return this.#removed; }
  before(content, options = undefined) { return HrToken.record(this, hrContent("before", content, options)); }
  after(content, options = undefined) { return HrToken.record(this, hrContent("after", content, options)); }
  replace(content, options = undefined) {
    HrToken.record(this, hrContent("replace", content, options));
    this.#removed = true;
    return this;
  }
  remove() {
    HrToken.record(this, ["remove"]);
    this.#removed = true;
    return this;
  }
  get [Symbol.toStringTag]() { return "Comment"; }
}

class Doctype extends HrToken {
  #name;
  #publicId;
  #systemId;
  #removed = false;
  constructor(token, name, publicId, systemId) {
    super(token);
    this.#name = name ?? null;
    this.#publicId = publicId ?? null;
    this.#systemId = systemId ?? null;
  }
  get name() { HrToken.check(this); return this.#name; }
  get publicId() { HrToken.check(this); return this.#publicId; }
  get systemId() { HrToken.check(this); return this.#systemId; }
  get removed() { HrToken.check(this); return this.#removed; }
  remove() {
    HrToken.record(this, ["remove"]);
    this.#removed = true;
    return this;
  }
  get [Symbol.toStringTag]() { return "Doctype"; }
}

class DocumentEnd extends HrToken {
  append(content, options = undefined) { return HrToken.record(this, hrContent("append", content, options)); }
  get [Symbol.toStringTag]() { return "DocumentEnd"; }
}

// Runs one handler on `token`; returns the mutations, or a promise of them for an async handler.
function hrRun(token, handler, thisArg) {
  let result;
  try {
    result = handler.call(thisArg, token);
  } catch (err) {
    HrToken.finish(token);
    throw err;
  }
  if (result !== null && (typeof result === "object" || typeof result === "function") && typeof result.then === "function") {
    return Promise.resolve(result).then(() => HrToken.finish(token), (err) => { HrToken.finish(token); throw err; });
  }
  return HrToken.finish(token);
}

function hrDispatch(state, kind, index, a, b, c, d) {
  switch (kind) {
    case HR_ELEMENT: {
      const handlers = state.selectors[index];
      return hrRun(new Element(kHrCreate, state, a, b, c, d), handlers.element, handlers);
    }
    case HR_COMMENTS: {
      const handlers = state.selectors[index];
      return hrRun(new Comment(kHrCreate, a, b), handlers.comments, handlers);
    }
    case HR_TEXT: {
      const handlers = state.selectors[index];
      return hrRun(new Text(kHrCreate, a, b), handlers.text, handlers);
    }
    case HR_DOCTYPE: {
      const handlers = state.documents[index];
      return hrRun(new Doctype(kHrCreate, a, b, c), handlers.doctype, handlers);
    }
    case HR_DOCUMENT_COMMENTS: {
      const handlers = state.documents[index];
      return hrRun(new Comment(kHrCreate, a, b), handlers.comments, handlers);
    }
    case HR_DOCUMENT_TEXT: {
      const handlers = state.documents[index];
      return hrRun(new Text(kHrCreate, a, b), handlers.text, handlers);
    }
    case HR_DOCUMENT_END: {
      const handlers = state.documents[index];
      return hrRun(new DocumentEnd(kHrCreate), handlers.end, handlers);
    }
    case HR_END_TAG: {
      const handler = state.endTags.get(index);
      state.endTags.delete(index);
      if (handler === undefined) return [];
      return hrRun(new EndTag(kHrCreate, a), handler, undefined);
    }
  }
  throw new TypeError(`unknown HTMLRewriter event ${kind}`);
}

function hrHas(handlers, names) {
  let bits = 0;
  for (const [name, bit] of names) if (typeof handlers?.[name] === "function") bits |= bit;
  return bits;
}

function hrCharset(contentType) {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? "");
  return match ? match[1] : undefined;
}

class HTMLRewriter {
  #selectors = [];
  #documents = [];
  on(selector, handlers) {
    selector = String(selector);
    if (handlers === null || typeof handlers !== "object" && typeof handlers !== "function") {
      throw new TypeError("Failed to execute 'on' on 'HTMLRewriter': parameter 2 is not of type 'ElementHandlers'.");
    }
    ops.op_html_rewriter_check_selector(selector);
    this.#selectors.push([selector, handlers]);
    return this;
  }
  onDocument(handlers) {
    if (handlers === null || typeof handlers !== "object" && typeof handlers !== "function") {
      throw new TypeError("Failed to execute 'onDocument' on 'HTMLRewriter': parameter 1 is not of type 'DocumentHandlers'.");
    }
    this.#documents.push(handlers);
    return this;
  }
  transform(response) {
    if (!(response instanceof Response)) throw new TypeError("Failed to execute 'transform' on 'HTMLRewriter': parameter 1 is not of type 'Response'.");
    const init = { status: response.status, statusText: response.statusText, headers: new Headers(response.headers), cf: response.cf };
    if (response.webSocket || NULL_BODY_STATUSES.has(response.status)) {
      return new Response(null, { ...init, webSocket: response.webSocket });
    }
    init.headers.delete("content-length");
    const state = {
      selectors: this.#selectors.map(([, handlers]) => handlers),
      documents: [...this.#documents],
      endTags: new Map(),
      nextEndTag: 1,
    };
    const selectors = this.#selectors.map(([selector]) => selector);
    const newRewriter = () => ops.op_html_rewriter_new(
      selectors,
      state.selectors.map((h) => hrHas(h, [["element", HR_HAS_ELEMENT], ["comments", HR_HAS_COMMENTS], ["text", HR_HAS_TEXT]])),
      state.documents.map((h) => hrHas(h, [["doctype", HR_HAS_DOCTYPE], ["comments", HR_HAS_COMMENTS], ["text", HR_HAS_TEXT], ["end", HR_HAS_END]])),
      hrCharset(response.headers.get("content-type")),
    );
    let rewriter = newRewriter();
    // Handlers that waited on I/O are replayed (see html_rewriter/mod.rs): the input so far is
    // kept (up to HR_REPLAY_BYTES_MAX), and every handler call's mutations are recorded in call
    // order, so a replay gives them back instead of running the handler again.
    const replay = { chunks: [], bytes: 0, results: [], calls: 0, count: 0 };
    const dispatch = (kind, index, a, b, c, d) => {
      const call = replay.calls++;
      if (call < replay.results.length) return replay.results[call];
      const result = hrDispatch(state, kind, index, a, b, c, d);
      if (Array.isArray(result)) {
        // Past the replay limit nothing is replayed any more, so nothing is recorded.
        if (replay.chunks !== null) replay.results.push(result);
        return result;
      }
      return result.then((mutations) => {
        replay.results[call] = mutations;
        return mutations;
      });
    };
    const input = response.body;
    const reader = input === null ? null : input.getReader();
    let inputDone = reader === null;
    const stop = (reason) => {
      rewriter.free();
      if (reader !== null && !inputDone) reader.cancel(reason).catch(() => {});
    };
    let sent = 0; // output bytes enqueued so far
    let skip = 0; // output bytes a replay writes again, not to be sent twice
    const emit = (controller, out) => {
      let bytes = out;
      if (skip > 0) {
        const dropped = Math.min(skip, bytes.byteLength);
        skip -= dropped;
        bytes = bytes.subarray(dropped);
      }
      const length = bytes.byteLength;
      if (length === 0) return false;
      controller.enqueue(bytes); // (transfers, so detaches, the buffer)
      sent += length;
      return true;
    };
    // Runs one write (or the end) and, while a handler's promise is pending, awaits it and
    // replays everything so far through a new rewriter.
    const step = async (controller, last) => {
      let result = last ? rewriter.end(dispatch) : rewriter.write(pendingChunk, dispatch);
      let emitted = false;
      while (Array.isArray(result)) {
        emitted = emit(controller, result[0]) || emitted;
        await result[1];
        if (replay.chunks === null) throw new TypeError(HR_REPLAY_TOO_LARGE);
        if (++replay.count > HR_REPLAYS_MAX) throw new TypeError(`An HTMLRewriter may wait on I/O in at most ${HR_REPLAYS_MAX} content handlers.`);
        rewriter.free();
        rewriter = newRewriter();
        replay.calls = 0;
        skip = sent;
        result = null;
        for (const chunk of replay.chunks) {
          result = rewriter.write(chunk, dispatch);
          if (Array.isArray(result)) break;
          emitted = emit(controller, result) || emitted;
        }
        if (!Array.isArray(result) && last) result = rewriter.end(dispatch);
        if (result === null) result = new Uint8Array(0);
      }
      return emit(controller, result) || emitted;
    };
    let pendingChunk = null;
    const output = new ReadableStream({
      type: "bytes",
      async pull(controller) {
        try {
          for (;;) {
            if (inputDone) {
              await step(controller, true);
              controller.close();
              controller.byobRequest?.respond(0);
              return;
            }
            const { value, done } = await reader.read();
            if (done) { inputDone = true; continue; }
            const chunk = typeof value === "string" ? textEncoder.encode(value) : byteChunk(value);
            if (replay.chunks !== null) {
              replay.bytes += chunk.byteLength;
              if (replay.bytes > HR_REPLAY_BYTES_MAX) replay.chunks = null;
              else replay.chunks.push(chunk.slice());
            }
            pendingChunk = chunk;
            if (await step(controller, false)) return;
          }
        } catch (err) {
          stop(err);
          throw err;
        }
      },
      cancel(reason) { stop(reason); },
    }, { highWaterMark: 0 });
    return new Response(output, init);
  }
  get [Symbol.toStringTag]() { return "HTMLRewriter"; }
}

Object.defineProperty(globalThis, "HTMLRewriter", { value: HTMLRewriter, writable: true, configurable: true, enumerable: false });
