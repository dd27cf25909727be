//! A JS thread keeps its isolates' heaps within the runtime's budget: idle isolates are dropped,
//! least recently used first, and come back (started anew) on their next request.

mod util;

/// A worker whose isolate holds `mib` MiB and answers with a number drawn when it started.
fn worker(mib: usize) -> std::sync::Arc<kiln_runtime::Worker> {
    util::js(&format!(
        "const ballast = new Uint8Array({mib} * 1024 * 1024).fill(1);
         const started = String(Math.random());
         export default {{ fetch() {{ return new Response(started + ':' + ballast.length); }} }};"
    ))
}

async fn started(
    runtime: &kiln_runtime::Runtime,
    w: &std::sync::Arc<kiln_runtime::Worker>,
) -> String {
    let (status, body) = util::get_on(runtime, w, "http://t/")
        .await
        .expect("answers");
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn idle_isolates_past_the_memory_budget_are_dropped_least_recently_used_first() {
    let runtime = kiln_runtime::Runtime::new(kiln_runtime::RuntimeOptions {
        threads: 1,
        isolate_cache_bytes: 12 * 1024 * 1024,
        ..kiln_runtime::RuntimeOptions::default()
    });
    let first = worker(4);
    let before = started(&runtime, &first).await;
    assert_eq!(
        started(&runtime, &first).await,
        before,
        "a cached isolate answers"
    );
    for _ in 0..3 {
        started(&runtime, &worker(4)).await;
    }
    let after = started(&runtime, &first).await;
    assert_ne!(
        after, before,
        "the least recently used isolate was dropped and started anew"
    );

    let roomy = kiln_runtime::Runtime::new(kiln_runtime::RuntimeOptions {
        threads: 1,
        ..kiln_runtime::RuntimeOptions::default()
    });
    let kept = worker(4);
    let before = started(&roomy, &kept).await;
    for _ in 0..3 {
        started(&roomy, &worker(4)).await;
    }
    assert_eq!(
        started(&roomy, &kept).await,
        before,
        "within the budget nothing is dropped"
    );
}
