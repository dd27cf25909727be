#![allow(clippy::print_stdout)] // Tests report their conformance counts.
//! Runs every test in `js/crypto_subtle.js` (WebCrypto known-answer tests, cross-checks against
//! keys and signatures made by OpenSSL, JWK round trips and error names) inside a Kiln isolate.
mod util;

#[tokio::test]
async fn crypto_subtle_matches_webcrypto() {
    util::run_js_suite("crypto_subtle.js", include_str!("js/crypto_subtle.js"), 20).await;
}
