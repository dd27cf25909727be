#![allow(clippy::print_stdout)] // Tests report their counts.
//! The Cache API: every test in `js/cache_api.js` inside a Kiln isolate, and a response put by
//! one isolate matched by another (the cache is the node's, not the isolate's).
mod util;

use kiln_runtime::ModuleKind;

#[tokio::test]
async fn cache_api_behaves_as_on_cloudflare() {
    let worker = util::worker(&[(
        "cache_api.js",
        ModuleKind::EsModule,
        include_str!("js/cache_api.js"),
    )]);
    let (status, list) = util::get(&worker, "http://t/").await.expect("list");
    assert_eq!(status, 200);
    let names: Vec<String> = serde_json::from_str(&list).expect("test names");
    assert!(names.len() >= 9, "{names:?}");
    let mut failures = Vec::new();
    for name in &names {
        let (status, body) = util::get(&worker, &format!("http://t/{name}"))
            .await
            .expect("response");
        if status == 200 && body == "ok" {
            println!("js test {name} ... ok");
        } else {
            println!("js test {name} ... FAILED: {body}");
            failures.push(format!("{name}: {body}"));
        }
    }
    println!(
        "{} passed, {} failed",
        names.len() - failures.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
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
