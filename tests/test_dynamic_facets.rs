//! Facets made from a Dynamic Worker's Durable Object class (`getDurableObjectClass()`), through
//! a real `kiln dev` process: the class runs in the Dynamic Worker's isolate with the props and
//! limits it was given and only the Dynamic Worker's env, its storage (SQL and key-value) is
//! its own and survives kill -9, and the parent aborts and deletes it by name.

use crate::util;

#[test]
fn dynamic_worker_classes_run_as_facets_with_their_own_durable_storage() {
    let dir = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "dynamic-facets", "main": "index.js", "compatibility_date": "2026-04-20",
                 "durable_objects": { "bindings": [{ "name": "APP", "class_name": "App" }] },
                 "worker_loaders": [{ "binding": "LOADER" }],
                 "migrations": [{ "tag": "v1", "new_sqlite_classes": ["App"] }] }"#,
        ),
        ("index.js", include_str!("js/dynamic_facets_suite.js")),
    ]);
    let node = util::dev(dir.path(), &[]);
    let (status, body) = node.get("/");
    assert_eq!(status, 200, "{body}");
    let got: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let expected = serde_json::json!({
        "adds": [1, 2],
        "bumps": [1, 2],
        "owner": "alice",
        "sameIdAsParent": true,
        "parentSeesNoFacetKeys": null,
        "envKeys": ["GREETING"],
        "alarm": "Kiln does not support alarms in facets yet: an alarm belongs to the top-level Durable Object.",
        "fetch": "notes saw /path with hi",
        "callsBeforeAbort": 2,
        "callsAfterAbort": 0,
        "keptAfterAbort": 2,
        "afterDelete": 0,
        "missingClass": "Durable Object class \"Nope\" is not exported by the worker.",
        "cpu": "Worker exceeded CPU time limit.",
    });
    assert_eq!(got, expected);
    node.kill9();
    let node = util::dev(dir.path(), &[]);
    assert_eq!(
        node.get("/again"),
        (200, "[2,3]".into()),
        "a dynamic facet's storage survives kill -9"
    );
}
