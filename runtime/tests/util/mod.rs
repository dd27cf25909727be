//! Helpers for runtime tests: build a worker from sources and send it requests.
#![allow(dead_code)]

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http_body_util::BodyExt;
use kiln_runtime::{
    ModuleKind, ModuleSource, Runtime, RuntimeOptions, Worker, WorkerLimits, WorkerScript,
};

pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        Runtime::new(RuntimeOptions {
            threads: 2,
            ..RuntimeOptions::default()
        })
    })
}

pub fn worker(modules: &[(&str, ModuleKind, &str)]) -> Arc<Worker> {
    worker_with(modules, WorkerLimits::default(), serde_json::Map::new())
}

pub fn worker_with(
    modules: &[(&str, ModuleKind, &str)],
    limits: WorkerLimits,
    env: serde_json::Map<String, serde_json::Value>,
) -> Arc<Worker> {
    let script = WorkerScript {
        name: "test".into(),
        main_module: modules[0].0.into(),
        modules: modules
            .iter()
            .map(|(name, kind, content)| ModuleSource {
                name: (*name).into(),
                kind: *kind,
                content: Bytes::copy_from_slice(content.as_bytes()),
            })
            .collect(),
        env,
        limits,
        compatibility_date: "2025-01-01".into(),
        compatibility_flags: vec![],
        ..WorkerScript::default()
    };
    Worker::new(script).expect("valid worker")
}

/// A one-module worker with this compatibility date and these flags.
pub fn js_dated(source: &str, date: &str, flags: &[&str]) -> Arc<Worker> {
    let mut script = worker(&[("index.js", ModuleKind::EsModule, source)])
        .script()
        .clone();
    script.compatibility_date = date.into();
    script.compatibility_flags = flags.iter().map(|f| (*f).to_owned()).collect();
    Worker::new(script).expect("valid worker")
}

pub fn js(source: &str) -> Arc<Worker> {
    worker(&[("index.js", ModuleKind::EsModule, source)])
}

pub async fn get(worker: &Arc<Worker>, url: &str) -> Result<(u16, String), kiln_runtime::Error> {
    get_on(runtime(), worker, url).await
}

pub async fn send(
    worker: &Arc<Worker>,
    request: http::Request<kiln_runtime::Body>,
) -> Result<(u16, String), kiln_runtime::Error> {
    send_on(runtime(), worker, request).await
}

/// A GET through `runtime` rather than the shared one.
pub async fn get_on(
    runtime: &Runtime,
    worker: &Arc<Worker>,
    url: &str,
) -> Result<(u16, String), kiln_runtime::Error> {
    let request = http::Request::builder()
        .uri(url)
        .body(kiln_runtime::empty())
        .expect("request");
    send_on(runtime, worker, request).await
}

pub async fn send_on(
    runtime: &Runtime,
    worker: &Arc<Worker>,
    request: http::Request<kiln_runtime::Body>,
) -> Result<(u16, String), kiln_runtime::Error> {
    let response = runtime.fetch(worker, request, None).await?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// Sends `method` with `body` and returns (status, body text).
pub async fn send_body(
    worker: &Arc<Worker>,
    method: &str,
    body: &'static str,
) -> Result<(u16, String), kiln_runtime::Error> {
    let request = http::Request::builder()
        .method(method)
        .uri("http://t/")
        .body(kiln_runtime::full(body))
        .expect("request");
    send(worker, request).await
}

/// Runs every test a JS suite module lists: `GET /` answers the test names as JSON, and
/// `GET /<name>` runs one, answering `ok` or what failed. Prints each result and the counts;
/// fails if any test failed or fewer than `min_tests` exist.
#[allow(clippy::print_stdout)]
pub async fn run_js_suite(file: &str, source: &str, min_tests: usize) {
    let worker = worker(&[(file, ModuleKind::EsModule, source)]);
    let (status, list) = get(&worker, "http://t/").await.expect("list");
    assert_eq!(status, 200, "{list}");
    let names: Vec<String> = serde_json::from_str(&list).expect("test names");
    assert!(names.len() >= min_tests, "{names:?}");
    let mut failures = Vec::new();
    for name in &names {
        let (status, body) = get(&worker, &format!("http://t/{name}"))
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
