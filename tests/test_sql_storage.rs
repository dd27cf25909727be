//! SQL storage of Durable Objects (`ctx.storage.sql`, `transactionSync`, `storage.kv`) through a
//! real `kiln dev` process: Cloudflare's API, messages and limits, and SQL writes that survive
//! kill -9 like key-value writes (their pages commit in the same fsynced batches).

use std::time::Instant;

use crate::util;

const WRANGLER: &str = r#"{
  "name": "sql-suite",
  "main": "index.js",
  "compatibility_date": "2025-01-01",
  "limits": { "cpu_ms": 2000 },
  "durable_objects": { "bindings": [
    { "name": "NOTES", "class_name": "Notes" },
    { "name": "PLAIN", "class_name": "Plain" }
  ] },
  "migrations": [
    { "tag": "v1", "new_sqlite_classes": ["Notes"] },
    { "tag": "v2", "new_classes": ["Plain"] }
  ]
}"#;

pub fn project() -> tempfile::TempDir {
    util::project(&[
        ("wrangler.jsonc", WRANGLER),
        ("index.js", include_str!("js/sql_suite.js")),
    ])
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|err| panic!("not JSON ({err}): {body}"))
}

#[test]
fn sql_api_behaves_as_on_cloudflare() {
    let dir = project();
    let node = util::dev(dir.path(), &[]);
    let (status, body) = node.get("/notes/suite/run");
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body), serde_json::json!([]), "failed checks: {body}");
    let (status, body) = node.get("/plain/one/check");
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body), serde_json::json!([]), "failed checks: {body}");
}

#[test]
fn sql_writes_survive_kill_9_and_delete_all_empties_the_database() {
    let dir = project();
    let node = util::dev(dir.path(), &[]);
    for (i, text) in ["one", "two", "three"].iter().enumerate() {
        let (status, body) = node.get(&format!("/notes/durable/add?text={text}"));
        assert_eq!(
            (status, json(&body)),
            (200, serde_json::json!(i + 1)),
            "{body}"
        );
    }
    // Enough rows to span many pages, all in one turn each.
    let long = "x".repeat(3000);
    for _ in 0..20 {
        let (status, body) = node.get(&format!("/notes/durable/add?text={long}"));
        assert_eq!(status, 200, "{body}");
    }
    node.kill9();

    let node = util::dev(dir.path(), &[]);
    let (status, body) = node.get("/notes/durable/all");
    assert_eq!(status, 200, "{body}");
    let rows = json(&body);
    let rows = rows.as_array().unwrap_or_else(|| panic!("rows: {body}"));
    assert_eq!(rows.len(), 23, "every acknowledged insert is back: {body}");
    assert_eq!(
        rows[..3],
        [json("\"one\""), json("\"two\""), json("\"three\"")]
    );
    assert_eq!(rows[22].as_str().map(str::len), Some(3000));

    let (status, body) = node.get("/notes/durable/wipe");
    assert_eq!(
        (status, json(&body)),
        (200, serde_json::json!([])),
        "{body}"
    );
    node.kill9();
    let node = util::dev(dir.path(), &[]);
    let (_, body) = node.get("/notes/durable/all");
    assert_eq!(
        json(&body),
        serde_json::json!("no such table: log: SQLITE_ERROR"),
        "deleteAll() emptied the database for good"
    );
}

#[test]
fn the_admin_api_shows_key_value_data_and_counts_sql_pages_apart() {
    let dir = project();
    let node = util::dev(dir.path(), &["--admin-token", "t0ken"]);
    let (status, body) = node.get("/notes/shown/run");
    assert_eq!((status, body.as_str()), (200, "[]"), "{body}");
    let (status, shown) = util::request(
        node.port,
        "GET /__kiln/admin/objects/NOTES/shown HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer t0ken\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 200, "{shown}");
    let shown = json(&shown);
    assert_eq!(
        shown["entries"],
        serde_json::json!({ "k1": { "a": 1 } }),
        "only the key-value data, no page keys"
    );
    assert!(
        shown["sqlPages"].as_u64().is_some_and(|pages| pages > 1),
        "{shown}"
    );
}

#[test]
fn a_runaway_query_stops_at_the_cpu_limit() {
    let dir = project();
    let node = util::dev(dir.path(), &[]);
    let began = Instant::now();
    // The caller sees the object's call fail, as on Cloudflare; when the caller ran in the
    // object's own isolate (same worker, same thread), its request ends with the isolate (503).
    let (status, body) = node.get("/notes/spin/spin");
    assert!(
        (status == 200 || status == 503) && body.contains("exceeded CPU time limit"),
        "{status} {body}"
    );
    assert!(
        began.elapsed().as_secs() < 20,
        "stopped near its 2 s budget"
    );
    // The object and its database work again afterwards.
    let (status, body) = node.get("/notes/spin/add?text=after");
    assert_eq!((status, json(&body)), (200, serde_json::json!(1)), "{body}");
}
