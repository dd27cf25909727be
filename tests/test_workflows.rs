//! Workflows through a real `kiln dev`: an instance that runs steps (each callback once, however
//! often the run replays), sleeps, retries a failing step, waits for an event sent to it and
//! completes with its output; the binding's errors (unknown instance, duplicate or invalid id);
//! a NonRetryableError that errors the instance; pause, resume and terminate; and an instance
//! asleep when its node is killed with SIGKILL, which finishes after the restart.

use std::time::{Duration, Instant};

use crate::util;

const WORKER: &str = r#"
import { DurableObject, WorkflowEntrypoint } from "cloudflare:workers";
import { NonRetryableError } from "cloudflare:workflows";

// Counts how often each step callback ran, outside the workflow's own storage.
export class Log extends DurableObject {
  async hit(name) {
    const n = ((await this.ctx.storage.get(name)) ?? 0) + 1;
    await this.ctx.storage.put(name, n);
    return n;
  }
  async counts() { return Object.fromEntries(await this.ctx.storage.list()); }
}

export class Flow extends WorkflowEntrypoint {
  async run(event, step) {
    const log = this.env.LOG.getByName(event.instanceId);
    const doubled = await step.do("double", async () => {
      await log.hit("double");
      return { value: event.payload.n * 2 };
    });
    await step.sleep("nap", event.payload.napMs ?? 300);
    const flaky = await step.do("flaky", { retries: { limit: 2, delay: 100, backoff: "constant" } }, async () => {
      const n = await log.hit("flaky");
      if (n < 2) throw new Error("not yet");
      return n;
    });
    if (event.payload.fatal) {
      await step.do("fatal", async () => { throw new NonRetryableError("give up"); });
    }
    const approval = await step.waitForEvent("approval", { type: "approve", timeout: "1 minute" });
    return { doubled: doubled.value, flaky, approved: approval.payload, type: approval.type, id: event.instanceId,
      when: event.timestamp instanceof Date };
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const id = url.searchParams.get("id");
    try {
      switch (url.pathname) {
        case "/create": {
          const params = JSON.parse(url.searchParams.get("params") ?? "{}");
          const instance = await env.FLOW.create(id === null ? { params } : { id, params });
          return Response.json({ id: instance.id });
        }
        case "/status": return Response.json(await (await env.FLOW.get(id)).status());
        case "/event": {
          await (await env.FLOW.get(id)).sendEvent({ type: "approve", payload: url.searchParams.get("payload") });
          return new Response("sent");
        }
        case "/pause": await (await env.FLOW.get(id)).pause(); return new Response("paused");
        case "/resume": await (await env.FLOW.get(id)).resume(); return new Response("resumed");
        case "/terminate": await (await env.FLOW.get(id)).terminate(); return new Response("terminated");
        case "/log": return Response.json(await env.LOG.getByName(id).counts());
      }
      return new Response("not found", { status: 404 });
    } catch (err) {
      return new Response(`${err.name}: ${err.message}`, { status: 500 });
    }
  },
};
"#;

const CONFIG: &str = r#"{ "name": "wf", "main": "index.js", "compatibility_date": "2025-04-01",
  "workflows": [{ "name": "flow", "binding": "FLOW", "class_name": "Flow" }],
  "durable_objects": { "bindings": [{ "name": "LOG", "class_name": "Log" }] },
  "migrations": [{ "tag": "v1", "new_sqlite_classes": ["Log"] }] }"#;

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|err| panic!("{err}: {text}"))
}

/// Polls the instance's status until it is `want` (or the deadline passes) and returns it.
fn wait_for_status(
    node: &util::Node,
    id: &str,
    want: &str,
    timeout: Duration,
) -> serde_json::Value {
    let deadline = Instant::now() + timeout;
    loop {
        let (status, body) = node.get(&format!("/status?id={id}"));
        assert_eq!(status, 200, "{body}");
        let value = json(&body);
        if value["status"] == want || Instant::now() > deadline {
            return value;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Polls the instance's callback counts until `flaky` ran `flaky` times (or 10 s pass).
fn wait_for_log(node: &util::Node, id: &str, flaky: u64) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = json(&node.get(&format!("/log?id={id}")).1);
        if log["flaky"].as_u64() >= Some(flaky) || Instant::now() > deadline {
            return log;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_workflow_runs_steps_once_sleeps_retries_waits_for_an_event_and_completes() {
    let dir = util::project(&[("wrangler.jsonc", CONFIG), ("index.js", WORKER)]);
    let node = util::dev(dir.path(), &[]);
    let (status, body) = node.get("/create?id=order-1&params=%7B%22n%22%3A21%7D");
    assert_eq!(
        (status, json(&body)["id"].as_str()),
        (200, Some("order-1")),
        "{body}"
    );

    let asleep = wait_for_status(&node, "order-1", "waiting", Duration::from_secs(10));
    assert_eq!(asleep["status"], "waiting", "asleep: {asleep}");
    // Asleep for 300 ms, then one failed attempt of `flaky` and its retry: then at the event.
    let log = wait_for_log(&node, "order-1", 2);
    let waiting = wait_for_status(&node, "order-1", "waiting", Duration::from_secs(10));
    assert_eq!(
        waiting["status"], "waiting",
        "waiting for the event: {waiting}"
    );
    assert_eq!(
        log,
        serde_json::json!({ "double": 1, "flaky": 2 }),
        "each callback ran once per attempt"
    );
    assert_eq!(
        node.get("/event?id=order-1&payload=yes"),
        (200, "sent".into())
    );

    let done = wait_for_status(&node, "order-1", "complete", Duration::from_secs(10));
    assert_eq!(
        done["output"],
        serde_json::json!({ "doubled": 42, "flaky": 2, "approved": "yes", "type": "approve", "id": "order-1", "when": true }),
        "{done}"
    );
    let log = json(&node.get("/log?id=order-1").1);
    assert_eq!(
        log,
        serde_json::json!({ "double": 1, "flaky": 2 }),
        "replays ran no callback again"
    );

    // The binding's errors.
    let (status, body) = node.get("/status?id=nobody");
    assert_eq!((status, body.as_str()), (500, "Error: instance.not_found"));
    let (status, body) = node.get("/create?id=order-1");
    assert_eq!(status, 500);
    assert!(body.contains("already exists"), "{body}");
    let (status, body) = node.get("/create?id=-bad%20id");
    assert_eq!(
        (status, body.as_str()),
        (500, "WorkflowError: Workflow instance has invalid id")
    );
    let (status, body) = node.get("/create");
    assert_eq!(status, 200, "an id is made when none is given: {body}");
    assert_eq!(json(&body)["id"].as_str().map(str::len), Some(36), "{body}");
}

#[test]
fn a_non_retryable_error_errors_the_instance_and_pause_resume_terminate_work() {
    let dir = util::project(&[("wrangler.jsonc", CONFIG), ("index.js", WORKER)]);
    let node = util::dev(dir.path(), &[]);

    assert_eq!(
        node.get("/create?id=doomed&params=%7B%22n%22%3A1%2C%22fatal%22%3Atrue%7D")
            .0,
        200
    );
    let errored = wait_for_status(&node, "doomed", "errored", Duration::from_secs(10));
    assert_eq!(errored["status"], "errored", "{errored}");
    assert_eq!(
        errored["error"],
        serde_json::json!({ "name": "WorkflowFatalError", "message": "The execution of the Workflow instance was terminated, as a step threw an NonRetryableError and it was not handled" }),
        "{errored}"
    );

    // Paused while asleep: it stays paused past its wake-up time, and resumes where it was.
    assert_eq!(
        node.get("/create?id=held&params=%7B%22n%22%3A2%2C%22napMs%22%3A400%7D")
            .0,
        200
    );
    let asleep = wait_for_status(&node, "held", "waiting", Duration::from_secs(10));
    assert_eq!(asleep["status"], "waiting", "{asleep}");
    assert_eq!(node.get("/pause?id=held"), (200, "paused".into()));
    std::thread::sleep(Duration::from_millis(800));
    let paused = wait_for_status(&node, "held", "paused", Duration::ZERO);
    assert_eq!(paused["status"], "paused", "{paused}");
    assert_eq!(
        json(&node.get("/log?id=held").1),
        serde_json::json!({ "double": 1 }),
        "nothing ran while paused"
    );
    assert_eq!(node.get("/resume?id=held"), (200, "resumed".into()));
    let log = wait_for_log(&node, "held", 2);
    assert_eq!(log, serde_json::json!({ "double": 1, "flaky": 2 }));

    assert_eq!(node.get("/terminate?id=held"), (200, "terminated".into()));
    assert_eq!(json(&node.get("/status?id=held").1)["status"], "terminated");
    let (status, body) = node.get("/event?id=held&payload=late");
    assert_eq!(
        (status, body.as_str()),
        (200, "sent"),
        "an event to a finished instance is dropped"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(json(&node.get("/status?id=held").1)["status"], "terminated");
}

#[test]
fn a_sleeping_workflow_survives_kill_9_and_completes_after_restart() {
    let dir = util::project(&[("wrangler.jsonc", CONFIG), ("index.js", WORKER)]);
    let persist = tempfile::tempdir().expect("tempdir");
    let state = persist.path().to_str().expect("utf-8 path");
    let node = util::dev(dir.path(), &["--persist-to", state]);
    assert_eq!(
        node.get("/create?id=sleeper&params=%7B%22n%22%3A5%2C%22napMs%22%3A1500%7D")
            .0,
        200
    );
    let asleep = wait_for_status(&node, "sleeper", "waiting", Duration::from_secs(10));
    assert_eq!(asleep["status"], "waiting", "{asleep}");
    node.kill9();

    let node = util::dev(dir.path(), &["--persist-to", state]);
    // Sent before the run gets to wait for it: the instance keeps it until then.
    assert_eq!(
        node.get("/event?id=sleeper&payload=ok"),
        (200, "sent".into())
    );
    let done = wait_for_status(&node, "sleeper", "complete", Duration::from_secs(15));
    assert_eq!(done["output"]["doubled"], 10, "{done}");
    assert_eq!(done["output"]["approved"], "ok", "{done}");
    assert_eq!(
        json(&node.get("/log?id=sleeper").1),
        serde_json::json!({ "double": 1, "flaky": 2 }),
        "the step done before the kill did not run again"
    );
}
