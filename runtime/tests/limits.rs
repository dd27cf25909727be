//! CPU and memory limits: a runaway worker gets 503 and a fresh isolate, while other workers
//! keep answering.
mod util;

use std::time::{Duration, Instant};

use kiln_runtime::{Error, ModuleKind, WorkerLimits};

fn limited(source: &str, cpu_ms: u64, memory_bytes: usize) -> std::sync::Arc<kiln_runtime::Worker> {
    util::worker_with(
        &[("index.js", ModuleKind::EsModule, source)],
        WorkerLimits {
            cpu_ms,
            memory_bytes,
            ..WorkerLimits::default()
        },
        serde_json::Map::new(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn infinite_loop_hits_cpu_limit_while_others_answer() {
    let spinner = limited(
        r#"export default { async fetch(req) { if (new URL(req.url).pathname === "/spin") { for (;;) {} } return new Response("alive"); } }"#,
        300,
        64 << 20,
    );
    let other = util::js(r#"export default { fetch() { return new Response("other"); } }"#);
    // A pool of its own: other tests in this binary must not occupy its two JS threads.
    let pool = kiln_runtime::Runtime::new(kiln_runtime::RuntimeOptions {
        threads: 2,
        ..kiln_runtime::RuntimeOptions::default()
    });
    let spin = tokio::spawn({
        let pool = pool.clone();
        let spinner = spinner.clone();
        async move {
            let started = Instant::now();
            (
                util::get_on(&pool, &spinner, "http://t/spin").await,
                started.elapsed(),
            )
        }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    let (status, body) = util::get_on(&pool, &other, "http://t/")
        .await
        .expect("other worker answers");
    assert_eq!((status, body.as_str()), (200, "other"));
    assert!(
        started.elapsed() < Duration::from_millis(250),
        "the other worker was held up: {:?}",
        started.elapsed()
    );
    let (result, elapsed) = spin.await.expect("join");
    let err = result.expect_err("the spinning request fails");
    assert!(matches!(err, Error::CpuLimit), "{err:?}");
    assert_eq!(err.to_string(), "Worker exceeded CPU time limit.");
    assert_eq!(err.http_status(), 503);
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
    let (status, body) = util::get_on(&pool, &spinner, "http://t/")
        .await
        .expect("fresh isolate");
    assert_eq!((status, body.as_str()), (200, "alive"));
}

#[tokio::test]
async fn cpu_is_counted_not_wall_time() {
    let sleeper = limited(
        r#"export default { async fetch() { await new Promise(r => setTimeout(r, 400)); return new Response("slept"); } }"#,
        100,
        64 << 20,
    );
    let (status, body) = util::get(&sleeper, "http://t/").await.expect("answers");
    assert_eq!((status, body.as_str()), (200, "slept"));
}

#[tokio::test]
async fn allocation_bomb_hits_memory_limit() {
    let bomb = limited(
        r#"export default { async fetch(req) {
            if (new URL(req.url).pathname === "/bomb") {
              const keep = [];
              for (;;) { try { keep.push(new Array(100000).fill(1.5)); } catch (e) { /* try to survive */ } }
            }
            return new Response("fine");
        } }"#,
        30_000,
        32 << 20,
    );
    let err = util::get(&bomb, "http://t/bomb")
        .await
        .expect_err("the bomb fails");
    assert!(matches!(err, Error::MemoryLimit), "{err:?}");
    assert_eq!(err.http_status(), 503);
    let (status, body) = util::get(&bomb, "http://t/").await.expect("fresh isolate");
    assert_eq!((status, body.as_str()), (200, "fine"));
}

#[tokio::test]
async fn uncaught_exception_is_reported_with_location() {
    let thrower = util::worker(&[(
        "src/index.js",
        ModuleKind::EsModule,
        "export default {\n  fetch() {\n    throw new TypeError(\"nope\");\n  }\n};\n",
    )]);
    let err = util::get(&thrower, "http://t/").await.expect_err("throws");
    let text = err.to_string();
    assert!(text.contains("TypeError: nope"), "{text}");
    assert!(text.contains("src/index.js:3:"), "{text}");
    assert_eq!(err.http_status(), 500);
}

#[tokio::test]
async fn syntax_error_at_startup_names_file_line_column() {
    let broken = util::worker(&[(
        "src/index.js",
        ModuleKind::EsModule,
        "export default {\n  fetch() { return new Response(\"x\") }\n}}\n",
    )]);
    let err = util::runtime()
        .load(&broken)
        .await
        .expect_err("does not load");
    let text = err.to_string();
    assert!(text.contains("SyntaxError"), "{text}");
    assert!(text.contains("src/index.js:3:"), "{text}");
}

#[tokio::test]
async fn a_loop_that_throws_and_catches_still_stops_at_the_cpu_limit() {
    // Every throw formats a stack (Kiln's V8-shaped `Error.prepareStackTrace`); the interrupt
    // that ends the isolate must not be lost inside it.
    let thrower = limited(
        r#"export default { async fetch() {
            for (;;) { try { null.x; } catch (e) { } }
        } }"#,
        300,
        64 << 20,
    );
    let started = Instant::now();
    let err = util::get(&thrower, "http://t/")
        .await
        .expect_err("the loop is stopped");
    assert!(matches!(err, Error::CpuLimit), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(20));
    let failing = limited(
        r#"export default { async fetch() { try { null.x; } catch (e) { return new Response(e.stack.split("\n")[0]); } } }"#,
        300,
        64 << 20,
    );
    let (status, body) = util::get(&failing, "http://t/").await.expect("answers");
    assert_eq!(
        (status, body.as_str()),
        (200, "TypeError: cannot read property 'x' of null")
    );
}

#[tokio::test]
async fn code_the_stack_formatter_calls_is_still_stopped_at_the_cpu_limit() {
    // A worker may call the formatter itself with call sites of its own making.
    let sneaky = limited(
        r#"export default { async fetch() {
            Error.prepareStackTrace(new Error("x"), [{ getFileName() { for (;;) {} } }]);
            return new Response("escaped");
        } }"#,
        300,
        64 << 20,
    );
    let started = Instant::now();
    let err = util::get(&sneaky, "http://t/")
        .await
        .expect_err("the loop is stopped");
    assert!(matches!(err, Error::CpuLimit), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test]
async fn a_promise_nothing_can_settle_ends_with_never_generate_a_response() {
    let stuck = util::js(
        r#"export default { async fetch(req) {
            const path = new URL(req.url).pathname;
            if (path === "/timer") {
                // Settled by a timer well after the hang checks start: not a hang.
                return new Promise((resolve) => setTimeout(() => resolve(new Response("late")), 400));
            }
            if (path === "/chained") {
                await new Promise((resolve) => setTimeout(resolve, 120));
                await new Promise((resolve) => setTimeout(resolve, 120));
                return new Response("chained");
            }
            return new Promise(() => {});
        } }"#,
    );
    let started = Instant::now();
    let err = tokio::time::timeout(Duration::from_secs(10), util::get(&stuck, "http://t/"))
        .await
        .expect("answered, not hung")
        .expect_err("a request whose promise never settles fails");
    assert!(
        err.to_string()
            .ends_with("Error: The script will never generate a response."),
        "{err}"
    );
    assert_eq!(err.http_status(), 500);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let (status, body) = util::get(&stuck, "http://t/timer")
        .await
        .expect("a timer settles it");
    assert_eq!((status, body.as_str()), (200, "late"));
    let (status, body) = util::get(&stuck, "http://t/chained")
        .await
        .expect("timers settle it");
    assert_eq!((status, body.as_str()), (200, "chained"));
}

#[tokio::test]
async fn yield_inside_a_for_of_head_compiles_and_runs() {
    // superstruct's refine(), as Next.js bundles through OpenNext inline it.
    let worker = util::js(
        r#"function* inner() { yield 1; }
export default { fetch() {
  const out = [];
  const g = (function* () { yield* inner(); yield 2; for (const s of (yield* [], ["r"])) yield s; })();
  for (const v of g) out.push(v);
  const early = (function* () { for (const x of yield "first") yield x; })();
  out.push(early.next().value, early.return("done").value);
  return Response.json(out);
} };"#,
    );
    let (status, body) = util::get(&worker, "http://t/")
        .await
        .expect("starts and answers");
    assert_eq!(
        (status, body.as_str()),
        (200, r#"[1,2,"r","first","done"]"#)
    );
}

#[tokio::test]
async fn deep_recursion_goes_thousands_of_frames_then_throws_a_range_error() {
    let worker = util::js(
        r#"function depth(n) { return n === 0 ? 0 : 1 + depth(n - 1); }
function nested(n) { let value = {}; for (let i = 0; i < n; i++) value = { inner: value }; return value; }
export default { fetch() {
  const deep = depth(1500);
  const cloned = structuredClone(nested(400));
  let tooDeep = "";
  try { depth(10_000_000); } catch (err) { tooDeep = err.name; }
  return Response.json([deep, typeof cloned.inner, tooDeep]);
} };"#,
    );
    let (status, body) = util::get(&worker, "http://t/").await.expect("answers");
    assert_eq!(
        (status, body.as_str()),
        (200, r#"[1500,"object","RangeError"]"#)
    );
}
