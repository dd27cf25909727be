// HTMLRewriter tests, run inside a Kiln isolate by tests/html_rewriter.rs: GET /<name> runs one
// test and answers "ok" or the failure.
function assert(cond, message) { if (!cond) throw new Error("assertion failed: " + message); }
function eq(actual, expected, message = "") {
  if (actual !== expected) throw new Error(`${message} expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
function throws(fn, cls, message) {
  try { fn(); } catch (err) { assert(err instanceof cls, `${message}: threw ${err}`); return err; }
  throw new Error(`${message}: did not throw`);
}
async function rejects(promise, message) {
  try { await promise; } catch (err) { return err; }
  throw new Error(`${message}: did not throw`);
}
const html = (body, init = {}) => new Response(body, { ...init, headers: { "content-type": "text/html; charset=utf-8", ...init.headers } });
const rewrite = (rewriter, body) => rewriter.transform(html(body)).text();

export const tests = {
  async attributes() {
    const seen = [];
    const out = await rewrite(new HTMLRewriter().on("a[href]", {
      element(el) {
        eq(el.tagName, "a");
        eq(el.hasAttribute("href"), true);
        eq(el.getAttribute("HREF"), "http://example.com/", "case-insensitive");
        eq(el.getAttribute("missing"), null);
        seen.push([...el.attributes].map(([n, v]) => `${n}=${v}`).join(" "));
        el.setAttribute("href", el.getAttribute("href").replace("http:", "https:"));
        el.removeAttribute("target");
        el.setAttribute("rel", "noopener");
        eq(el.getAttribute("rel"), "noopener", "a set attribute reads back");
        eq(el.hasAttribute("target"), false, "a removed attribute is gone");
      },
    }), '<a href="http://example.com/" target="_blank">x</a><a>no href</a>');
    eq(out, '<a href="https://example.com/" rel="noopener">x</a><a>no href</a>');
    eq(seen.join("|"), "href=http://example.com/ target=_blank");
  },
  async element_content() {
    const out = await rewrite(new HTMLRewriter()
      .on("#replace", { element(el) { el.replace("<b>new</b>", { html: true }); } })
      .on("#remove", { element(el) { el.remove(); eq(el.removed, true); } })
      .on("#keep", { element(el) { el.removeAndKeepContent(); } })
      .on("#around", { element(el) { el.before("<i>", { html: true }).after("</i>", { html: true }).prepend("[").append("]"); } })
      .on("#inner", { element(el) { el.setInnerContent("<escaped>"); } })
      .on("#rename", { element(el) { el.tagName = "section"; } }),
      '<p id="replace">old</p><p id="remove">gone <span>too</span></p><div id="keep"><em>kept</em></div>'
      + '<span id="around">x</span><div id="inner"><p>old</p></div><div id="rename">r</div>');
    eq(out, '<b>new</b><em>kept</em><i><span id="around">[x]</span></i><div id="inner">&lt;escaped&gt;</div><section id="rename">r</section>');
  },
  async text_replacement() {
    let buffered = "";
    const out = await rewrite(new HTMLRewriter().on("h1", {
      text(chunk) {
        buffered += chunk.text;
        if (chunk.lastInTextNode) chunk.replace(buffered.toUpperCase());
        else chunk.remove();
      },
    }), "<h1>hello world</h1><p>untouched</p>");
    eq(out, "<h1>HELLO WORLD</h1><p>untouched</p>");
  },
  async document_handlers() {
    const seen = [];
    const out = await rewrite(new HTMLRewriter().onDocument({
      doctype(d) { seen.push(`doctype:${d.name}:${d.publicId}`); },
      comments(c) { seen.push(`comment:${c.text}`); if (c.text === " secret ") c.remove(); else c.text = "changed"; },
      text(t) { if (t.text.includes("swap")) t.replace("swapped"); },
      end(end) { end.append("<!-- appended -->", { html: true }); end.append("<&>"); },
    }), "<!DOCTYPE html><!-- secret --><p>swap<!--x--></p>");
    eq(out, "<!DOCTYPE html><p>swapped<!--changed--></p><!-- appended -->&lt;&amp;&gt;");
    eq(seen.join("|"), "doctype:html:null|comment: secret |comment:x");
  },
  async element_comments_and_end_tags() {
    const out = await rewrite(new HTMLRewriter().on("div", {
      comments(c) { c.replace("[comment]"); },
      element(el) {
        el.onEndTag((end) => {
          eq(end.name, "div");
          end.before("!", { html: false });
          end.after("<hr>", { html: true });
        });
      },
    }).on("br", {
      element(el) {
        eq(el.canHaveContent, false);
        throws(() => el.onEndTag(() => {}), TypeError, "a void element has no end tag");
      },
    }), "<div>a<!-- c --></div><br><!-- outside -->");
    eq(out, "<div>a[comment]!</div><hr><br><!-- outside -->");
  },
  async append_to_end_of_document() {
    const out = await rewrite(new HTMLRewriter().onDocument({
      end(end) { end.append("<script>analytics()</script>", { html: true }); },
    }), "<html><body>page</body></html>");
    eq(out, "<html><body>page</body></html><script>analytics()</script>");
  },
  async selector_errors() {
    const err = throws(() => new HTMLRewriter().on("p:hover", { element() {} }), TypeError, "unsupported pseudo-class");
    assert(err.message.length > 0, "lol_html's message");
    throws(() => new HTMLRewriter().on("div[", {}), TypeError, "malformed selector");
    throws(() => new HTMLRewriter().on("", {}), TypeError, "empty selector");
    new HTMLRewriter().on("div > p.a#b[c^=d]:not(.e):nth-child(2n+1)", {});
  },
  async invalid_mutations() {
    let kept = null;
    const out = await rewrite(new HTMLRewriter().on("p", {
      element(el) {
        throws(() => el.setAttribute("a b", "x"), TypeError, "attribute name with a space");
        throws(() => { el.tagName = "1p"; }, TypeError, "tag name starting with a digit");
        kept = el;
      },
    }).onDocument({ comments(c) { throws(() => { c.text = "-->"; }, TypeError, "comment end"); } }),
      "<p>x</p><!--c-->");
    eq(out, "<p>x</p><!--c-->");
    throws(() => kept.setAttribute("late", "1"), TypeError, "a token outlives its handler");
    throws(() => kept.tagName, TypeError, "reading a stale token");
  },
  async handler_errors_error_the_body() {
    const boom = new RangeError("boom");
    const response = new HTMLRewriter().on("p", { element() { throw boom; } }).transform(html("<p>x</p>"));
    const err = await rejects(response.text(), "a throwing handler");
    eq(err, boom, "the handler's own error");
  },
  async async_handlers() {
    const out = await rewrite(new HTMLRewriter().on("p", {
      async element(el) {
        await null;
        await Promise.resolve();
        el.setAttribute("data-async", "yes");
      },
    }), "<p>x</p>");
    eq(out, '<p data-async="yes">x</p>');
    // Handlers that wait on a timer (as on fetch or KV): each runs once, in document order, and
    // its mutations land where its token was; the input arrives in several chunks.
    const calls = [];
    const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    const encoder = new TextEncoder();
    const parts = ["<html><head><title>old</title></head><body>", "<p id=a>a</p><p id=b>b", "</p><span>s</span><!--c--></body></html>"];
    const body = new ReadableStream({ pull(c) { if (parts.length) c.enqueue(encoder.encode(parts.shift())); else c.close(); } });
    const waited = await new HTMLRewriter()
      .on("title", { async element(el) { calls.push("title"); await wait(5); el.setInnerContent("from-timer"); } })
      .on("p", {
        async element(el) {
          const id = el.getAttribute("id");
          calls.push(id);
          await wait(2);
          el.setAttribute("data-waited", id);
          el.onEndTag(async (end) => { calls.push(`/${id}`); await wait(1); end.after(`<i>${id}</i>`, { html: true }); });
        },
      })
      .on("span", { element(el) { calls.push("span"); el.append("!"); } })
      .onDocument({ async comments(c) { calls.push("comment"); await wait(1); c.replace("<!--replaced-->", { html: true }); } })
      .transform(html(body))
      .text();
    eq(waited, '<html><head><title>from-timer</title></head><body><p id=a data-waited="a">a</p><i>a</i><p id=b data-waited="b">b</p><i>b</i><span>s!</span><!--replaced--></body></html>');
    eq(calls.join(","), "title,a,/a,b,/b,span,comment", "each handler ran once, in order");
    const failing = new HTMLRewriter().on("p", {
      async element() { await wait(1); throw new RangeError("handler failed late"); },
    }).transform(html("<p>x</p>"));
    const err = await rejects(failing.text(), "a handler that throws after waiting");
    assert(err instanceof RangeError && err.message === "handler failed late", String(err));
  },
  async streams_chunk_by_chunk() {
    const encoder = new TextEncoder();
    let input;
    const stream = new ReadableStream({ start(c) { input = c; } });
    const response = new HTMLRewriter().on("p", { element(el) { el.setAttribute("class", "x"); } })
      .transform(new Response(stream, { status: 201, headers: { "content-type": "text/html", "content-length": "99", "x-kept": "1" } }));
    eq(response.status, 201);
    eq(response.headers.get("x-kept"), "1");
    eq(response.headers.get("content-length"), null, "the length changes");
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    input.enqueue(encoder.encode("<p>first</p><p"));
    const first = await reader.read();
    eq(decoder.decode(first.value), '<p class="x">first</p>', "output before the input ends");
    input.enqueue(encoder.encode(">sec"));
    input.enqueue(encoder.encode("ond</p>"));
    input.close();
    let rest = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += decoder.decode(value, { stream: true });
    }
    eq(rest, '<p class="x">second</p>');
  },
  async reuse_and_unicode() {
    const rewriter = new HTMLRewriter().on("span", { element(el) { el.setInnerContent("✓ ünïcödé"); } });
    eq(await rewrite(rewriter, "<span>a</span>"), "<span>✓ ünïcödé</span>");
    eq(await rewrite(rewriter, "<p>日本語</p><span>b</span>"), "<p>日本語</p><span>✓ ünïcödé</span>", "a second transform");
    eq(await new HTMLRewriter().transform(new Response(null)).text(), "", "no body");
    const latin1 = await new HTMLRewriter().on("p", { element(el) { el.append("é"); } })
      .transform(new Response(new Uint8Array([0x3c, 0x70, 0x3e, 0xe9, 0x3c, 0x2f, 0x70, 0x3e]), { headers: { "content-type": "text/html; charset=iso-8859-1" } }))
      .arrayBuffer();
    eq([...new Uint8Array(latin1)].join(","), "60,112,62,233,233,60,47,112,62", "the body's charset is kept");
  },
};

export default {
  async fetch(request) {
    const name = new URL(request.url).pathname.slice(1);
    if (name === "") return Response.json(Object.keys(tests));
    try {
      await tests[name]();
      return new Response("ok");
    } catch (err) {
      return new Response(`${err}\n${err?.stack ?? ""}`, { status: 500 });
    }
  },
};
