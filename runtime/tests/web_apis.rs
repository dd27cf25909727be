#![allow(clippy::print_stdout)] // Tests report their conformance counts.
//! Runs every test in `js/web_apis.js` inside a Kiln isolate and reports each.
mod util;

#[tokio::test]
async fn web_apis_behave_as_on_cloudflare() {
    util::run_js_suite("web_apis.js", include_str!("js/web_apis.js"), 10).await;
}
