// Scenarios f and g's worker: every `/isolate/<id>` request goes to the Dynamic Worker loaded
// under <id>, always the same code. A new <id> makes the runtime start a new isolate of a
// script it has already compiled (f: cold start; g: memory per idle isolate); a known <id>
// reaches the isolate it already has (f's warm baseline).
const CHILD = `export default {
  fetch(request) {
    return new Response("hello from " + new URL(request.url).pathname);
  },
};
`;

function code() {
  return {
    compatibilityDate: "2025-01-01",
    mainModule: "child.js",
    modules: { "child.js": CHILD },
    globalOutbound: null,
  };
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/") return new Response("ok");
    const m = url.pathname.match(/^\/isolate\/([\w-]{1,64})$/);
    if (!m) return new Response("not found", { status: 404 });
    const worker = env.LOADER.get(m[1], code);
    return worker.getEntrypoint().fetch(request);
  },
};
