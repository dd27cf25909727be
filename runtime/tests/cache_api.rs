#![allow(clippy::print_stdout)] // Tests report their counts.
//! The Cache API: every test in `js/cache_api.js` inside a Kiln isolate, and a response put by
//! one isolate matched by another (the cache is the node's, not the isolate's).
mod util;

#[tokio::test]
async fn cache_api_behaves_as_on_cloudflare() {
    util::run_js_suite("cache_api.js", include_str!("js/cache_api.js"), 9).await;
}

const SHARED: &str = r#"
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const key = "https://example.com/shared";
    if (url.pathname === "/put") {
      await caches.default.put(key, new Response("from the other isolate", { headers: { "cache-control": "max-age=60" } }));
      return new Response("put");
    }
    const hit = await caches.default.match(key);
    return new Response(hit ? await hit.text() : "miss");
  },
};
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn isolates_of_a_node_share_the_cache_and_workers_do_not() {
    let worker = util::js(SHARED);
    let other_worker = util::js(SHARED);
    // Two pools: their threads each make an isolate of the worker, so the put and the match
    // run in different isolates.
    let first = kiln_runtime::Runtime::new(kiln_runtime::RuntimeOptions {
        threads: 1,
        ..kiln_runtime::RuntimeOptions::default()
    });
    let second = kiln_runtime::Runtime::new(kiln_runtime::RuntimeOptions {
        threads: 1,
        ..kiln_runtime::RuntimeOptions::default()
    });
    let (_, body) = util::get_on(&second, &worker, "http://t/")
        .await
        .expect("miss");
    assert_eq!(body, "miss");
    let (_, body) = util::get_on(&first, &worker, "http://t/put")
        .await
        .expect("put");
    assert_eq!(body, "put");
    let (_, body) = util::get_on(&second, &worker, "http://t/")
        .await
        .expect("hit");
    assert_eq!(body, "from the other isolate");
    let (_, body) = util::get_on(&second, &other_worker, "http://t/")
        .await
        .expect("other worker");
    assert_eq!(body, "miss", "another worker does not see the entry");
}
