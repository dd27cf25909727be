//! Service bindings between two workers run by one `kiln dev`: fetch and JS RPC to a named
//! `WorkerEntrypoint` with `ctx.props`, errors that keep their class, and a worker calling
//! its own default export.

use crate::util;

const GATEWAY: &str = r#"
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    try {
      if (url.pathname === "/rpc") return Response.json(await env.AUTH.check("ok"));
      if (url.pathname === "/denied") return Response.json(await env.AUTH.check("bad"));
      if (url.pathname === "/fetch") return env.AUTH.fetch("http://auth/hello");
      if (url.pathname === "/throws") await env.AUTH.explode();
      if (url.pathname === "/missing") await env.AUTH.nope();
      if (url.pathname === "/private") await env.AUTH.secret();
      if (url.pathname === "/self") return env.SELF.fetch("http://self/inner");
      if (url.pathname === "/inner") return new Response("inner");
    } catch (err) {
      return new Response(`${err.name}: ${err.message}`, { status: 500 });
    }
    return new Response("not found", { status: 404 });
  },
};
"#;

const AUTH: &str = r#"
import { WorkerEntrypoint } from "cloudflare:workers";
export class Auth extends WorkerEntrypoint {
  secret = () => "instance fields are not callable";
  async check(token) {
    return token === "ok" ? { user: "ann", tenant: this.ctx.props.tenant } : null;
  }
  explode() {
    throw new RangeError("out of range");
  }
  async fetch(request) {
    return new Response(`auth says hi to ${this.ctx.props.tenant} at ${new URL(request.url).pathname}`);
  }
}
export default { fetch() { return new Response("auth default"); } };
"#;

#[test]
fn service_bindings_reach_another_worker_by_fetch_and_rpc() {
    let gateway = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "gateway", "main": "index.js", "compatibility_date": "2025-01-01",
                 "services": [
                   { "binding": "AUTH", "service": "auth", "entrypoint": "Auth", "props": { "tenant": "acme" } },
                   { "binding": "SELF", "service": "gateway" }
                 ] }"#,
        ),
        ("index.js", GATEWAY),
    ]);
    let auth = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "auth", "main": "index.js", "compatibility_date": "2025-01-01" }"#,
        ),
        ("index.js", AUTH),
    ]);
    let auth_dir = auth.path().to_string_lossy().into_owned();
    let node = util::dev(gateway.path(), &[&auth_dir]);
    assert_eq!(
        node.get("/rpc"),
        (200, r#"{"user":"ann","tenant":"acme"}"#.into())
    );
    assert_eq!(node.get("/denied"), (200, "null".into()));
    assert_eq!(
        node.get("/fetch"),
        (200, "auth says hi to acme at /hello".into())
    );
    assert_eq!(
        node.get("/throws"),
        (500, "RangeError: out of range".into())
    );
    assert_eq!(
        node.get("/missing"),
        (
            500,
            "TypeError: The RPC receiver does not implement the method \"nope\".".into()
        )
    );
    assert_eq!(
        node.get("/private"),
        (
            500,
            "TypeError: The RPC receiver does not implement the method \"secret\".".into()
        )
    );
    assert_eq!(node.get("/self"), (200, "inner".into()));
}

#[test]
fn subrequests_past_the_limit_throw() {
    let dir = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "counted", "main": "index.js", "compatibility_date": "2025-01-01",
                 "limits": { "subrequests": 3 },
                 "services": [{ "binding": "SELF", "service": "counted" }] }"#,
        ),
        (
            "index.js",
            r#"export default {
              async fetch(request, env) {
                if (new URL(request.url).pathname === "/leaf") return new Response("leaf");
                const seen = [];
                for (let i = 0; i < 4; i++) {
                  try { seen.push(await (await env.SELF.fetch("http://self/leaf")).text()); }
                  catch (err) { seen.push(`${err.name}: ${err.message}`); }
                }
                return Response.json(seen);
              },
            };"#,
        ),
    ]);
    let node = util::dev(dir.path(), &[]);
    assert_eq!(
        node.get("/"),
        (
            200,
            r#"["leaf","leaf","leaf","Error: Too many subrequests."]"#.into()
        )
    );
    // The count is per invocation: the next request starts afresh.
    assert_eq!(
        node.get("/").1,
        r#"["leaf","leaf","leaf","Error: Too many subrequests."]"#
    );
}

#[test]
fn a_durable_object_binding_reaches_another_workers_class_through_script_name() {
    let front = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "front", "main": "index.js", "compatibility_date": "2025-01-01",
                 "durable_objects": { "bindings": [
                   { "name": "TALLY", "class_name": "Tally", "script_name": "back" }
                 ] } }"#,
        ),
        (
            "index.js",
            r#"export default {
  async fetch(request, env) {
    const stub = env.TALLY.getByName("shared");
    const viaRpc = await stub.add(2);
    const viaFetch = await (await stub.fetch("http://tally/")).text();
    return Response.json([viaRpc, viaFetch, env.TALLY.idFromName("shared").toString().length]);
  },
};"#,
        ),
    ]);
    let back = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "back", "main": "index.js", "compatibility_date": "2025-01-01",
                 "migrations": [{ "tag": "v1", "new_sqlite_classes": ["Tally"] }] }"#,
        ),
        (
            "index.js",
            r#"import { DurableObject } from "cloudflare:workers";
export class Tally extends DurableObject {
  add(n) {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t (n INTEGER)");
    this.ctx.storage.sql.exec("INSERT INTO t VALUES (?)", n);
    return this.ctx.storage.sql.exec("SELECT sum(n) AS s FROM t").one().s;
  }
  fetch() {
    return new Response(String(this.ctx.storage.sql.exec("SELECT count(*) AS c FROM t").one().c));
  }
}
export default { fetch() { return new Response("back"); } };"#,
        ),
    ]);
    let back_dir = back.path().to_string_lossy().into_owned();
    let node = util::dev(front.path(), &[&back_dir]);
    assert_eq!(node.get("/"), (200, "[2,\"1\",64]".into()));
    assert_eq!(node.get("/"), (200, "[4,\"2\",64]".into()));
    drop(node);

    // Without the other worker, the binding is a startup error naming what is missing.
    let (ok, log) = util::dev_until_exit(front.path());
    assert!(!ok);
    assert!(log.contains("names the worker \"back\""), "{log}");
}

#[test]
fn request_cf_travels_with_a_request_to_an_object_and_a_service() {
    let dir = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "cf-fwd", "main": "index.js", "compatibility_date": "2025-01-01",
                 "services": [{ "binding": "SELF", "service": "cf-fwd", "entrypoint": "Echo" }],
                 "durable_objects": { "bindings": [{ "name": "OBJ", "class_name": "Obj" }] },
                 "migrations": [{ "tag": "v1", "new_sqlite_classes": ["Obj"] }] }"#,
        ),
        (
            "index.js",
            r#"import { DurableObject, WorkerEntrypoint } from "cloudflare:workers";
const describe = (request) => [request.cf?.colo ?? null, request.cf?.httpProtocol ?? null, request.cf?.custom ?? null];
export class Obj extends DurableObject { fetch(request) { return Response.json(describe(request)); } }
export class Echo extends WorkerEntrypoint { fetch(request) { return Response.json(describe(request)); } }
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/object") return env.OBJ.getByName("a").fetch(request);
    if (url.pathname === "/service") return env.SELF.fetch(request);
    if (url.pathname === "/read-first") { request.cf.colo; return env.OBJ.getByName("a").fetch(request); }
    if (url.pathname === "/own") return env.OBJ.getByName("a").fetch(new Request(request.url, { cf: { custom: 7 } }));
    return env.OBJ.getByName("a").fetch("http://x/built");
  },
};"#,
        ),
    ]);
    let node = util::dev(dir.path(), &[]);
    for path in ["/object", "/service", "/read-first"] {
        assert_eq!(
            node.get(path),
            (200, r#"["KLN","HTTP/1.1",null]"#.into()),
            "{path}"
        );
    }
    assert_eq!(node.get("/own"), (200, "[null,null,7]".into()));
    assert_eq!(node.get("/built"), (200, "[null,null,null]".into()));
}
