//! Workers in the service-worker syntax (`addEventListener("fetch", ...)`), as Cloudflare
//! still runs them: a classic script, bindings as globals, `event.respondWith`.

mod util;

use kiln_runtime::ModuleKind;

const SCRIPT: &str = r#"
// Sloppy mode, as a classic script: an undeclared assignment makes a global.
counter = 0;
addEventListener("fetch", (event) => {
  counter++;
  const url = new URL(event.request.url);
  if (url.pathname === "/none") return;
  if (url.pathname === "/throw") throw new TypeError("listener failed");
  event.waitUntil(Promise.resolve());
  event.respondWith(handle(event.request));
});
addEventListener("fetch", (event) => {
  // A second listener runs too; the first respondWith() decides, a second one throws.
  if (new URL(event.request.url).pathname !== "/twice") return;
  try {
    event.respondWith(new Response("second"));
  } catch (err) {
    secondError = err.name;
  }
});
var secondError = "none";
async function handle(request) {
  await null;
  if (new URL(request.url).pathname === "/twice") {
    return new Response(`first, then ${secondError}`);
  }
  return new Response(`${GREETING} ${request.method} ${counter} ${typeof self.addEventListener} ${this === undefined}`);
}
"#;

/// SCRIPT as a worker with the var GREETING = "hello".
fn script_worker() -> std::sync::Arc<kiln_runtime::Worker> {
    let mut env = serde_json::Map::new();
    env.insert("GREETING".into(), serde_json::Value::String("hello".into()));
    util::worker_with(
        &[("worker.js", ModuleKind::EsModule, SCRIPT)],
        kiln_runtime::WorkerLimits::default(),
        env,
    )
}

#[tokio::test]
async fn fetch_listeners_answer_with_bindings_as_globals() {
    let worker = script_worker();
    assert_eq!(
        worker.format(),
        kiln_runtime::script_format::ScriptFormat::ServiceWorker
    );
    let (status, body) = util::get(&worker, "http://t/").await.expect("answers");
    assert_eq!((status, body.as_str()), (200, "hello GET 1 function false"));
    // The script's globals live on: each isolate counts its own requests (a request may land
    // on another JS thread's isolate, which starts at 1).
    let (_, body) = util::get(&worker, "http://t/again").await.expect("answers");
    assert!(
        body == "hello GET 2 function false" || body == "hello GET 1 function false",
        "{body}"
    );
    let (status, body) = util::get(&worker, "http://t/twice").await.expect("answers");
    assert_eq!(
        (status, body.as_str()),
        (200, "first, then InvalidStateError")
    );
}

#[tokio::test]
async fn a_listener_that_never_responds_or_throws_is_an_error() {
    let worker = script_worker();
    let err = util::get(&worker, "http://t/none")
        .await
        .expect_err("no response");
    assert!(
        err.to_string()
            .contains("The script will never generate a response."),
        "{err}"
    );
    let err = util::get(&worker, "http://t/throw")
        .await
        .expect_err("listener threw");
    assert!(err.to_string().contains("listener failed"), "{err}");
}

#[tokio::test]
async fn a_module_worker_is_never_run_as_a_script() {
    let worker = util::js(
        r#"addEventListener("unhandledrejection", () => {});
           export default { fetch() { return new Response(typeof addEventListener); } }"#,
    );
    assert_eq!(
        worker.format(),
        kiln_runtime::script_format::ScriptFormat::Modules
    );
    let (status, body) = util::get(&worker, "http://t/").await.expect("answers");
    assert_eq!((status, body.as_str()), (200, "function"));
}

#[tokio::test]
async fn scheduled_listeners_get_the_cron_and_time() {
    let worker = util::js(
        r#"let seen = "none";
        addEventListener("scheduled", (event) => {
          event.waitUntil(Promise.resolve());
          seen = `${event.type} ${event.cron} ${event.scheduledTime}`;
        });
        addEventListener("fetch", (event) => event.respondWith(new Response(seen)));"#,
    );
    // One thread, so the fetch reaches the isolate the scheduled event ran in.
    let pool = kiln_runtime::Runtime::new(kiln_runtime::RuntimeOptions {
        threads: 1,
        ..kiln_runtime::RuntimeOptions::default()
    });
    pool.scheduled(&worker, "*/5 * * * *".into(), 1_700_000_000_000.0)
        .await
        .expect("the scheduled event runs");
    let (status, body) = util::get_on(&pool, &worker, "http://t/")
        .await
        .expect("answers");
    assert_eq!(
        (status, body.as_str()),
        (200, "scheduled */5 * * * * 1700000000000")
    );
}
