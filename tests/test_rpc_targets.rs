//! JS RPC beyond plain values, between two workers run by one `kiln dev`: RpcTargets returned
//! by a service and by a Durable Object, functions and RpcTargets passed as arguments and
//! called back, promise pipelining, a Durable Object stub passed by RPC, and errors.

use crate::util;

#[test]
fn rpc_targets_callbacks_and_pipelining_work_across_workers() {
    let client = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "client", "main": "index.js", "compatibility_date": "2025-01-01",
                 "services": [{ "binding": "MATH", "service": "server", "entrypoint": "Math" }],
                 "durable_objects": { "bindings": [{ "name": "ROOMS", "class_name": "Room" }] },
                 "migrations": [{ "tag": "v1", "new_sqlite_classes": ["Room"] }] }"#,
        ),
        ("index.js", include_str!("js/rpc_targets_client.js")),
    ]);
    let server = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "server", "main": "index.js", "compatibility_date": "2025-01-01" }"#,
        ),
        ("index.js", include_str!("js/rpc_targets_server.js")),
    ]);
    let server_dir = server.path().to_string_lossy().into_owned();
    let node = util::dev(client.path(), &[&server_dir]);
    let (status, body) = node.get("/");
    assert_eq!(
        (status, body.as_str()),
        (200, "[]"),
        "failed checks: {body}"
    );
}
