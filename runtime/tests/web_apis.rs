#![allow(clippy::print_stdout)] // Tests report their conformance counts.
//! Runs every test in `js/web_apis.js` inside a Kiln isolate and reports each.
mod util;

use kiln_runtime::ModuleKind;

#[tokio::test]
async fn web_apis_behave_as_on_cloudflare() {
    let worker = util::worker(&[(
        "web_apis.js",
        ModuleKind::EsModule,
        include_str!("js/web_apis.js"),
    )]);
    let (status, list) = util::get(&worker, "http://t/").await.expect("list");
    assert_eq!(status, 200);
    let names: Vec<String> = serde_json::from_str(&list).expect("test names");
    assert!(names.len() >= 10, "{names:?}");
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
