//! Module imports, wrangler's module rules and the `cloudflare:workers` module.
mod util;

use kiln_runtime::ModuleKind;

#[tokio::test]
async fn relative_imports_and_module_rules() {
    let worker = util::worker(&[
        (
            "src/index.js",
            ModuleKind::EsModule,
            r#"import { greet } from "./lib/greet.js";
               import text from "../assets/hello.txt";
               import data from "../assets/blob.bin";
               import config from "./config.json" with { type: "json" };
               import { greet as bare } from "./lib/greet";
               import { name } from "./lib";
               export default { fetch() {
                 if (bare !== greet || name !== "lib index") throw new Error("bundler-style specifiers");
                 return new Response([greet("kiln"), text.trim(), new Uint8Array(data).join("-"), config.answer].join("|"));
               } };"#,
        ),
        (
            "src/lib/greet.js",
            ModuleKind::EsModule,
            "export const greet = (n) => `hi ${n}`;",
        ),
        (
            "src/lib/index.js",
            ModuleKind::EsModule,
            "export const name = \"lib index\";",
        ),
        ("assets/hello.txt", ModuleKind::Text, "text module\n"),
        ("assets/blob.bin", ModuleKind::Data, "\u{1}\u{2}"),
        ("src/config.json", ModuleKind::Json, r#"{"answer": 42}"#),
    ]);
    let (status, body) = util::get(&worker, "http://t/").await.expect("answers");
    assert_eq!((status, body.as_str()), (200, "hi kiln|text module|1-2|42"));
}

#[tokio::test]
async fn missing_module_fails_startup_clearly() {
    let worker =
        util::js(r#"import "./nope.js"; export default { fetch() { return new Response("x"); } }"#);
    let err = util::runtime().load(&worker).await.expect_err("fails");
    assert!(
        err.to_string().contains("No such module \"nope.js\""),
        "{err}"
    );
}

#[tokio::test]
async fn wasm_import_says_quickjs_has_no_webassembly() {
    let worker = util::worker(&[
        (
            "index.js",
            ModuleKind::EsModule,
            r#"import m from "./m.wasm"; export default { fetch() { return new Response("x"); } }"#,
        ),
        ("m.wasm", ModuleKind::Wasm, "\0asm"),
    ]);
    let err = util::runtime().load(&worker).await.expect_err("fails");
    assert!(err.to_string().contains("no WebAssembly"), "{err}");
}

#[tokio::test]
async fn worker_entrypoint_class_and_env() {
    let mut env = serde_json::Map::new();
    env.insert("NAME".into(), serde_json::Value::String("from env".into()));
    let worker = util::worker_with(
        &[(
            "index.js",
            ModuleKind::EsModule,
            r#"import { WorkerEntrypoint, env as importedEnv } from "cloudflare:workers";
               export default class extends WorkerEntrypoint {
                 async fetch(request) {
                   this.ctx.waitUntil(Promise.resolve());
                   return new Response(this.env.NAME + "|" + importedEnv.NAME);
                 }
               }"#,
        )],
        kiln_runtime::WorkerLimits::default(),
        env,
    );
    let (status, body) = util::get(&worker, "http://t/").await.expect("answers");
    assert_eq!((status, body.as_str()), (200, "from env|from env"));
}

#[tokio::test]
async fn request_body_streams_in_and_response_streams_out() {
    let worker = util::js(
        r#"export default { async fetch(request) {
             const { readable, writable } = new TransformStream();
             (async () => {
               const w = writable.getWriter();
               const enc = new TextEncoder();
               await w.write(enc.encode("got:"));
               await w.write(enc.encode(await request.text()));
               await w.close();
             })();
             return new Response(readable);
           } }"#,
    );
    let (status, body) = util::send_body(&worker, "POST", "payload")
        .await
        .expect("answers");
    assert_eq!((status, body.as_str()), (200, "got:payload"));
}

#[tokio::test]
async fn passthrough_of_request_body() {
    let worker =
        util::js(r#"export default { fetch(request) { return new Response(request.body); } }"#);
    let (status, body) = util::send_body(&worker, "PUT", "echo me")
        .await
        .expect("answers");
    assert_eq!((status, body.as_str()), (200, "echo me"));
}

#[tokio::test]
async fn commonjs_modules_require_and_are_imported() {
    let worker = util::worker(&[
        (
            "src/index.js",
            ModuleKind::EsModule,
            r#"import lib from "./lib.cjs";
               import main from "./cjs-main.js";
               export default { fetch() {
                 return Response.json([lib.greet("kiln"), lib.answer, lib.text.trim(), lib.same, main.kind, lib.missing, lib.esm]);
               } };"#,
        ),
        (
            "src/lib.cjs",
            ModuleKind::CommonJs,
            r#"const data = require("./data.json");
               const helper = require("./helper");
               exports.greet = (name) => `${helper.prefix} ${name}`;
               exports.answer = data.answer;
               exports.text = require("../assets/note.txt");
               exports.same = require("./helper") === helper && module.exports === exports;
               try { require("./nope"); } catch (err) { exports.missing = err.code; }
               try { require("./index.js"); } catch (err) { exports.esm = err.code; }"#,
        ),
        (
            "src/helper.cjs",
            ModuleKind::CommonJs,
            r#"module.exports = { prefix: "hello" };"#,
        ),
        (
            "src/cjs-main.js",
            ModuleKind::CommonJs,
            r#"module.exports = { kind: typeof module + " " + typeof __dirname };"#,
        ),
        ("src/data.json", ModuleKind::Json, r#"{"answer": 42}"#),
        ("assets/note.txt", ModuleKind::Text, "a note\n"),
    ]);
    let (status, body) = util::get(&worker, "http://t/").await.expect("answers");
    assert_eq!(
        (status, body.as_str()),
        (
            200,
            r#"["hello kiln",42,"a note",true,"object string","MODULE_NOT_FOUND","ERR_REQUIRE_ESM"]"#
        )
    );
}

#[tokio::test]
async fn cloudflare_modules_a_bundle_imports_are_there_and_ctx_props_is_assignable() {
    let worker = util::js(
        r#"import { WorkerEntrypoint, exports } from "cloudflare:workers";
           import { EmailMessage } from "cloudflare:email";
           import { NonRetryableError } from "cloudflare:workflows";
           import { connect } from "cloudflare:sockets";
           export class Greeter extends WorkerEntrypoint {
             hello(name) { return `hello ${name}`; }
           }
           export default { async fetch(request, env, ctx) {
             ctx.props = { tag: "assigned" };
             const out = [
               await exports.Greeter.hello("x"),
               typeof exports.default.fetch,
               "Greeter" in exports,
               ctx.props.tag,
               new EmailMessage("a@example.com", "b@example.com", "raw").to,
               new NonRetryableError("stop").name,
             ];
             try { await connect("127.0.0.1:1").opened; } catch (err) { out.push(err.message); }
             return Response.json(out);
           } };"#,
    );
    let (status, body) = util::get(&worker, "http://t/").await.expect("answers");
    assert_eq!(status, 200, "{body}");
    let got: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(
        got,
        serde_json::json!([
            "hello x",
            "function",
            true,
            "assigned",
            "b@example.com",
            "NonRetryableError",
            "proxy request failed, cannot connect to the specified address"
        ])
    );
}
