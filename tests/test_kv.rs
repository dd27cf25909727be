//! Workers KV through a real node: every value type, metadata, listing with prefixes and
//! cursors, Cloudflare's limits and messages, and writes that survive kill -9.

use crate::util;

const WRANGLER: &str = r#"{
  "name": "kv-suite",
  "main": "index.js",
  "compatibility_date": "2025-01-01",
  "kv_namespaces": [{ "binding": "KV", "id": "0f2ac74b498b48028cb68387c421e279" }]
}"#;

fn suite_project() -> tempfile::TempDir {
    util::project(&[
        ("wrangler.jsonc", WRANGLER),
        ("index.js", include_str!("js/kv_suite.js")),
    ])
}

#[test]
fn kv_behaves_as_on_cloudflare() {
    let dir = suite_project();
    let node = util::dev(dir.path(), &[]);
    for check in ["values", "list", "limits"] {
        let (status, body) = node.get(&format!("/check/{check}"));
        assert_eq!((status, body.as_str()), (200, "[]"), "{check}");
    }
}

#[test]
fn acknowledged_kv_writes_survive_kill_9() {
    let dir = suite_project();
    let state = tempfile::tempdir().expect("tempdir");
    let persist = state.path().to_string_lossy().into_owned();
    let node = util::dev(dir.path(), &["--persist-to", &persist]);
    let (status, body) = util::request(
        node.port,
        "POST /put/greeting HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    );
    assert_eq!((status, body.as_str()), (200, "ok"));
    node.kill9();
    let node = util::dev(dir.path(), &["--persist-to", &persist]);
    assert_eq!(node.get("/get/greeting"), (200, "hello".to_owned()));
}

/// `kiln kv key ...` against a running node, with the given namespace arguments.
fn kv_cli(node: &util::Node, state: &std::path::Path, args: &[&str]) -> (bool, String) {
    let mut command = util::kiln();
    command
        .args(["kv", "key"])
        .args(args)
        .args(["--url", &format!("http://127.0.0.1:{}", node.port)])
        .arg("--persist-to")
        .arg(state);
    util::run_to_exit(command)
}

#[test]
fn kv_cli_and_rest_api_share_what_workers_see() {
    let dir = util::project(&[
        ("wrangler.jsonc", WRANGLER),
        (
            "index.js",
            r#"export default { async fetch(request, env) {
                const url = new URL(request.url);
                const key = url.searchParams.get("key");
                if (request.method === "POST") {
                    await env.KV.put(key, await request.text(), { metadata: { by: "worker" } });
                    return new Response("ok");
                }
                return new Response(String(await env.KV.get(key)));
            } };"#,
        ),
    ]);
    let state = tempfile::tempdir().expect("tempdir");
    let persist = state.path().to_string_lossy().into_owned();
    let node = util::dev(dir.path(), &["--persist-to", &persist]);
    let id = ["--namespace-id", "0f2ac74b498b48028cb68387c421e279"];

    // The command line writes, the worker reads; a key needing escapes goes through whole.
    let (ok, out) = kv_cli(
        &node,
        state.path(),
        &[&["put", "from cli/ü?&", "hello"][..], &id].concat(),
    );
    assert!(ok, "{out}");
    assert_eq!(
        node.get("/?key=from%20cli%2F%C3%BC%3F%26"),
        (200, "hello".to_owned())
    );

    // The worker writes (with metadata), the command line reads and lists; --binding finds
    // the namespace in the project's wrangler config.
    let (status, _) = util::request(
        node.port,
        "POST /?key=from-worker HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nworld",
    );
    assert_eq!(status, 200);
    let config_dir = dir.path().to_string_lossy().into_owned();
    let binding = ["--binding", "KV", "--config-dir", &config_dir];
    let (ok, out) = kv_cli(
        &node,
        state.path(),
        &[&["get", "from-worker"][..], &binding].concat(),
    );
    assert!(ok, "{out}");
    assert!(out.ends_with("world"), "{out}");
    let (ok, out) = kv_cli(&node, state.path(), &[&["list"][..], &id].concat());
    assert!(ok, "{out}");
    let listed: serde_json::Value =
        serde_json::from_str(&out[out.find('[').expect("json")..]).expect("json");
    assert_eq!(listed.as_array().map(Vec::len), Some(2), "{out}");
    assert_eq!(listed[1]["name"], "from-worker");
    assert_eq!(listed[1]["metadata"]["by"], "worker");
    let (ok, out) = kv_cli(
        &node,
        state.path(),
        &[&["list", "--prefix", "from-w"][..], &id].concat(),
    );
    assert!(ok, "{out}");
    assert!(
        out.contains("from-worker") && !out.contains("from cli"),
        "{out}"
    );

    // Metadata and a TTL from the command line; a TTL under a minute is refused.
    let (ok, out) = kv_cli(
        &node,
        state.path(),
        &[
            &[
                "put",
                "meta",
                "v",
                "--metadata",
                r#"{"plan":"pro"}"#,
                "--ttl",
                "3600",
            ][..],
            &id,
        ]
        .concat(),
    );
    assert!(ok, "{out}");
    let (ok, out) = kv_cli(
        &node,
        state.path(),
        &[&["list", "--prefix", "meta"][..], &id].concat(),
    );
    assert!(
        ok && out.contains("\"plan\": \"pro\"") && out.contains("expiration"),
        "{out}"
    );
    let (ok, out) = kv_cli(
        &node,
        state.path(),
        &[&["put", "short", "v", "--ttl", "10"][..], &id].concat(),
    );
    assert!(!ok && out.contains("Invalid expiration_ttl of 10"), "{out}");

    // Delete; then get fails with the API's message.
    let (ok, out) = kv_cli(
        &node,
        state.path(),
        &[&["delete", "from cli/ü?&"][..], &id].concat(),
    );
    assert!(ok, "{out}");
    assert_eq!(
        node.get("/?key=from%20cli%2F%C3%BC%3F%26"),
        (200, "null".to_owned())
    );
    let (ok, out) = kv_cli(
        &node,
        state.path(),
        &[&["get", "from cli/ü?&"][..], &id].concat(),
    );
    assert!(!ok && out.contains("key not found"), "{out}");

    // The REST API wants the token, and refuses a key over the limit without writing.
    let path = "/__kiln/api/client/v4/accounts/a/storage/kv/namespaces/0f2ac74b498b48028cb68387c421e279/values/k";
    let (status, _) = util::request(
        node.port,
        &format!(
            "PUT {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nConnection: close\r\n\r\nv"
        ),
    );
    assert_eq!(status, 401);
    let token = std::fs::read_to_string(state.path().join("admin-token")).expect("token");
    let long = "k".repeat(600);
    let (status, body) = util::request(
        node.port,
        &format!(
            "PUT {}{long} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: 1\r\nConnection: close\r\n\r\nv",
            &path[..path.len() - 1],
            token.trim()
        ),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("invalid key"), "{body}");
}
