//! Dynamic Workers (`env.LOADER`) through a real node: code loaded at run time with modules of
//! several types and an env; RPC to a named entrypoint with props, cached by id so getCode runs
//! once; `globalOutbound` null and routed to a service; a failing getCode; bindings, Durable
//! Object stubs, `ctx.exports` stubs and functions passed on in its env; the CPU limit.

use crate::util;

const WRANGLER: &str = r#"{
  "name": "loader-suite",
  "main": "index.js",
  "compatibility_date": "2025-01-01",
  "worker_loaders": [{ "binding": "LOADER" }],
  "kv_namespaces": [{ "binding": "KV", "id": "loader-kv" }],
  "services": [{ "binding": "GATEWAY", "service": "loader-suite", "entrypoint": "Gateway", "props": { "tenant": "acme" } }],
  "durable_objects": { "bindings": [{ "name": "TALLY", "class_name": "Tally" }] },
  "migrations": [{ "tag": "v1", "new_sqlite_classes": ["Tally"] }]
}"#;

#[test]
fn dynamic_workers_load_code_at_run_time() {
    let dir = util::project(&[
        ("wrangler.jsonc", WRANGLER),
        ("index.js", include_str!("js/loader_suite.js")),
    ]);
    let node = util::dev(dir.path(), &["--threads", "1"]);
    assert_eq!(node.get("/load"), (200, "hello dyn".into()));
    assert_eq!(node.get("/cjs"), (200, "CJS!".into()));
    assert_eq!(
        node.get("/exports"),
        (
            200,
            r#"{"greeting":"hello ann from ctx.exports","outbound":"gateway saw /via-exports for self"}"#.into()
        )
    );
    let (status, body) = node.get("/rpc");
    assert_eq!(status, 200, "{body}");
    let rpc: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(
        rpc,
        serde_json::json!({ "first": 50, "again": 5, "error": "RangeError: calc failed", "getCodeCalls": 1 })
    );
    assert_eq!(
        node.get("/blocked"),
        (200, "This worker is not permitted to access the internet via global functions like fetch(). It must use capabilities (such as bindings in 'env') to talk to the outside world.".into())
    );
    assert_eq!(
        node.get("/outbound"),
        (200, "gateway saw /secret for acme".into())
    );
    assert_eq!(
        node.get("/fail"),
        (
            200,
            r#"["Code loader failed!","Code loader failed!"]"#.into()
        )
    );
    assert_eq!(
        node.get("/kv"),
        (200, "stored / parent reads stored".into())
    );
    assert_eq!(
        node.get("/env-stubs"),
        (
            200,
            r#"["tally 1","tally 2","hello dyn from parent","callback got 21","tally saw /via-fetch"]"#.into()
        )
    );
    assert_eq!(
        node.get("/cpu"),
        (200, "Worker exceeded CPU time limit.".into())
    );
    assert_eq!(
        node.get("/entrypoint-limits"),
        (
            200,
            r#"{"cpu":"Worker exceeded CPU time limit.","lowerOnEntrypoint":"2 then Too many subrequests.","lowerInCode":"3 then Too many subrequests.","unlimited":"5 made"}"#.into()
        )
    );
    assert_eq!(
        node.get("/bad-module"),
        (
            200,
            "TypeError: Module name must end with '.js' or '.py' when its content is a string"
                .into()
        )
    );
}
