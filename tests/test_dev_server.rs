//! `kiln dev`: the example serves, bad configs and broken workers fail clearly, clients that
//! vanish cost nothing, and worker logs carry the worker's name.

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use crate::util;

#[test]
fn hello_example_serves_and_logs_with_worker_name() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/hello");
    let state = tempfile::tempdir().expect("tempdir");
    let persist = state.path().to_string_lossy().into_owned();
    let mut node = util::dev(&root, &["--persist-to", &persist]);
    let (status, body) = node.get("/greet");
    assert_eq!(status, 200);
    assert_eq!(body, "Hello from Kiln!\n");
    assert!(
        node.wait_for_log("GET /greet", Duration::from_secs(5)),
        "{:#?}",
        node.lines
    );
    assert!(
        node.lines
            .iter()
            .any(|l| l.contains("GET /greet") && l.contains("worker=\"hello\"")),
        "{:#?}",
        node.lines
    );
}

#[test]
fn request_context_headers_and_vars() {
    let dir = util::project(&[
        ("wrangler.toml", "name = \"ctx\"\nmain = \"index.js\"\ncompatibility_date = \"2025-01-01\"\n[vars]\nA = \"from-vars\"\n"),
        (".dev.vars", "SECRET=shh\n"),
        ("index.js", "export default { async fetch(req, env) { const sub = new Request('http://x/'); return new Response([req.headers.get('cf-connecting-ip'), env.A, env.SECRET, env.CLI, req.cf.httpProtocol, req.cf.country, typeof req.cf.colo, String(sub.cf), req.redirect].join('|')); } };"),
    ]);
    let node = util::dev(dir.path(), &["--var", "CLI:flag"]);
    let (status, body) = node.get("/");
    // request.cf on requests from the network (geography unknown: "XX"), none on new ones.
    assert_eq!(
        (status, body.as_str()),
        (
            200,
            "127.0.0.1|from-vars|shh|flag|HTTP/1.1|XX|string|undefined|manual"
        )
    );
}

#[test]
fn dot_env_files_give_secrets_when_there_is_no_dev_vars() {
    let config = "name = \"dotenv\"\nmain = \"index.js\"\ncompatibility_date = \"2025-01-01\"\n";
    let worker = "export default { fetch(req, env) { return new Response([env.A, env.B, env.C].join('|')); } };";
    let dir = util::project(&[
        ("wrangler.toml", config),
        (".env", "A=env\nB=env\n"),
        (".env.local", "B=local\n"),
        ("index.js", worker),
    ]);
    let node = util::dev(dir.path(), &[]);
    assert_eq!(node.get("/"), (200, "env|local|".to_owned()));
    drop(node);
    // With a .dev.vars file, wrangler reads it alone.
    std::fs::write(dir.path().join(".dev.vars"), "C=devvars\n").expect("write .dev.vars");
    let node = util::dev(dir.path(), &[]);
    assert_eq!(node.get("/"), (200, "||devvars".to_owned()));
}

#[test]
fn env_selects_a_wrangler_environment() {
    let config = r#"name = "app"
main = "index.js"
compatibility_date = "2025-01-01"
[vars]
WHERE = "top"
[env.staging]
[env.staging.vars]
WHERE = "staging"
[[env.staging.kv_namespaces]]
binding = "CACHE"
id = "staging-cache"
"#;
    let worker = "export default { fetch(req, env) { return new Response([env.WHERE, typeof env.CACHE, env.ONLY_STAGING].join('|')); } };";
    let dir = util::project(&[
        ("wrangler.toml", config),
        ("index.js", worker),
        (".dev.vars.staging", "ONLY_STAGING=yes\n"),
    ]);
    let node = util::dev(dir.path(), &[]);
    assert_eq!(node.get("/"), (200, "top|undefined|".to_owned()));
    drop(node);
    let node = util::dev(dir.path(), &["--env", "staging"]);
    assert_eq!(node.get("/"), (200, "staging|object|yes".to_owned()));
    drop(node);
    let mut command = util::kiln();
    command
        .arg("dev")
        .arg(dir.path())
        .args(["--port", "0", "--env", "production"]);
    let (ok, output) = util::run_to_exit(command);
    assert!(!ok);
    assert!(output.contains("no environment \"production\""), "{output}");
}

#[test]
fn wrangler_dev_handler_routes_fire_email_and_scheduled_handlers() {
    let worker = r#"
let last = null;
export default {
  async email(message, env, ctx) {
    const text = await new Response(message.raw).text();
    last = { from: message.from, to: message.to, subject: message.headers.get("subject"), rawSize: message.rawSize, body: text.split("\r\n\r\n")[1] };
    if (message.headers.get("subject") === "spam") message.setReject("no spam");
  },
  async scheduled(controller) { last = { cron: controller.cron }; },
  fetch() { return Response.json(last); },
};"#;
    let dir = util::project(&[
        (
            "wrangler.toml",
            "name = \"mail\"\nmain = \"index.js\"\ncompatibility_date = \"2025-01-01\"\n",
        ),
        ("index.js", worker),
    ]);
    // One JS thread: the handlers keep `last` in a module variable of one isolate.
    let node = util::dev(dir.path(), &["--threads", "1"]);
    let message = "From: a@x.com\r\nTo: b@y.com\r\nSubject: hi\r\n there\r\n\r\nbody";
    let (status, body) = util::request(
        node.port,
        &format!(
            "POST /cdn-cgi/handler/email?from=a%40x.com&to=b%40y.com HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{message}",
            message.len()
        ),
    );
    assert_eq!(
        (status, body.as_str()),
        (200, "Worker successfully processed email")
    );
    let last: serde_json::Value = serde_json::from_str(&node.get("/").1).expect("JSON");
    assert_eq!(
        last,
        serde_json::json!({ "from": "a@x.com", "to": "b@y.com", "subject": "hi there", "rawSize": message.len(), "body": "body" })
    );
    let spam = "Subject: spam\r\n\r\nbuy";
    let (status, body) = util::request(
        node.port,
        &format!(
            "POST /cdn-cgi/handler/email?from=a%40x.com&to=b%40y.com HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{spam}",
            spam.len()
        ),
    );
    assert_eq!(
        (status, body.as_str()),
        (
            400,
            "Worker rejected email with the following reason: no spam"
        )
    );
    let (status, body) = util::get_port(node.port, "/cdn-cgi/handler/scheduled?cron=*%2F5+*+*+*+*");
    assert_eq!((status, body.as_str()), (200, "Ran scheduled event"));
    assert_eq!(node.get("/").1, r#"{"cron":"*/5 * * * *"}"#);
}

#[test]
fn service_worker_syntax_runs_with_bindings_as_globals() {
    let dir = util::project(&[
        ("wrangler.toml", "name = \"sw\"\nmain = \"worker.js\"\ncompatibility_date = \"2025-01-01\"\nkv_namespaces = [{ binding = \"STORE\", id = \"sw-store\" }]\n[vars]\nGREETING = \"hi\"\n"),
        ("worker.js", r#"addEventListener("fetch", (event) => event.respondWith(handle(event.request)));
async function handle(request) {
  const path = new URL(request.url).pathname;
  if (request.method === "PUT") {
    await STORE.put(path, await request.text());
    return new Response("stored", { status: 201 });
  }
  return new Response(`${GREETING} ${(await STORE.get(path)) ?? "nothing"}`);
}"#),
    ]);
    let node = util::dev(dir.path(), &[]);
    assert_eq!(node.get("/k"), (200, "hi nothing".to_owned()));
    let (status, _) = util::request(
        node.port,
        "PUT /k HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nConnection: close\r\n\r\nvalue",
    );
    assert_eq!(status, 201);
    assert_eq!(node.get("/k"), (200, "hi value".to_owned()));
}

#[test]
fn config_type_error_names_file_and_line() {
    let dir = util::project(&[(
        "wrangler.jsonc",
        "{\n  // comment\n  \"name\": \"x\",\n  \"main\": 42,\n}\n",
    )]);
    let (ok, stderr) = util::dev_until_exit(dir.path());
    assert!(!ok, "must fail");
    assert!(stderr.contains("wrangler.jsonc:4:"), "{stderr}");
}

#[test]
fn unknown_config_key_is_a_warning() {
    let dir = util::project(&[
        (
            "wrangler.toml",
            "name = \"w\"\nmain = \"index.js\"\nmian = \"typo\"\n",
        ),
        (
            "index.js",
            "export default { fetch() { return new Response('ok'); } };",
        ),
    ]);
    let mut node = util::dev(dir.path(), &[]);
    assert_eq!(node.get("/").0, 200);
    assert!(
        node.wait_for_log("unknown key \"mian\"", Duration::from_secs(2)),
        "{:#?}",
        node.lines
    );
}

#[test]
fn syntax_error_exits_with_file_line_column() {
    let dir = util::project(&[
        (
            "wrangler.toml",
            "name = \"broken\"\nmain = \"src/index.js\"\n",
        ),
        (
            "src/index.js",
            "export default {\n  fetch() { return new Response('x') }\n}}\n",
        ),
    ]);
    let (ok, stderr) = util::dev_until_exit(dir.path());
    assert!(!ok, "must exit non-zero");
    assert!(stderr.contains("SyntaxError"), "{stderr}");
    assert!(stderr.contains("src/index.js:3:"), "{stderr}");
}

#[test]
fn client_disconnect_mid_request_leaves_node_serving() {
    let dir = util::project(&[
        ("wrangler.toml", "name = \"echo\"\nmain = \"index.js\"\n"),
        ("index.js", "export default { async fetch(req) { if (req.method === 'POST') return new Response(await req.text()); return new Response('up'); } };"),
    ]);
    let node = util::dev(dir.path(), &[]);
    for _ in 0..20 {
        let mut stream = TcpStream::connect(("127.0.0.1", node.port)).expect("connect");
        stream
            .write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\npartial body")
            .expect("write");
        drop(stream);
    }
    let (status, body) = util::request(
        node.port,
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    );
    assert_eq!((status, body.as_str()), (200, "hello"));
    assert_eq!(node.get("/"), (200, "up".to_owned()));
}

#[test]
fn a_client_that_disconnects_aborts_the_request_signal() {
    // `/listen` listens before the disconnect; `/late` first looks at the signal after it, so
    // the abort must have been remembered for a signal nobody had asked for yet.
    let dir = util::project(&[
        ("wrangler.toml", "name = \"abort\"\nmain = \"index.js\"\n"),
        (
            "index.js",
            r#"export default { async fetch(req) {
            const path = new URL(req.url).pathname;
            if (path === '/listen') {
                const reason = await new Promise((resolve) => req.signal.addEventListener('abort', () => resolve(req.signal.reason)));
                console.log('listen aborted', reason.name);
            } else if (path === '/late') {
                await scheduler.wait(500);
                console.log('late aborted', req.signal.aborted, req.signal.reason && req.signal.reason.name);
            }
            return new Response('done');
        } };"#,
        ),
    ]);
    let mut node = util::dev(dir.path(), &[]);
    for path in ["/listen", "/late"] {
        let mut stream = TcpStream::connect(("127.0.0.1", node.port)).expect("connect");
        stream
            .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .expect("write");
        std::thread::sleep(Duration::from_millis(100));
        drop(stream);
    }
    assert!(
        node.wait_for_log("listen aborted AbortError", Duration::from_secs(5)),
        "{:#?}",
        node.lines
    );
    assert!(
        node.wait_for_log("late aborted true AbortError", Duration::from_secs(5)),
        "{:#?}",
        node.lines
    );
}

#[test]
fn cpu_limit_answers_503_and_node_keeps_serving() {
    let dir = util::project(&[
        ("wrangler.toml", "name = \"spin\"\nmain = \"index.js\"\n[limits]\ncpu_ms = 200\n"),
        ("index.js", "export default { fetch(req) { if (req.url.endsWith('/spin')) { for (;;) {} } return new Response('ok'); } };"),
    ]);
    let node = util::dev(dir.path(), &[]);
    let (status, body) = node.get("/spin");
    assert_eq!(status, 503);
    assert_eq!(body, "Worker exceeded CPU time limit.");
    assert_eq!(node.get("/"), (200, "ok".to_owned()));
}

#[test]
fn scheduled_handler_runs_on_test_trigger() {
    let dir = util::project(&[
        ("wrangler.toml", "name = \"cron\"\nmain = \"index.js\"\n[triggers]\ncrons = [\"*/5 * * * *\"]\n"),
        ("index.js", "export default { fetch() { return new Response('ok'); }, async scheduled(controller, env, ctx) { console.log('cron fired', controller.cron); } };"),
    ]);
    let mut node = util::dev(dir.path(), &["--test-scheduled"]);
    let (status, _) = node.get("/__scheduled?cron=*/5+*+*+*+*");
    assert_eq!(status, 200);
    assert!(
        node.wait_for_log("cron fired */5 * * * *", Duration::from_secs(5)),
        "{:#?}",
        node.lines
    );
}

#[test]
fn metrics_are_served_for_prometheus() {
    let dir = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "metrics", "main": "index.js", "compatibility_date": "2025-01-01" }"#,
        ),
        (
            "index.js",
            "export default { fetch(r) { if (new URL(r.url).pathname === '/boom') throw new Error('x'); return new Response('ok'); } };",
        ),
    ]);
    let node = util::dev(dir.path(), &[]);
    assert_eq!(node.get("/").0, 200);
    assert_eq!(node.get("/boom").0, 500);
    let (status, text) = node.get("/__kiln/metrics");
    assert_eq!(status, 200);
    assert!(
        text.contains("kiln_http_requests_total{class=\"2xx\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("kiln_http_requests_total{class=\"5xx\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("kiln_worker_failures_total{kind=\"exception\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("kiln_http_request_duration_seconds_count 2"),
        "{text}"
    );
    assert!(text.contains("kiln_websockets_open 0"), "{text}");
}

#[test]
fn a_request_body_can_be_read_as_a_stream() {
    let dir = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "stream", "main": "index.js", "compatibility_date": "2025-01-01" }"#,
        ),
        (
            "index.js",
            r#"export default {
              async fetch(request) {
                let bytes = 0;
                for await (const chunk of request.body) {
                  bytes += chunk.byteLength;
                }
                return new Response(String(bytes));
              },
            };"#,
        ),
    ]);
    let node = util::dev(dir.path(), &[]);
    let body = "x".repeat(100_000);
    let (status, answer) = util::request(
        node.port,
        &format!(
            "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert_eq!((status, answer.as_str()), (200, "100000"));
    let (status, answer) = util::request(
        node.port,
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
    );
    assert_eq!(
        (status, answer.as_str()),
        (200, "3"),
        "the JS thread survived"
    );
}

#[test]
fn version_metadata_analytics_rate_limits_email_and_missing_services_are_bound() {
    let dir = util::project(&[
        (
            "wrangler.toml",
            r#"name = "bindings"
main = "index.js"
compatibility_date = "2025-04-01"
version_metadata = { binding = "CF_VERSION_METADATA" }
ai = { binding = "AI" }
[[analytics_engine_datasets]]
binding = "STATS"
dataset = "requests"
[[ratelimits]]
name = "LIMITER"
namespace_id = "1001"
simple = { limit = 2, period = 60 }
[[send_email]]
name = "MAIL"
destination_address = "ops@example.com"
"#,
        ),
        (
            "index.js",
            r#"export default { async fetch(request, env) {
                 env.STATS.writeDataPoint({ blobs: ["/"], doubles: [1], indexes: ["k"] });
                 const limits = [];
                 for (let i = 0; i < 3; i++) limits.push((await env.LIMITER.limit({ key: "ip" })).success);
                 await env.MAIL.send({ from: "a@example.com", to: "ops@example.com" });
                 let refused = "";
                 try { await env.MAIL.send({ from: "a@example.com", to: "x@example.com" }); } catch (err) { refused = err.message; }
                 let ai = "";
                 try { await env.AI.run("@cf/model", {}); } catch (err) { ai = err.message; }
                 return Response.json({ id: typeof env.CF_VERSION_METADATA.id, limits, refused, ai });
               } };"#,
        ),
    ]);
    let node = util::dev(dir.path(), &[]);
    let (status, body) = node.get("/");
    assert_eq!(status, 200, "{body}");
    let got: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(got["id"], "string");
    assert_eq!(got["limits"], serde_json::json!([true, true, false]));
    assert_eq!(got["refused"], "email to x@example.com not allowed");
    assert!(
        got["ai"]
            .as_str()
            .unwrap_or_default()
            .contains("not available in Kiln"),
        "{body}"
    );
}

#[test]
fn console_debug_reaches_the_log_by_default_as_under_wrangler_dev() {
    let dir = util::project(&[
        ("wrangler.toml", "name = \"chatty\"\nmain = \"index.js\"\ncompatibility_date = \"2025-01-01\"\n"),
        ("index.js", "export default { fetch() { console.debug('debug line'); console.info('info line'); return new Response('ok'); } };"),
    ]);
    let mut command = util::kiln();
    command
        .env_remove("RUST_LOG")
        .arg("dev")
        .arg(dir.path())
        .args(["--port", "0"]);
    let mut node = util::start(command);
    assert_eq!(node.get("/"), (200, "ok".to_owned()));
    assert!(
        node.wait_for_log("info line", Duration::from_secs(5)),
        "{:#?}",
        node.lines
    );
    assert!(
        node.wait_for_log("debug line", Duration::from_secs(5)),
        "{:#?}",
        node.lines
    );
}
