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
