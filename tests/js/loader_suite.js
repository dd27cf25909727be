// Dynamic Workers driven from a parent worker: each route loads code at run time.
import { DurableObject, WorkerEntrypoint } from "cloudflare:workers";

export class Tally extends DurableObject {
  async add() {
    const n = ((await this.ctx.storage.get("n")) ?? 0) + 1;
    await this.ctx.storage.put("n", n);
    return `tally ${n}`;
  }
  fetch(request) { return new Response(`tally saw ${new URL(request.url).pathname}`); }
}

let getCodeCalls = 0;

const CALC = `
import { WorkerEntrypoint } from "cloudflare:workers";
export class Calc extends WorkerEntrypoint {
  add(a, b) { return (a + b) * this.ctx.props.scale; }
  fail() { throw new RangeError("calc failed"); }
}
export default { fetch() { return new Response("calc"); } };
`;

export class Gateway extends WorkerEntrypoint {
  async fetch(request) {
    return new Response(`gateway saw ${new URL(request.url).pathname} for ${this.ctx.props.tenant}`);
  }
}

function code(main, extra = {}) {
  return { compatibilityDate: "2025-01-01", mainModule: "index.js", modules: { "index.js": main }, ...extra };
}

export class Greeter extends WorkerEntrypoint {
  greet(name) { return `hello ${name} from ${this.ctx.props.who ?? "nobody"}`; }
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    try {
      switch (url.pathname) {
        case "/load": {
          const worker = env.LOADER.load(code(
            `import greeting from "./greeting.txt";
             export default { fetch(req, env) { return new Response(greeting + " " + env.NAME); } };`,
            { env: { NAME: "dyn" }, modules: {
              "index.js": `import greeting from "./greeting.txt";
                export default { fetch(req, env) { return new Response(greeting + " " + env.NAME); } };`,
              "greeting.txt": { text: "hello" },
            } },
          ));
          return worker.getEntrypoint().fetch("http://dynamic/");
        }
        case "/cjs": {
          const worker = env.LOADER.load({
            compatibilityDate: "2025-01-01",
            mainModule: "index.js",
            modules: {
              "index.js": `import lib from "./lib.cjs"; export default { fetch() { return new Response(lib.shout("cjs")); } };`,
              "lib.cjs": { cjs: `const { suffix } = require("./suffix.cjs"); module.exports = { shout: (s) => s.toUpperCase() + suffix };` },
              "suffix.cjs": { cjs: `exports.suffix = "!";` },
            },
          });
          return worker.getEntrypoint().fetch("http://dynamic/");
        }
        case "/rpc": {
          const stub = env.LOADER.get("calc-v1", () => {
            getCodeCalls++;
            return code(CALC);
          });
          const calc = stub.getEntrypoint("Calc", { props: { scale: 10 } });
          const first = await calc.add(2, 3);
          const again = await env.LOADER.get("calc-v1", () => { getCodeCalls++; return code(CALC); })
            .getEntrypoint("Calc", { props: { scale: 1 } }).add(2, 3);
          let error;
          try { await calc.fail(); } catch (err) { error = `${err.name}: ${err.message}`; }
          return Response.json({ first, again, error, getCodeCalls });
        }
        case "/exports": {
          // ctx.exports: this worker's own entrypoints, with props; one as a Dynamic Worker's
          // outbound.
          const greeting = await ctx.exports.Greeter({ props: { who: "ctx.exports" } }).greet("ann");
          const worker = env.LOADER.load(code(
            `export default { async fetch() { return fetch("http://anywhere.example/via-exports"); } };`,
            { globalOutbound: ctx.exports.Gateway({ props: { tenant: "self" } }) },
          ));
          const outbound = await (await worker.getEntrypoint().fetch("http://dynamic/")).text();
          return Response.json({ greeting, outbound });
        }
        case "/blocked": {
          const worker = env.LOADER.load(code(
            `export default { async fetch() {
               try { await fetch("http://127.0.0.1:1/"); return new Response("reached"); }
               catch (err) { return new Response(err.message); } } };`,
            { globalOutbound: null },
          ));
          return worker.getEntrypoint().fetch("http://dynamic/");
        }
        case "/outbound": {
          const worker = env.LOADER.load(code(
            `export default { async fetch() { return fetch("http://anywhere.example/secret"); } };`,
            { globalOutbound: env.GATEWAY },
          ));
          return worker.getEntrypoint().fetch("http://dynamic/");
        }
        case "/fail": {
          const worker = env.LOADER.get(null, () => { throw new Error("Code loader failed!"); });
          const entry = worker.getEntrypoint();
          const messages = [];
          for (let i = 0; i < 2; i++) {
            try { await entry.fetch("http://dynamic/"); } catch (err) { messages.push(err.message); }
          }
          return Response.json(messages);
        }
        case "/kv": {
          const worker = env.LOADER.load(code(
            `export default { async fetch(req, env) {
               await env.STORE.put("from-dynamic", "stored");
               return new Response(await env.STORE.get("from-dynamic")); } };`,
            { env: { STORE: env.KV } },
          ));
          const body = await (await worker.getEntrypoint().fetch("http://dynamic/")).text();
          return new Response(`${body} / parent reads ${await env.KV.get("from-dynamic")}`);
        }
        case "/env-stubs": {
          const worker = env.LOADER.load(code(
            `export default { async fetch(req, env) {
               const out = [await env.TALLY.add(), await env.TALLY.add(), await env.GREETER.greet("dyn"), await env.CALLBACK(20)];
               out.push(await (await env.TALLY.fetch("http://tally/via-fetch")).text());
               return Response.json(out); } };`,
            { env: { TALLY: env.TALLY.getByName("env-stubs"), GREETER: ctx.exports.Greeter({ props: { who: "parent" } }), CALLBACK: (x) => `callback got ${x + 1}` } },
          ));
          return worker.getEntrypoint().fetch("http://dynamic/");
        }
        case "/cpu": {
          const worker = env.LOADER.load(code(
            `export default { fetch() { for (;;) {} } };`,
            { limits: { cpuMs: 50 } },
          ));
          try { await worker.getEntrypoint().fetch("http://dynamic/"); return new Response("finished?"); }
          catch (err) { return new Response(err.message); }
        }
        case "/entrypoint-limits": {
          // The lower of the loader's and the entrypoint's limits wins.
          const looping = env.LOADER.load(code(`export default { fetch() { for (;;) {} } };`));
          let cpu;
          try { await looping.getEntrypoint(null, { limits: { cpuMs: 50 } }).fetch("http://dynamic/"); cpu = "finished?"; }
          catch (err) { cpu = err.message; }
          const fetcher = (limit) => env.LOADER.load(code(
            `export default { async fetch() {
               let made = 0;
               try { for (let i = 0; i < 5; i++) { await fetch("http://out/" + i); made++; } }
               catch (err) { return new Response(made + " then " + err.message); }
               return new Response(made + " made"); } };`,
            { limits: { subRequests: limit }, globalOutbound: ctx.exports.Gateway({ props: { tenant: "limits" } }) },
          ));
          const lowerOnEntrypoint = await (await fetcher(4).getEntrypoint(null, { limits: { subRequests: 2 } }).fetch("http://d/")).text();
          const lowerInCode = await (await fetcher(3).getEntrypoint(null, { limits: { subRequests: 10 } }).fetch("http://d/")).text();
          const unlimited = await (await fetcher(undefined).getEntrypoint(null, { limits: {} }).fetch("http://d/")).text();
          return Response.json({ cpu, lowerOnEntrypoint, lowerInCode, unlimited });
        }
        case "/bad-module": {
          try {
            await env.LOADER.load(code("x", { modules: { "index.js": "x", "lib.ts": "export {}" } })).getEntrypoint().fetch("http://d/");
          } catch (err) { return new Response(`${err.name}: ${err.message.split(":")[0]}`); }
          return new Response("accepted");
        }
      }
    } catch (err) {
      return new Response(`${err.name}: ${err.message}`, { status: 500 });
    }
    return new Response("not found", { status: 404 });
  },
};
