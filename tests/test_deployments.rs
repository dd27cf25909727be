//! Scripts uploaded outside dispatch namespaces (`kiln deploy DIR`, `PUT .../workers/scripts/{name}`)
//! through a real `kiln dev` node: served at `<name>.<host>` with their own Durable Objects
//! (migrations applied version after version, state kept), reached by the node's worker through
//! a service binding, replaced by a new upload, refused when broken (the old version serving on),
//! kept across a restart, and gone once deleted.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::util;

const TOKEN: &str = "deployments-test-token";

const FRONT: &str = r#"
export default {
  async fetch(request, env) {
    try {
      const answer = await env.API.fetch("http://api/");
      return new Response("front -> " + (await answer.text()));
    } catch (err) {
      return new Response("api unreachable: " + err.message, { status: 502 });
    }
  },
};
"#;

const API_V1: &str = r#"
import { DurableObject } from "cloudflare:workers";
export class Counter extends DurableObject {
  async increment() {
    const n = ((await this.ctx.storage.get("n")) ?? 0) + 1;
    await this.ctx.storage.put("n", n);
    return n;
  }
}
export default {
  async fetch(request, env) {
    const n = await env.COUNTER.getByName("one").increment();
    return new Response(`api ${env.VERSION}: ${n}`);
  },
};
"#;

const API_V2_EXTRA: &str = r#"
export class Notes extends DurableObject {
  sum() { return this.ctx.storage.sql.exec("SELECT 20 + 22 AS x").one().x; }
}
"#;

fn api_config(version: &str, migrations: &str, bindings: &str) -> String {
    format!(
        r#"{{ "name": "api", "main": "index.js", "compatibility_date": "2025-01-01",
             "vars": {{ "VERSION": "{version}" }},
             "durable_objects": {{ "bindings": [{bindings}] }},
             "migrations": [{migrations}] }}"#
    )
}

fn deploy(dir: &Path, port: u16) -> (bool, String) {
    util::run_to_exit({
        let mut command = util::kiln();
        command
            .arg("deploy")
            .arg(dir)
            .args(["--url", &format!("http://127.0.0.1:{port}")])
            .args(["--token", TOKEN]);
        command
    })
}

/// GET `path` with `Host: host`.
fn get_host(port: u16, host: &str, path: &str) -> (u16, String) {
    util::request(
        port,
        &format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
    )
}

fn api_request(
    port: u16,
    method: &str,
    name: &str,
    content_type: &str,
    body: &str,
) -> (u16, String) {
    util::request(
        port,
        &format!(
            "{method} /__kiln/api/client/v4/accounts/x/workers/scripts/{name} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

fn one_module_upload(source: &str) -> String {
    format!(
        "--b\r\nContent-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json\r\n\r\n{{\"main_module\":\"index.js\",\"compatibility_date\":\"2025-01-01\"}}\r\n--b\r\nContent-Disposition: form-data; name=\"index.js\"; filename=\"index.js\"\r\nContent-Type: application/javascript+module\r\n\r\n{source}\r\n--b--\r\n"
    )
}

#[test]
fn uploaded_scripts_are_served_at_their_host_with_their_objects_and_replaced_by_new_versions() {
    let front = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "front", "main": "index.js", "compatibility_date": "2025-01-01",
                 "services": [{ "binding": "API", "service": "api" }] }"#,
        ),
        ("index.js", FRONT),
    ]);
    let counter = r#"{ "name": "COUNTER", "class_name": "Counter" }"#;
    let api = util::project(&[
        (
            "wrangler.jsonc",
            &api_config(
                "v1",
                r#"{ "tag": "v1", "new_classes": ["Counter"] }"#,
                counter,
            ),
        ),
        ("index.js", API_V1),
    ]);
    let node = util::dev(front.path(), &["--admin-token", TOKEN]);
    assert_eq!(get_host(node.port, "api.localhost", "/").0, 502);

    let (ok, output) = deploy(api.path(), node.port);
    assert!(ok, "{output}");
    assert_eq!(
        get_host(node.port, "api.localhost", "/"),
        (200, "api v1: 1".into())
    );
    assert_eq!(
        get_host(node.port, "api.localhost:8787", "/"),
        (200, "api v1: 2".into())
    );
    assert_eq!(node.get("/"), (200, "front -> api v1: 3".into()));

    // Version 2: a new variable and a second migration (a SQLite class); the counter's object
    // keeps its state across versions.
    std::fs::write(
        api.path().join("wrangler.jsonc"),
        api_config(
            "v2",
            r#"{ "tag": "v1", "new_classes": ["Counter"] }, { "tag": "v2", "new_sqlite_classes": ["Notes"] }"#,
            &format!(r#"{counter}, {{ "name": "NOTES", "class_name": "Notes" }}"#),
        ),
    )
    .expect("write config");
    let v2 = API_V1.replace(
        "export default {\n  async fetch(request, env) {\n",
        &format!("{API_V2_EXTRA}\nexport default {{\n  async fetch(request, env) {{\n    if (new URL(request.url).pathname === \"/notes\") return new Response(String(await env.NOTES.getByName(\"n\").sum()));\n"),
    );
    assert_ne!(v2, API_V1);
    std::fs::write(api.path().join("index.js"), &v2).expect("write module");
    let (ok, output) = deploy(api.path(), node.port);
    assert!(ok, "{output}");
    assert_eq!(
        get_host(node.port, "api.localhost", "/"),
        (200, "api v2: 4".into())
    );
    assert_eq!(
        get_host(node.port, "api.localhost", "/notes"),
        (200, "42".into())
    );
    let (status, listed) = util::request(
        node.port,
        &format!("GET /__kiln/api/client/v4/accounts/x/workers/scripts HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"),
    );
    assert_eq!(status, 200, "{listed}");
    let listed: serde_json::Value = serde_json::from_str(&listed).expect("JSON");
    assert_eq!(listed["result"][0]["id"], "api", "{listed}");
    assert_eq!(listed["result"][0]["migration_tag"], "v2", "{listed}");
    let (status, source) = api_request(node.port, "GET", "api", "text/plain", "");
    assert_eq!(status, 200);
    assert!(source.contains("SELECT 20 + 22"), "{source}");

    // A broken version is refused with where it breaks; version 2 keeps serving. A script may
    // not take the name of the node's own worker, nor re-create an existing class.
    let broken = one_module_upload(
        "export default {\n  fetch() { return new Response(1) }\n  oops oops\n};",
    );
    let (status, answer) = api_request(
        node.port,
        "PUT",
        "api",
        "multipart/form-data; boundary=b",
        &broken,
    );
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("index.js:3"), "{answer}");
    assert_eq!(
        get_host(node.port, "api.localhost", "/"),
        (200, "api v2: 5".into())
    );
    let fine = one_module_upload("export default { fetch() { return new Response('mine') } };");
    let (status, answer) = api_request(
        node.port,
        "PUT",
        "front",
        "multipart/form-data; boundary=b",
        &fine,
    );
    assert_eq!(status, 409, "{answer}");
    assert_eq!(node.get("/"), (200, "front -> api v2: 6".into()));
    let again = one_module_upload("export default {}").replace(
        "\"compatibility_date\":\"2025-01-01\"}",
        "\"compatibility_date\":\"2025-01-01\",\"migrations\":{\"old_tag\":\"v1\",\"new_tag\":\"v3\",\"new_classes\":[\"X\"]}}",
    );
    let (status, answer) = api_request(
        node.port,
        "PUT",
        "api",
        "multipart/form-data; boundary=b",
        &again,
    );
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("precondition"), "{answer}");

    // Uploads are durable: a restarted node serves them again.
    node.kill9();
    let node = util::dev(front.path(), &["--admin-token", TOKEN]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = get_host(node.port, "api.localhost", "/");
        if answer.0 == 200 {
            assert_eq!(answer.1, "api v2: 7");
            break;
        }
        assert!(Instant::now() < deadline, "{answer:?}");
        std::thread::sleep(Duration::from_millis(50));
    }

    // Deleted: the host falls back to the node's own worker, whose binding finds nothing.
    let (status, answer) = api_request(node.port, "DELETE", "api", "application/json", "");
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = get_host(node.port, "api.localhost", "/");
    assert_eq!(status, 502, "{answer}");
    assert!(answer.starts_with("api unreachable"), "{answer}");
    let (status, answer) = api_request(node.port, "GET", "api", "text/plain", "");
    assert_eq!(status, 404, "{answer}");
}

#[test]
fn kiln_deploy_uploads_r2_queue_and_described_bindings() {
    let front = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "front", "main": "index.js", "compatibility_date": "2025-01-01" }"#,
        ),
        (
            "index.js",
            "export default { fetch() { return new Response('front'); } };",
        ),
    ]);
    let store = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "store", "main": "index.js", "compatibility_date": "2025-01-01",
                 "r2_buckets": [{ "binding": "FILES", "bucket_name": "files" }],
                 "queues": { "producers": [{ "binding": "JOBS", "queue": "jobs" }] },
                 "ratelimits": [{ "name": "LIMIT", "namespace_id": "1", "simple": { "limit": 1, "period": 60 } }],
                 "version_metadata": { "binding": "VERSION" } }"#,
        ),
        (
            "index.js",
            r#"export default { async fetch(request, env) {
  await env.FILES.put("a.txt", "stored in r2");
  await env.JOBS.send({ hello: "queue" });
  const first = await env.LIMIT.limit({ key: "k" });
  const second = await env.LIMIT.limit({ key: "k" });
  return Response.json({ r2: await (await env.FILES.get("a.txt")).text(), limited: [first.success, second.success], version: typeof env.VERSION.id });
} };"#,
        ),
    ]);
    let node = util::dev(front.path(), &["--admin-token", TOKEN]);
    let (ok, output) = deploy(store.path(), node.port);
    assert!(ok, "{output}");
    let (status, body) = get_host(node.port, "store.localhost", "/");
    assert_eq!(status, 200, "{body}");
    let got: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(
        got,
        serde_json::json!({ "r2": "stored in r2", "limited": [true, false], "version": "string" })
    );
}
