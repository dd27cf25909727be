//! Static assets (wrangler's `assets`): files of a directory served before the worker runs,
//! and through the `env.ASSETS` binding, with Cloudflare's HTML handling (`/about` serves
//! `about.html`, `/docs/` serves `docs/index.html`, `.html` URLs redirect to their clean form)
//! and not-found handling (`404-page`, `single-page-application`).
//!
//! Guarantees: nothing outside the directory is ever read (no `..` segment survives, and the
//! resolved file must lie under the directory); only GET and HEAD are answered; a file over
//! [`ASSET_BYTES_MAX`] is refused, as Cloudflare refuses to upload one.

pub mod ops;
mod resolve;
pub mod rules;

use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::body::{empty, full, Body};

/// Largest asset served (Cloudflare's per-file limit is 25 MiB).
pub const ASSET_BYTES_MAX: u64 = 25 * 1024 * 1024;

/// wrangler's `assets.html_handling`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HtmlHandling {
    #[default]
    AutoTrailingSlash,
    ForceTrailingSlash,
    DropTrailingSlash,
    None,
}

/// wrangler's `assets.not_found_handling`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NotFoundHandling {
    #[default]
    None,
    NotFoundPage,
    SinglePageApplication,
}

/// A worker's static assets.
#[derive(Debug, Clone)]
pub struct AssetsConfig {
    pub directory: PathBuf,
    /// The name of the `env` binding, if any.
    pub binding: Option<String>,
    pub html_handling: HtmlHandling,
    pub not_found_handling: NotFoundHandling,
    /// `run_worker_first`: `true`, or route patterns (`/api/*`, `!/api/docs`) that go to the
    /// worker before assets are looked at.
    pub run_worker_first: RunWorkerFirst,
    /// The directory's `_headers`, `_redirects` and `.assetsignore`.
    pub rules: std::sync::Arc<rules::AssetRules>,
}

#[derive(Debug, Clone, Default)]
pub enum RunWorkerFirst {
    #[default]
    No,
    Always,
    Routes(Vec<String>),
}

impl RunWorkerFirst {
    fn matches(&self, path: &str) -> bool {
        match self {
            RunWorkerFirst::No => false,
            RunWorkerFirst::Always => true,
            RunWorkerFirst::Routes(routes) => {
                let excluded = routes
                    .iter()
                    .filter_map(|r| r.strip_prefix('!'))
                    .any(|r| route_matches(r, path));
                !excluded
                    && routes
                        .iter()
                        .filter(|r| !r.starts_with('!'))
                        .any(|r| route_matches(r, path))
            }
        }
    }
}

/// A route pattern: a path with `*` matching any run of characters.
fn route_matches(pattern: &str, path: &str) -> bool {
    let mut parts = pattern.split('*');
    let Some(first) = parts.next() else {
        return false;
    };
    let Some(mut rest) = path.strip_prefix(first) else {
        return false;
    };
    let pieces: Vec<&str> = parts.collect();
    for (i, piece) in pieces.iter().enumerate() {
        if i + 1 == pieces.len() {
            return rest.ends_with(piece);
        }
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// What the edge does with a request, given the assets.
pub enum EdgeDecision {
    /// Answer with this response.
    Asset(http::Response<Body>),
    /// Hand the request to the worker.
    Worker,
}

/// The edge's choice for a request to a worker with assets: a matching asset, or the
/// not-found handling's page for a browser navigation, unless the worker runs first.
pub async fn at_edge(config: &AssetsConfig, parts: &http::request::Parts) -> EdgeDecision {
    let path = parts.uri.path();
    if config.run_worker_first.matches(path) {
        return EdgeDecision::Worker;
    }
    if parts.method != http::Method::GET && parts.method != http::Method::HEAD {
        return EdgeDecision::Worker;
    }
    let (path, redirected) = match config.rules.redirect(path) {
        Some((to, 200)) => (to, true),
        Some((to, status)) => return EdgeDecision::Asset(redirect_to(&to, status)),
        None => (path.to_owned(), false),
    };
    let path = path.as_str();
    match rewrite_lookup(config, path, redirected).await {
        resolve::Found::File(file) => {
            EdgeDecision::Asset(respond(config, path, &file, parts, 200).await)
        }
        resolve::Found::Redirect(location) => EdgeDecision::Asset(redirect(&location, parts)),
        resolve::Found::Nothing => {
            let navigation = parts
                .headers
                .get("sec-fetch-mode")
                .is_some_and(|mode| mode.as_bytes() == b"navigate");
            if config.not_found_handling == NotFoundHandling::SinglePageApplication && navigation {
                if let Some((file, status)) = resolve::not_found(config, path).await {
                    return EdgeDecision::Asset(respond(config, path, &file, parts, status).await);
                }
            }
            if redirected {
                return EdgeDecision::Asset(plain(404, "Not Found"));
            }
            EdgeDecision::Worker
        }
    }
}

/// `env.ASSETS.fetch()`: the asset for the request's path, the not-found handling's page, or
/// a 404.
pub async fn fetch(config: &AssetsConfig, parts: &http::request::Parts) -> http::Response<Body> {
    if parts.method != http::Method::GET && parts.method != http::Method::HEAD {
        return plain(405, "Method Not Allowed");
    }
    let path = match config.rules.redirect(parts.uri.path()) {
        Some((to, 200)) => to,
        Some((to, status)) => return redirect_to(&to, status),
        None => parts.uri.path().to_owned(),
    };
    let rewritten = path != parts.uri.path();
    match rewrite_lookup(config, &path, rewritten).await {
        resolve::Found::File(file) => respond(config, &path, &file, parts, 200).await,
        resolve::Found::Redirect(location) => redirect(&location, parts),
        resolve::Found::Nothing => match resolve::not_found(config, &path).await {
            Some((file, status)) => respond(config, &path, &file, parts, status).await,
            None => plain(404, "Not Found"),
        },
    }
}

/// The asset for `path`; a path a `_redirects` 200 rule rewrote to is served as its file even
/// where HTML handling would redirect it (`/app/index.html` serves `app/index.html`).
async fn rewrite_lookup(config: &AssetsConfig, path: &str, rewritten: bool) -> resolve::Found {
    match resolve::lookup(config, path).await {
        resolve::Found::Redirect(location) if rewritten => {
            match resolve::lookup(config, &location).await {
                resolve::Found::Redirect(_) => resolve::Found::Nothing,
                found => found,
            }
        }
        found => found,
    }
}

/// A `_redirects` redirect.
fn redirect_to(location: &str, status: u16) -> http::Response<Body> {
    let mut response = http::Response::new(empty());
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::FOUND);
    if let Ok(value) = http::HeaderValue::from_str(location) {
        response.headers_mut().insert(http::header::LOCATION, value);
    }
    response
}

fn plain(status: u16, text: &'static str) -> http::Response<Body> {
    let mut response = http::Response::new(full(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap_or_default();
    response
}

fn redirect(location: &str, parts: &http::request::Parts) -> http::Response<Body> {
    let mut target = location.to_owned();
    if let Some(query) = parts.uri.query() {
        target.push('?');
        target.push_str(query);
    }
    let mut response = http::Response::new(empty());
    *response.status_mut() = http::StatusCode::TEMPORARY_REDIRECT;
    if let Ok(value) = http::HeaderValue::from_str(&target) {
        response.headers_mut().insert(http::header::LOCATION, value);
    }
    response
}

async fn respond(
    config: &AssetsConfig,
    path: &str,
    file: &Path,
    parts: &http::request::Parts,
    status: u16,
) -> http::Response<Body> {
    let bytes = match tokio::fs::read(file).await {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::warn!(file = %file.display(), %err, "cannot read asset");
            return plain(404, "Not Found");
        }
    };
    let etag = format!("\"{:016x}\"", fnv1a(&bytes));
    let not_modified = status == 200
        && parts
            .headers
            .get(http::header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|tags| {
                tags.split(',')
                    .any(|tag| tag.trim().trim_start_matches("W/") == etag)
            });
    let length = bytes.len();
    let body = if not_modified || parts.method == http::Method::HEAD {
        empty()
    } else {
        full(Bytes::from(bytes))
    };
    let mut response = http::Response::new(body);
    *response.status_mut() = if not_modified {
        http::StatusCode::NOT_MODIFIED
    } else {
        http::StatusCode::from_u16(status).unwrap_or_default()
    };
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type(file)),
    );
    if let Ok(value) = http::HeaderValue::from_str(&etag) {
        headers.insert(http::header::ETAG, value);
    }
    headers.insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("public, max-age=0, must-revalidate"),
    );
    if parts.method == http::Method::HEAD && !not_modified {
        headers.insert(
            http::header::CONTENT_LENGTH,
            http::HeaderValue::from(length),
        );
    }
    config.rules.apply_headers(path, headers);
    response
}

/// A stable, cheap hash for ETags (not a security boundary).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

fn content_type(file: &Path) -> &'static str {
    let extension = file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match extension.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" | "cjs" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json; charset=utf-8",
        "webmanifest" => "application/manifest+json",
        "txt" | "md" => "text/plain; charset=utf-8",
        "xml" => "application/xml; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "wasm" => "application/wasm",
        "pdf" => "application/pdf",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_patterns_match_as_wrangler_documents() {
        assert!(route_matches("/api/*", "/api/users"));
        assert!(route_matches("/api/*", "/api/"));
        assert!(!route_matches("/api/*", "/apix"));
        assert!(route_matches("/exact", "/exact"));
        assert!(!route_matches("/exact", "/exact/more"));
        assert!(route_matches("/*/edit", "/a/b/edit"));
        let first = RunWorkerFirst::Routes(vec!["/api/*".into(), "!/api/docs/*".into()]);
        assert!(first.matches("/api/x"));
        assert!(!first.matches("/api/docs/intro"));
        assert!(!first.matches("/index.html"));
    }
}
