#![allow(clippy::print_stdout)] // Tests report their conformance counts.
//! Runs every test in `js/crypto_subtle.js` (WebCrypto known-answer tests, cross-checks against
//! keys and signatures made by OpenSSL, JWK round trips and error names) inside a Kiln isolate.
mod util;

use kiln_runtime::ModuleKind;

#[tokio::test]
async fn crypto_subtle_matches_webcrypto() {
    let worker = util::worker(&[(
        "crypto_subtle.js",
        ModuleKind::EsModule,
        include_str!("js/crypto_subtle.js"),
    )]);
    let (status, list) = util::get(&worker, "http://t/").await.expect("list");
    assert_eq!(status, 200, "{list}");
    let names: Vec<String> = serde_json::from_str(&list).expect("test names");
    assert!(names.len() >= 20, "{names:?}");
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
