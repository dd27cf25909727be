#![allow(clippy::print_stdout)] // Tests report their conformance counts.
//! WHATWG conformance data from ../shared/conformance run through the runtime's `URL` and
//! `TextDecoder`. The bar for URL parsing is the `url` crate itself: every case it passes must
//! pass in JavaScript too.
mod util;

use std::path::PathBuf;

use kiln_runtime::ModuleKind;

fn conformance(path: &str) -> Option<String> {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/conformance")
        .join(path);
    std::fs::read_to_string(&file).ok()
}

/// Runs a worker whose `index.js` imports `data_name` (a JSON module holding `data`) and answers
/// with JSON; returns that JSON.
async fn run_with_data(runner: &str, data_name: &str, data: &str) -> serde_json::Value {
    let worker = util::worker(&[
        ("index.js", ModuleKind::EsModule, runner),
        (data_name, ModuleKind::Json, data),
    ]);
    let (status, body) = util::get(&worker, "http://t/").await.expect("runs");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("results")
}

const URL_RUNNER: &str = r#"
import cases from "./urltestdata.json";
export default { fetch() {
  const results = [];
  for (const c of cases) {
    if (typeof c === "string") continue;
    let href = null;
    try { href = (c.base === null || c.base === undefined ? new URL(c.input) : new URL(c.input, c.base)).href; } catch { href = null; }
    results.push(c.failure ? href === null : href === c.href);
  }
  return Response.json(results);
} };
"#;

#[tokio::test]
async fn wpt_url_parsing() {
    let Some(data) = conformance("wpt-url/urltestdata.json") else {
        println!("SKIPPED: ../shared/conformance/wpt-url/urltestdata.json is not present");
        return;
    };
    let cases: Vec<serde_json::Value> = serde_json::from_str(&data).expect("valid JSON");
    let js: Vec<bool> =
        serde_json::from_value(run_with_data(URL_RUNNER, "urltestdata.json", &data).await)
            .expect("a result per case");
    let mut crate_passed = 0;
    let mut js_passed = 0;
    let mut regressions = Vec::new();
    for (case, js_ok) in cases.iter().filter(|c| c.is_object()).zip(&js) {
        let input = case["input"].as_str().unwrap_or_default();
        let parsed = match case["base"].as_str() {
            Some(base) => url::Url::parse(base).and_then(|b| b.join(input)),
            None => url::Url::parse(input),
        };
        let crate_ok = if case["failure"].as_bool() == Some(true) {
            parsed.is_err()
        } else {
            parsed
                .map(|u| u.as_str() == case["href"].as_str().unwrap_or_default())
                .unwrap_or(false)
        };
        crate_passed += usize::from(crate_ok);
        js_passed += usize::from(*js_ok);
        if crate_ok && !js_ok {
            regressions.push(case.clone());
        }
    }
    println!(
        "WPT urltestdata: {js_passed} passed, {} failed in Kiln (the url crate passes {crate_passed} of {})",
        js.len() - js_passed,
        js.len()
    );
    assert!(
        regressions.is_empty(),
        "cases the url crate passes but Kiln fails: {regressions:#?}"
    );
}

const SETTERS_RUNNER: &str = r#"
import data from "./setters_tests.json";
export default { fetch() {
  let passed = 0, failed = 0; const failures = [];
  for (const [setter, cases] of Object.entries(data)) {
    if (setter === "comment") continue;
    for (const c of cases) {
      const url = new URL(c.href);
      url[setter] = c.new_value;
      let ok = true;
      for (const [k, v] of Object.entries(c.expected)) if (url[k] !== v) ok = false;
      if (ok) passed++; else { failed++; failures.push(`${setter} ${c.href} ${c.new_value}`); }
    }
  }
  return Response.json({ passed, failed, failures });
} };
"#;

#[tokio::test]
async fn wpt_url_setters() {
    let Some(data) = conformance("wpt-url/setters_tests.json") else {
        println!("SKIPPED: ../shared/conformance/wpt-url/setters_tests.json is not present");
        return;
    };
    let result = run_with_data(SETTERS_RUNNER, "setters_tests.json", &data).await;
    let passed = result["passed"].as_u64().unwrap_or(0);
    let failed = result["failed"].as_u64().unwrap_or(0);
    println!("WPT setters_tests: {passed} passed, {failed} failed");
    for failure in result["failures"].as_array().into_iter().flatten() {
        println!("  setter failure: {failure}");
    }
    // Known gaps are setters where llrt_url diverges from the spec; keep them from growing.
    assert!(
        passed > 0 && failed * 10 <= passed + failed,
        "too many setter failures: {failed}"
    );
}

const ENCODING_RUNNER: &str = r#"
import data from "./encodings.json";
export default { fetch() {
  let passed = 0, failed = 0; const failures = [];
  for (const group of data) for (const enc of group.encodings) for (const label of enc.labels) {
    let got;
    try { got = new TextDecoder(label).encoding; } catch { got = "RangeError"; }
    const want = enc.name === "replacement" ? "RangeError" : enc.name.toLowerCase();
    if (got === want) passed++; else { failed++; failures.push(`${label}: ${got} != ${want}`); }
  }
  return Response.json({ passed, failed, failures });
} };
"#;

#[tokio::test]
async fn whatwg_encoding_labels() {
    let Some(data) = conformance("whatwg-encoding/encodings.json") else {
        println!("SKIPPED: ../shared/conformance/whatwg-encoding/encodings.json is not present");
        return;
    };
    let result = run_with_data(ENCODING_RUNNER, "encodings.json", &data).await;
    println!(
        "TextDecoder labels: {} passed, {} failed",
        result["passed"], result["failed"]
    );
    assert_eq!(result["failed"], 0, "{}", result["failures"]);
}
