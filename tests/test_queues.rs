//! Queues through a real `kiln dev`: `send` and `sendBatch` from a worker, batches delivered to
//! its `queue()` handler, a message retried once then acked, a poison message dead-lettered to
//! a second queue after `max_retries`, and sent messages that survive kill -9 of the node before
//! their delivery.

use std::time::{Duration, Instant};

use crate::util;

const WORKER: &str = r#"
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/send") {
      await env.JOBS.sendBatch([{ body: { kind: "plain", n: 1 } }, { body: { kind: "plain", n: 2 } }, { body: { kind: "flaky", n: 3 } }]);
      await env.JOBS.send({ kind: "poison", n: 4 });
      await env.JOBS.send("text body", { contentType: "text" });
      return new Response("sent");
    }
    const keys = (await env.KV.list()).keys.map((k) => k.name);
    const values = await Promise.all(keys.map((k) => env.KV.get(k)));
    return Response.json(Object.fromEntries(keys.map((k, i) => [k, values[i]])));
  },
  async queue(batch, env) {
    for (const message of batch.messages) {
      const body = message.body;
      if (batch.queue === "dead") {
        await env.KV.put(`dead:${body.n}`, String(message.attempts));
      } else if (typeof body === "string") {
        await env.KV.put("text", body);
      } else if (body.kind === "flaky" && message.attempts === 1) {
        message.retry();
        continue;
      } else if (body.kind === "poison") {
        message.retry();
        continue;
      } else {
        await env.KV.put(`done:${body.n}`, String(message.attempts));
      }
      message.ack();
    }
  },
};
"#;

const CONFIG: &str = r#"{ "name": "q", "main": "index.js", "compatibility_date": "2025-04-01",
  "kv_namespaces": [{ "binding": "KV", "id": "queue-results" }],
  "queues": {
    "producers": [{ "binding": "JOBS", "queue": "jobs" }],
    "consumers": [
      { "queue": "jobs", "max_batch_size": 10, "max_batch_timeout": 0.2, "max_retries": 1, "dead_letter_queue": "dead" },
      { "queue": "dead", "max_batch_timeout": 0.1 }
    ] } }"#;

#[test]
fn queues_deliver_batches_retry_and_dead_letter() {
    let dir = util::project(&[("wrangler.jsonc", CONFIG), ("index.js", WORKER)]);
    let node = util::dev(dir.path(), &[]);
    assert_eq!(node.get("/send"), (200, "sent".into()));
    let expected = serde_json::json!({
        "dead:4": "1", "done:1": "1", "done:2": "1", "done:3": "2", "text": "text body"
    });
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = node.get("/seen");
        let seen: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        if status == 200 && seen == expected {
            break;
        }
        assert!(Instant::now() < deadline, "{status} {body}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_sent_message_survives_kill_9_before_it_is_delivered() {
    let slow = CONFIG.replace("\"max_batch_timeout\": 0.2", "\"max_batch_timeout\": 4");
    assert_ne!(slow, CONFIG);
    let dir = util::project(&[("wrangler.jsonc", &slow), ("index.js", WORKER)]);
    let node = util::dev(dir.path(), &[]);
    assert_eq!(node.get("/send"), (200, "sent".into()));
    node.kill9();
    let node = util::dev(dir.path(), &[]);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = node.get("/seen");
        let seen: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        if status == 200 && seen["done:1"] == "1" && seen["done:2"] == "1" {
            break;
        }
        assert!(Instant::now() < deadline, "{status} {body}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
