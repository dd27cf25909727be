//! Workers for Platforms through a real node: scripts uploaded with `kiln deploy` (the
//! Cloudflare-shaped upload API) into a dispatch namespace, run by a dispatch worker with
//! per-call CPU limits, their fetch() sent through an outbound worker that sees the declared
//! parameters; missing scripts, malformed uploads and a wrong token.

use crate::util;

const DISPATCHER: &str = r#"
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, name, ...rest] = url.pathname.split("/");
    try {
      const worker = env.DISPATCHER.get(name, {}, { limits: { cpuMs: 50 }, outbound: { customer: name } });
      return await worker.fetch(`http://user/${rest.join("/")}`);
    } catch (err) {
      if (err.message.startsWith("Worker not found")) return new Response("no such customer", { status: 404 });
      return new Response(err.message, { status: 500 });
    }
  },
};
"#;

const EGRESS: &str = r#"
export default {
  fetch(request, env) {
    return new Response(`egress for ${env.customer} saw ${request.url}`);
  },
};
"#;

const CUSTOMER: &str = r#"
export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    if (path === "/out") return fetch("http://example.com/x");
    if (path === "/cpu") { for (;;) {} }
    return new Response(`hello from ${env.GREETING}`);
  },
};
"#;

fn upload_with(port: u16, token: &str, raw_body: &str, boundary: &str) -> (u16, String) {
    util::request(
        port,
        &format!(
            "PUT /__kiln/api/client/v4/accounts/x/workers/dispatch/namespaces/customers/scripts/broken HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{raw_body}",
            raw_body.len()
        ),
    )
}

#[test]
fn dispatch_namespaces_run_uploaded_scripts_with_limits_and_outbound() {
    let dispatcher = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "dispatcher", "main": "index.js", "compatibility_date": "2025-01-01",
                 "dispatch_namespaces": [{ "binding": "DISPATCHER", "namespace": "customers",
                   "outbound": { "service": "egress", "parameters": ["customer"] } }] }"#,
        ),
        ("index.js", DISPATCHER),
    ]);
    let egress = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "egress", "main": "index.js", "compatibility_date": "2025-01-01" }"#,
        ),
        ("index.js", EGRESS),
    ]);
    let customer = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "alice", "main": "index.js", "compatibility_date": "2025-01-01",
                 "vars": { "GREETING": "alice's worker" } }"#,
        ),
        ("index.js", CUSTOMER),
    ]);
    let token = "dispatch-test-token";
    let egress_dir = egress.path().to_string_lossy().into_owned();
    let node = util::dev(dispatcher.path(), &[&egress_dir, "--admin-token", token]);

    assert_eq!(node.get("/alice/"), (404, "no such customer".into()));
    let (ok, output) = util::run_to_exit({
        let mut command = util::kiln();
        command
            .arg("deploy")
            .arg(customer.path())
            .args(["--dispatch-namespace", "customers"])
            .args(["--url", &format!("http://127.0.0.1:{}", node.port)])
            .args(["--token", token]);
        command
    });
    assert!(ok, "{output}");
    assert_eq!(
        node.get("/alice/"),
        (200, "hello from alice's worker".into())
    );
    assert_eq!(
        node.get("/alice/out"),
        (200, "egress for alice saw http://example.com/x".into())
    );
    assert_eq!(
        node.get("/alice/cpu"),
        (500, "Worker exceeded CPU time limit.".into())
    );

    // The API: listing, a malformed upload, a wrong token.
    let (status, listed) = util::request(
        node.port,
        &format!("GET /__kiln/api/client/v4/accounts/x/workers/dispatch/namespaces/customers/scripts HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"),
    );
    assert_eq!(status, 200, "{listed}");
    let listed: serde_json::Value = serde_json::from_str(&listed).expect("JSON");
    assert_eq!(listed["success"], true);
    assert_eq!(listed["result"][0]["id"], "alice");
    let body = "--b\r\nContent-Disposition: form-data; name=\"index.js\"; filename=\"index.js\"\r\nContent-Type: application/javascript+module\r\n\r\nexport default {}\r\n--b--\r\n";
    let (status, answer) = upload_with(node.port, token, body, "b");
    assert_eq!(status, 400, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer).expect("JSON");
    assert_eq!(answer["success"], false);
    assert!(answer["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("metadata"));
    let (status, _) = upload_with(node.port, "wrong", body, "b");
    assert_eq!(status, 401);
    // A new version of alice with a syntax error is refused with where it is; the old one
    // keeps serving.
    let broken = "--b\r\nContent-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json\r\n\r\n{\"main_module\":\"index.js\",\"compatibility_date\":\"2025-01-01\"}\r\n--b\r\nContent-Disposition: form-data; name=\"index.js\"; filename=\"index.js\"\r\nContent-Type: application/javascript+module\r\n\r\nexport default {\n  fetch() { return new Response(\"x\") \n  oops oops\n};\r\n--b--\r\n";
    let (status, answer) = util::request(
        node.port,
        &format!(
            "PUT /__kiln/api/client/v4/accounts/x/workers/dispatch/namespaces/customers/scripts/alice HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{broken}",
            broken.len()
        ),
    );
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer.contains("index.js:3:"),
        "the error names file:line:col: {answer}"
    );
    assert_eq!(
        node.get("/alice/"),
        (200, "hello from alice's worker".into()),
        "a bad upload disturbs nothing"
    );

    // A service-worker script, uploaded as Cloudflare's API takes one (metadata.body_part).
    let sw = "--b\r\nContent-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json\r\n\r\n{\"body_part\":\"script\",\"compatibility_date\":\"2025-01-01\",\"bindings\":[{\"type\":\"plain_text\",\"name\":\"WHO\",\"text\":\"bob\"}]}\r\n--b\r\nContent-Disposition: form-data; name=\"script\"; filename=\"script\"\r\nContent-Type: application/javascript\r\n\r\naddEventListener('fetch', (event) => event.respondWith(new Response('service worker of ' + WHO)));\r\n--b--\r\n";
    let (status, answer) = util::request(
        node.port,
        &format!(
            "PUT /__kiln/api/client/v4/accounts/x/workers/dispatch/namespaces/customers/scripts/bob HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{sw}",
            sw.len()
        ),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(node.get("/bob/"), (200, "service worker of bob".into()));

    let (status, _) = util::request(
        node.port,
        &format!("DELETE /__kiln/api/client/v4/accounts/x/workers/dispatch/namespaces/customers/scripts/alice HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"),
    );
    assert_eq!(status, 200);
    assert_eq!(node.get("/alice/"), (404, "no such customer".into()));
}
