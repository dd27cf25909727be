//! Seeing what customer code does: Tail Workers (`tail_consumers`) receive each invocation's
//! outcome, request, `console` logs and exceptions; `kiln tail` streams the same live; and
//! `/metrics` counts invocations, errors, CPU time and limits per script.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::util;

const TOKEN: &str = "tail-test-token";

const SHOP: &str = r#"
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/seen") {
      const list = await env.SEEN.list();
      const items = [];
      for (const key of list.keys) items.push(await env.SEEN.get(key.name, "json"));
      return Response.json(items);
    }
    console.log("serving", url.pathname);
    if (url.pathname === "/boom") throw new RangeError("kaboom");
    if (url.pathname === "/spin") for (;;) {}
    if (url.pathname === "/subrequests") {
      await env.TAILER.fetch("http://tailer/ping");
      await env.TAILER.fetch("http://tailer/ping");
    }
    return new Response("ok");
  },
};
"#;

const TAILER: &str = r#"
export default {
  async tail(events, env) {
    for (const event of events) {
      const key = `${event.eventTimestamp}-${Math.random()}`;
      await env.SEEN.put(key, JSON.stringify({
        scriptName: event.scriptName, outcome: event.outcome,
        url: event.event?.request?.url ?? null, status: event.event?.response?.status ?? null,
        logs: event.logs.map((log) => log.message.join(" ")),
        exceptions: event.exceptions.map((e) => `${e.name}: ${e.message}`),
      }));
    }
  },
  fetch() { return new Response("pong"); },
};
"#;

fn seen(node: &util::Node, count: usize) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, body) = node.get("/seen");
        let items: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap_or_default();
        if items.len() >= count || Instant::now() > deadline {
            return items;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn tail_workers_kiln_tail_and_metrics_see_each_invocation() {
    let shop = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "shop", "main": "index.js", "compatibility_date": "2025-01-01",
                 "limits": { "cpu_ms": 200, "subrequests": 1 },
                 "tail_consumers": [{ "service": "tailer" }],
                 "services": [{ "binding": "TAILER", "service": "tailer" }],
                 "kv_namespaces": [{ "binding": "SEEN", "id": "seen" }] }"#,
        ),
        ("index.js", SHOP),
    ]);
    let tailer = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "tailer", "main": "index.js", "compatibility_date": "2025-01-01",
                 "kv_namespaces": [{ "binding": "SEEN", "id": "seen" }] }"#,
        ),
        ("index.js", TAILER),
    ]);
    let tailer_dir = tailer.path().to_string_lossy().into_owned();
    let node = util::dev(shop.path(), &[&tailer_dir, "--admin-token", TOKEN]);

    // `kiln tail shop`, watching before the requests are made.
    let mut watcher = util::kiln()
        .args([
            "tail",
            "shop",
            "--url",
            &format!("http://127.0.0.1:{}", node.port),
            "--token",
            TOKEN,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kiln tail starts");
    let mut connected = String::new();
    BufReader::new(watcher.stderr.take().expect("stderr"))
        .read_line(&mut connected)
        .expect("kiln tail says it is connected");
    assert!(connected.contains("Connected to shop"), "{connected}");
    let watched = watcher.stdout.take().expect("stdout");
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(watched).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });

    assert_eq!(node.get("/hello"), (200, "ok".into()));
    assert_eq!(node.get("/boom").0, 500);
    assert_eq!(node.get("/spin").0, 503);
    assert_eq!(node.get("/subrequests").0, 500);

    let items = seen(&node, 4);
    let find = |path: &str| {
        items
            .iter()
            .find(|item| item["url"].as_str().is_some_and(|u| u.ends_with(path)))
            .unwrap_or_else(|| panic!("no trace of {path}: {items:?}"))
    };
    let hello = find("/hello");
    assert_eq!(hello["scriptName"], "shop");
    assert_eq!(hello["outcome"], "ok");
    assert_eq!(hello["status"], 200);
    assert_eq!(hello["logs"], serde_json::json!(["serving /hello"]));
    let boom = find("/boom");
    assert_eq!(boom["outcome"], "exception");
    assert_eq!(
        boom["exceptions"],
        serde_json::json!(["RangeError: kaboom"])
    );
    assert_eq!(find("/spin")["outcome"], "exceededCpu");
    let subrequests = find("/subrequests");
    assert_eq!(subrequests["outcome"], "exception");
    assert!(
        subrequests["exceptions"][0]
            .as_str()
            .is_some_and(|e| e.contains("Too many subrequests.")),
        "{subrequests}"
    );

    let mut streamed = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while streamed.len() < 4 && Instant::now() < deadline {
        if let Ok(line) = received.recv_timeout(Duration::from_millis(200)) {
            let item: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
            if item["scriptName"] == "shop"
                && !item["event"]["request"]["url"]
                    .as_str()
                    .unwrap_or("")
                    .ends_with("/seen")
            {
                streamed.push(item);
            }
        }
    }
    let _ = watcher.kill();
    let _ = watcher.wait();
    assert_eq!(
        streamed.len(),
        4,
        "kiln tail printed every invocation: {streamed:?}"
    );
    // Items arrive as invocations end, which need not be the order the responses were sent in.
    let hello = streamed
        .iter()
        .find(|item| {
            item["event"]["request"]["url"]
                .as_str()
                .is_some_and(|u| u.ends_with("/hello"))
        })
        .unwrap_or_else(|| panic!("no /hello item: {streamed:?}"));
    assert_eq!(hello["logs"][0]["message"][0], "serving /hello");
    assert_eq!(hello["logs"][0]["level"], "log");

    let (status, metrics) = node.get("/__kiln/metrics");
    assert_eq!(status, 200);
    for needle in [
        r#"kiln_script_invocations_total{scope="script",name="shop"}"#,
        r#"kiln_script_errors_total{scope="script",name="shop"} 3"#,
        r#"kiln_script_limit_exceeded_total{scope="script",name="shop",limit="cpu"} 1"#,
        r#"kiln_script_limit_exceeded_total{scope="script",name="shop",limit="subrequests"} 1"#,
        r#"kiln_script_cpu_seconds_total{scope="script",name="shop"}"#,
    ] {
        assert!(metrics.contains(needle), "{needle} in\n{metrics}");
    }
    // Without the token, nothing.
    let (status, _) = node.get("/__kiln/admin/tail/shop");
    assert_eq!(status, 401);
}

#[test]
fn a_dynamic_workers_tails_get_its_invocations() {
    let host = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "host", "main": "index.js", "compatibility_date": "2025-01-01",
                 "worker_loaders": [{ "binding": "LOADER" }],
                 "kv_namespaces": [{ "binding": "SEEN", "id": "seen" }] }"#,
        ),
        (
            "index.js",
            r#"export default {
  async fetch(request, env, ctx) {
    if (new URL(request.url).pathname === "/seen") {
      const list = await env.SEEN.list();
      const items = [];
      for (const key of list.keys) items.push(await env.SEEN.get(key.name, "json"));
      return Response.json(items);
    }
    const worker = env.LOADER.get("guest", () => ({
      compatibilityDate: "2025-01-01",
      mainModule: "guest.js",
      modules: { "guest.js": "export default { fetch() { console.log('guest ran'); return new Response('guest'); } };" },
      tails: [ctx.exports.default],
    }));
    return worker.getEntrypoint().fetch("http://guest/run");
  },
  async tail(events, env) {
    for (const event of events) {
      await env.SEEN.put(`${event.eventTimestamp}-${Math.random()}`, JSON.stringify({
        scriptName: event.scriptName, outcome: event.outcome,
        logs: event.logs.map((log) => log.message.join(" ")),
      }));
    }
  },
};"#,
        ),
    ]);
    let node = util::dev(host.path(), &[]);
    assert_eq!(node.get("/run"), (200, "guest".into()));
    let items = seen(&node, 1);
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["scriptName"], "host/dynamic:guest");
    assert_eq!(items[0]["outcome"], "ok");
    assert_eq!(items[0]["logs"], serde_json::json!(["guest ran"]));
}
