//! Durable Object facets (`ctx.facets`) through a real `kiln dev` process: each facet has its
//! own storage and instance, its parent's id unless given another, survives a restart of the
//! node, and is aborted and deleted by name.

use crate::util;

#[test]
fn facets_have_their_own_storage_and_instances_and_outlive_a_restart() {
    let dir = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "facets", "main": "index.js", "compatibility_date": "2026-04-20",
                 "durable_objects": { "bindings": [
                   { "name": "PARENT", "class_name": "Parent" },
                   { "name": "COUNTER", "class_name": "Counter" } ] },
                 "migrations": [{ "tag": "v1", "new_sqlite_classes": ["Parent", "Counter", "Unbound"] }] }"#,
        ),
        ("index.js", include_str!("js/facets_suite.js")),
    ]);
    let node = util::dev(dir.path(), &[]);
    let (status, body) = node.get("/");
    assert_eq!(status, 200, "{body}");
    let got: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let expected = serde_json::json!({
        "bumps": [1, 2, 1],
        "parentSeesNoFacetKeys": null,
        "sameIdAsParent": true,
        "customId": true,
        "sql": [["one"], ["two"]],
        "fetch": "counter saw /path",
        "unbound": true,
        "nested": 1,
        "callsBeforeAbort": 2,
        "callsAfterAbort": 0,
        "keptAfterAbort": 3,
        "afterDelete": 1,
        "badClass": "TypeError",
        "longName": "TypeError",
    });
    assert_eq!(got, expected);
    node.kill9();
    let node = util::dev(dir.path(), &[]);
    assert_eq!(
        node.get("/again"),
        (200, "[4,2]".into()),
        "facet storage survives kill -9"
    );
}
