//! Durable Objects on one node, driven through a real `kiln dev` process: the storage API,
//! structured clones, limits, transactions, the gates, RPC, ids, alarms, eviction, overload,
//! and durability across kill -9.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::util::{self, Node};

const WRANGLER: &str = r#"{
  "name": "do-suite",
  "main": "index.js",
  "compatibility_date": "2025-01-01",
  "durable_objects": { "bindings": [
    { "name": "SUITE", "class_name": "Suite" },
    { "name": "GATE", "class_name": "Gate" },
    { "name": "COUNTER", "class_name": "Counter" },
    { "name": "ALARMED", "class_name": "Alarmed" }
  ] },
  "migrations": [
    { "tag": "v1", "new_classes": ["Suite", "Gate", "Counter"] },
    { "tag": "v2", "new_sqlite_classes": ["Alarmed"] }
  ]
}"#;

fn suite_project() -> tempfile::TempDir {
    util::project(&[
        ("wrangler.jsonc", WRANGLER),
        ("index.js", include_str!("js/do_suite.js")),
    ])
}

fn start(dir: &Path, extra: &[&str]) -> Node {
    util::dev(dir, extra)
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|err| panic!("not JSON ({err}): {body}"))
}

#[test]
fn storage_api_behaves_as_on_cloudflare() {
    let dir = suite_project();
    let node = start(dir.path(), &[]);
    let (status, body) = node.get("/suite/one/run");
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body), serde_json::json!([]), "failed checks: {body}");
}

#[test]
fn a_reset_objects_still_running_code_cannot_write() {
    let dir = suite_project();
    let node = start(dir.path(), &["--threads", "1"]);
    let (status, body) = node.get("/suite/late/late-write");
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        json(&body),
        serde_json::json!({ "outcome": "reset for the test", "stored": null })
    );
}

#[test]
fn ids_are_unforgeable_and_carry_their_name() {
    let dir = suite_project();
    let node = start(dir.path(), &[]);
    let (_, body) = node.get("/suite/alpha/ids");
    assert_eq!(
        json(&body),
        serde_json::json!([
            64,
            true,
            true,
            "alpha",
            true,
            true,
            "TypeError",
            "TypeError",
            "TypeError",
            true,
            true
        ])
    );
    let (_, who) = node.get("/suite/alpha/who");
    let who = json(&who);
    assert_eq!(who["name"], "alpha");
    assert_eq!(who["id"].as_str().map(str::len), Some(64));
}

#[test]
fn rpc_errors_keep_their_class_and_message_and_reserved_names_are_not_callable() {
    let dir = suite_project();
    let node = start(dir.path(), &[]);
    let (_, body) = node.get("/suite/errs/errors");
    assert_eq!(
        json(&body),
        serde_json::json!([
            "TypeError: bad input",
            "Error: plain failure",
            "TypeError: The RPC receiver does not implement the method \"nope\".",
            "TypeError: The RPC receiver does not implement the method \"instanceField\".",
            "undefined",
            "undefined"
        ])
    );
}

#[test]
fn concurrent_increments_lose_no_update() {
    let dir = suite_project();
    let node = start(dir.path(), &[]);
    let port = node.port;
    let threads: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(move || {
                (0..10)
                    .map(|_| util::post(port, "/counter/hot/inc"))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut seen: Vec<u64> = Vec::new();
    for thread in threads {
        for (status, body) in thread.join().expect("client thread") {
            assert_eq!(status, 200, "{body}");
            seen.push(body.parse().expect("a number"));
        }
    }
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=80).collect::<Vec<u64>>(),
        "every increment saw a distinct value"
    );
    assert_eq!(node.get("/counter/hot/get").1, "80");
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    let dir = suite_project();
    let node = start(dir.path(), &[]);
    let mut acknowledged = 0;
    for _ in 0..20 {
        let (status, body) = util::post(node.port, "/counter/durable/inc");
        assert_eq!(status, 200);
        acknowledged = body.parse::<u64>().expect("a number");
    }
    node.kill9();
    let node = start(dir.path(), &[]);
    assert_eq!(node.get("/counter/durable/get").1, acknowledged.to_string());
}

#[test]
fn coalesced_batches_are_all_or_nothing_across_kill_9() {
    let dir = suite_project();
    for round in 0..3 {
        let node = start(dir.path(), &[]);
        let port = node.port;
        // Keep writing 101-key batches from two clients while the node is killed.
        let writers: Vec<_> = (0..2)
            .map(|_| {
                std::thread::spawn(move || {
                    let deadline = Instant::now() + Duration::from_millis(400);
                    while Instant::now() < deadline {
                        let _ =
                            std::panic::catch_unwind(|| util::post(port, "/counter/batch/batch"));
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(150 + round * 60));
        node.kill9();
        for writer in writers {
            let _ = writer.join();
        }
        let node = start(dir.path(), &[]);
        let (status, body) = node.get("/counter/batch/check");
        assert_eq!(status, 200, "{body}");
        let state = json(&body);
        let values = state["values"].as_array().expect("values");
        assert!(values.len() <= 1, "a torn batch after kill -9: {body}");
        if let Some(value) = values.first() {
            assert_eq!(
                value, &state["generation"],
                "keys and generation from different batches: {body}"
            );
        }
        node.kill9();
    }
}

#[test]
fn output_gate_holds_the_response_until_the_write_is_durable() {
    let dir = suite_project();
    let node = start(dir.path(), &["--test-slow-flush-ms", "400"]);
    // Warm the object up, so only the write's fsync is measured.
    assert_eq!(node.get("/counter/gated/get").1, "0");
    let began = Instant::now();
    let (status, body) = util::post(node.port, "/counter/gated/inc");
    let write_took = began.elapsed();
    assert_eq!((status, body.as_str()), (200, "1"));
    assert!(
        write_took >= Duration::from_millis(400),
        "the response left before its write was durable ({write_took:?})"
    );
    let began = Instant::now();
    assert_eq!(node.get("/counter/gated/get").1, "1");
    assert!(
        began.elapsed() < Duration::from_millis(300),
        "a read-only request waited for a flush"
    );
}

#[test]
fn allow_unconfirmed_writes_do_not_hold_the_output_gate_but_sync_waits_for_them() {
    let dir = suite_project();
    let node = start(dir.path(), &["--test-slow-flush-ms", "400"]);
    assert_eq!(node.get("/counter/loose/get").1, "0");
    let began = Instant::now();
    assert_eq!(
        util::post(node.port, "/counter/loose/unconfirmed"),
        (200, "1".into())
    );
    assert!(
        began.elapsed() < Duration::from_millis(300),
        "an allowUnconfirmed write held the response ({:?})",
        began.elapsed()
    );
    let began = Instant::now();
    assert_eq!(
        util::post(node.port, "/counter/loose/unconfirmed?sync"),
        (200, "2".into())
    );
    assert!(
        began.elapsed() >= Duration::from_millis(400),
        "sync() returned before the write was durable"
    );
}

#[test]
fn input_gate_holds_events_until_block_concurrency_while_finishes() {
    let dir = suite_project();
    let node = start(dir.path(), &[]);
    let (status, body) = node.get("/gate/g1/ready");
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body), serde_json::json!(vec![true; 10]));
}

#[test]
fn a_full_mailbox_answers_overloaded() {
    let dir = suite_project();
    let node = start(dir.path(), &[]);
    let (status, body) = node.get("/gate/busy/overload");
    let mut node = node;
    node.wait_for_log("never", Duration::from_millis(200));
    let tail: Vec<_> = node
        .lines
        .iter()
        .filter(|l| !l.contains("overloaded") && !l.trim_start().starts_with("at "))
        .collect();
    assert_eq!(status, 200, "{body} {tail:#?}");
    let result = json(&body);
    assert!(result["overloaded"].as_u64().unwrap_or(0) >= 100, "{body}");
    assert!(result["ok"].as_u64().unwrap_or(0) >= 900, "{body}");
}

#[test]
fn idle_objects_are_evicted_and_recreated_from_storage() {
    let dir = suite_project();
    let node = start(dir.path(), &["--object-idle-evict-ms", "200"]);
    assert_eq!(util::post(node.port, "/counter/evict/inc").1, "1");
    let first = json(&node.get("/suite/evictee/who").1)["constructions"].as_u64();
    std::thread::sleep(Duration::from_millis(1200));
    let second = json(&node.get("/suite/evictee/who").1)["constructions"].as_u64();
    assert!(
        second > first,
        "the object was not evicted: {first:?} then {second:?}"
    );
    assert_eq!(
        node.get("/counter/evict/get").1,
        "1",
        "state survives eviction"
    );
}

fn wait_for_seen(node: &Node, name: &str, count: usize, timeout: Duration) -> serde_json::Value {
    let deadline = Instant::now() + timeout;
    loop {
        let state = json(&node.get(&format!("/alarm/{name}/seen")).1);
        if state["seen"].as_array().map_or(0, Vec::len) >= count || Instant::now() > deadline {
            return state;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn alarms_fire_and_retry_with_backoff() {
    let dir = suite_project();
    let node = start(dir.path(), &[]);
    assert_eq!(node.get("/alarm/once/set?ms=100").1, "true");
    let state = wait_for_seen(&node, "once", 1, Duration::from_secs(5));
    assert_eq!(state["seen"], serde_json::json!([0]));
    assert_eq!(
        state["alarm"],
        serde_json::Value::Null,
        "a successful alarm is deleted"
    );

    let began = Instant::now();
    assert_eq!(node.get("/alarm/flaky/set?ms=50&failures=1").1, "true");
    let state = wait_for_seen(&node, "flaky", 2, Duration::from_secs(10));
    assert_eq!(
        state["seen"],
        serde_json::json!([0, 1]),
        "retried with retryCount"
    );
    assert!(
        began.elapsed() >= Duration::from_secs(2),
        "the first retry waits 2 s"
    );
}

#[test]
fn an_alarm_set_by_the_alarm_handler_stays_set_after_it_awaits() {
    let dir = suite_project();
    let node = start(dir.path(), &[]);
    assert_eq!(node.get("/alarm/rearmed/set?ms=50&rearm=2").1, "true");
    let state = wait_for_seen(&node, "rearmed", 3, Duration::from_secs(10));
    assert_eq!(state["seen"], serde_json::json!([0, 0, 0]), "{state}");
    std::thread::sleep(Duration::from_millis(300));
    let state = wait_for_seen(&node, "rearmed", 4, Duration::ZERO);
    assert_eq!(
        state["seen"],
        serde_json::json!([0, 0, 0]),
        "fires no more: {state}"
    );
    assert_eq!(state["alarm"], serde_json::Value::Null, "{state}");
}

#[test]
fn alarms_survive_kill_9_and_fire_after_restart() {
    let dir = suite_project();
    let node = start(dir.path(), &[]);
    assert_eq!(node.get("/alarm/later/set?ms=1500").1, "true");
    node.kill9();
    let node = start(dir.path(), &[]);
    let state = wait_for_seen(&node, "later", 1, Duration::from_secs(10));
    assert_eq!(state["seen"], serde_json::json!([0]), "{state}");
}

#[test]
fn a_binding_to_a_class_no_migration_created_is_a_config_error() {
    let dir = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "x", "main": "index.js", "durable_objects": { "bindings": [{ "name": "A", "class_name": "Missing" }] } }"#,
        ),
        (
            "index.js",
            "export default { fetch() { return new Response('x'); } };",
        ),
    ]);
    let (ok, output) = util::dev_until_exit(dir.path());
    assert!(!ok);
    assert!(
        output.contains("wrangler.jsonc")
            && output.contains("\"Missing\" was not created by any migration"),
        "{output}"
    );
}

fn objects_cli(port: u16, token: &str, args: &[&str]) -> (bool, String) {
    let output = util::kiln()
        .arg("objects")
        .args(args)
        .args([
            "--url",
            &format!("http://127.0.0.1:{port}"),
            "--token",
            token,
        ])
        .output()
        .expect("run kiln objects");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn admin_cli_lists_inspects_and_deletes_objects_with_a_token() {
    let dir = suite_project();
    let node = start(dir.path(), &["--admin-token", "s3cret"]);
    for _ in 0..3 {
        assert_eq!(util::post(node.port, "/counter/listed/inc").0, 200);
    }
    let (ok, listed) = objects_cli(node.port, "s3cret", &["list", "Counter"]);
    assert!(ok, "{listed}");
    assert!(listed.contains("\"name\": \"listed\""), "{listed}");
    let (ok, shown) = objects_cli(node.port, "s3cret", &["get", "COUNTER", "listed"]);
    assert!(ok, "{shown}");
    assert!(shown.contains("\"n\": 3"), "{shown}");
    let (ok, refused) = objects_cli(node.port, "wrong", &["list", "Counter"]);
    assert!(!ok && refused.contains("401"), "{refused}");
    let (ok, deleted) = objects_cli(node.port, "s3cret", &["delete", "Counter", "listed"]);
    assert!(ok, "{deleted}");
    assert_eq!(
        node.get("/counter/listed/get").1,
        "0",
        "the live object was reset"
    );
    let (_, listed) = objects_cli(node.port, "s3cret", &["list", "Counter"]);
    assert!(!listed.contains("listed"), "{listed}");
}

#[test]
fn counter_example_counts_through_fetch_and_rpc() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/counter");
    let state = tempfile::tempdir().expect("tempdir");
    let persist = state.path().to_string_lossy().into_owned();
    let node = start(&root, &["--persist-to", &persist]);
    assert_eq!(util::post(node.port, "/visits").1, "1");
    assert_eq!(util::post(node.port, "/visits").1, "2");
    assert_eq!(util::post(node.port, "/visits/rpc").1, "3");
    assert_eq!(node.get("/visits").1, "3");
    assert_eq!(node.get("/other").1, "0");
}

#[test]
fn exports_of_cloudflare_workers_and_ctx_exports_name_the_workers_own_object_classes() {
    let dir = util::project(&[
        (
            "wrangler.toml",
            "name = \"exp\"\nmain = \"index.js\"\ncompatibility_date = \"2025-04-01\"\n[[durable_objects.bindings]]\nname = \"C\"\nclass_name = \"Counter\"\n[[migrations]]\ntag = \"v1\"\nnew_classes = [\"Counter\"]\n",
        ),
        (
            "index.js",
            r#"import { DurableObject, exports } from "cloudflare:workers";
            export class Counter extends DurableObject {
              async inc() { const n = ((await this.ctx.storage.get("n")) ?? 0) + 1; await this.ctx.storage.put("n", n); return n; }
            }
            export default { async fetch(request, env, ctx) {
              const a = await exports.Counter.getByName("x").inc();
              const b = await ctx.exports.Counter.getByName("x").inc();
              const c = await env.C.getByName("x").inc();
              return Response.json([a, b, c, exports.Counter === ctx.exports.Counter]);
            } };"#,
        ),
    ]);
    let node = util::dev(dir.path(), &[]);
    assert_eq!(node.get("/"), (200, "[1,2,3,true]".into()));
}
