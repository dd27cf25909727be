// Scenarios f, g and h's worker. `/isolate/<id>` goes to the Dynamic Worker loaded under <id>,
// always the same code: a new <id> makes the runtime start a new isolate of a script it has
// already compiled (f: cold start; g: memory per idle isolate), a known <id> reaches the
// isolate it already has (f's warm baseline). `/new/<id>` loads code never seen before (h).
const CHILD = `export default {
  fetch(request) {
    return new Response("hello from " + new URL(request.url).pathname);
  },
};
`;

// `variant` makes the source text new (h: code never seen before must be compiled).
function code(variant = "") {
  return {
    compatibilityDate: "2025-01-01",
    mainModule: "child.js",
    modules: { "child.js": variant ? `// ${variant}\n${CHILD}` : CHILD },
    globalOutbound: null,
  };
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/") return new Response("ok");
    const m = url.pathname.match(/^\/(isolate|new)\/([\w-]{1,64})$/);
    if (!m) return new Response("not found", { status: 404 });
    // /isolate/<id>: the same code under <id> (cached per id); /new/<id>: new code, loaded
    // without an id (LOADER.load), so nothing is cached.
    if (m[1] === "isolate") return env.LOADER.get(m[2], () => code()).getEntrypoint().fetch(request);
    // h also reports, in `x-load-ms`, the time from LOADER.load() to the Dynamic Worker's
    // response as the parent sees it: the load itself, without the HTTP request around it.
    // (workerd's clock advances only across I/O, so its figure is coarse.)
    const started = performance.now();
    const response = await env.LOADER.load(code(m[2])).getEntrypoint().fetch(request);
    const elapsed = performance.now() - started;
    const headers = new Headers(response.headers);
    headers.set("x-load-ms", elapsed.toFixed(3));
    return new Response(response.body, { status: response.status, headers });
  },
};
