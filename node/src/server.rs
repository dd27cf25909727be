//! The HTTP edge: accepts connections, adds the headers Cloudflare's edge adds, hands each
//! request to the runtime and streams the response back, logging one line per request.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use kiln_runtime::{Body, Runtime, Worker};
use tokio::net::TcpListener;

/// What the server serves.
pub struct Site {
    pub runtime: Runtime,
    pub worker: Arc<Worker>,
    /// Serve `/__scheduled?cron=...` to fire the `scheduled` handler, as `wrangler dev
    /// --test-scheduled` does.
    pub test_scheduled: bool,
    /// Serve `wrangler dev`'s `/cdn-cgi/handler/scheduled` and `/cdn-cgi/handler/email`, which
    /// fire the `scheduled` and `email` handlers (`kiln dev` only).
    pub dev_handlers: bool,
    /// The admin API, when enabled.
    pub admin: Option<crate::admin::Admin>,
    /// The Cloudflare-shaped upload API (dispatch namespaces), when enabled.
    pub uploads: Option<crate::upload_api::UploadApi>,
    /// Uploaded scripts, served at `<name>.<host>`.
    pub deployments: Option<Arc<crate::deployments::Deployments>>,
    pub metrics: Arc<crate::metrics::Metrics>,
}

pub async fn serve(listener: TcpListener, site: Arc<Site>) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                tracing::warn!(?err, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let site = Arc::clone(&site);
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(Arc::clone(&site), peer, request));
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            if let Err(err) = builder
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%peer, ?err, "connection ended with an error");
            }
        });
    }
}

async fn handle(
    site: Arc<Site>,
    peer: SocketAddr,
    request: http::Request<Incoming>,
) -> Result<http::Response<Body>, std::convert::Infallible> {
    // An uploaded script named by the host's first label, else the node's own worker.
    let worker = site
        .deployments
        .as_ref()
        .and_then(|deployments| {
            let host = request.headers().get(http::header::HOST)?.to_str().ok()?;
            deployments.for_host(host)
        })
        .unwrap_or_else(|| Arc::clone(&site.worker));
    let span = tracing::info_span!(
        "request",
        worker = worker.name(),
        method = %request.method(),
        path = request.uri().path()
    );
    tracing::Instrument::instrument(respond(site, worker, peer, request), span).await
}

async fn respond(
    site: Arc<Site>,
    worker: Arc<Worker>,
    peer: SocketAddr,
    request: http::Request<Incoming>,
) -> Result<http::Response<Body>, std::convert::Infallible> {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    let response = if request.uri().path() == crate::metrics::PATH {
        let mut response = http::Response::new(kiln_runtime::full(site.metrics.render()));
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/plain; version=0.0.4"),
        );
        response
    } else if (site.test_scheduled && request.uri().path() == "/__scheduled")
        || (site.dev_handlers && request.uri().path() == "/cdn-cgi/handler/scheduled")
    {
        scheduled(&site, request.uri()).await
    } else if site.dev_handlers && request.uri().path() == "/cdn-cgi/handler/email" {
        email(&site, request).await
    } else if let (Some(uploads), true) = (
        &site.uploads,
        request.uri().path().starts_with(crate::upload_api::PREFIX),
    ) {
        crate::upload_api::handle(uploads, request).await
    } else if let (Some(token), true) = (
        // `kiln dev`'s admin token, or a cluster node's (its upload API's).
        site.admin
            .as_ref()
            .map(|a| &a.token)
            .or(site.uploads.as_ref().map(|u| &u.token)),
        request.uri().path().starts_with(crate::admin::D1_PREFIX),
    ) {
        crate::admin::d1(token, &site.runtime, request).await
    } else if let (Some(admin), true) = (
        &site.admin,
        request.uri().path().starts_with(crate::admin::PREFIX),
    ) {
        crate::admin::handle(admin, &site.runtime, &site.worker, &request).await
    } else {
        let mut request = request;
        let upgrade = crate::websocket::upgrade_request(&mut request);
        let request = edge_request(request, peer);
        let (parts, body) = request.into_parts();
        let asset = match &worker.script().assets {
            Some(assets) => kiln_runtime::assets::at_edge(assets, &parts).await,
            None => kiln_runtime::assets::EdgeDecision::Worker,
        };
        let request = http::Request::from_parts(parts, body);
        let answer = match asset {
            kiln_runtime::assets::EdgeDecision::Asset(response) => Ok(response),
            kiln_runtime::assets::EdgeDecision::Worker => {
                site.runtime.fetch(&worker, request, None).await
            }
        };
        match answer {
            Ok(response) => crate::websocket::respond(
                kiln_runtime::content_coding::encode_for_client(response),
                upgrade,
                worker.name(),
                &site.runtime,
            ),
            Err(err) => {
                site.metrics.failed(&err);
                error_response(&err)
            }
        }
    };
    site.metrics
        .observe(response.status().as_u16(), started.elapsed().as_secs_f64());
    tracing::info!(
        target: "kiln::request",
        worker = worker.name(),
        %method,
        path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    Ok(response)
}

/// The request as the worker sees it: an absolute URL and Cloudflare's client headers.
fn edge_request(request: http::Request<Incoming>, peer: SocketAddr) -> http::Request<Body> {
    let (mut parts, body) = request.into_parts();
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| "localhost".into());
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let uri = format!("http://{host}{path}");
    parts.uri = uri
        .parse()
        .unwrap_or_else(|_| http::Uri::from_static("http://localhost/"));
    let ip = peer.ip().to_string();
    if let Ok(value) = http::HeaderValue::from_str(&ip) {
        parts.headers.insert("cf-connecting-ip", value.clone());
        parts.headers.insert("x-real-ip", value.clone());
        parts.headers.insert("x-forwarded-for", value);
    }
    parts
        .headers
        .insert("x-forwarded-proto", http::HeaderValue::from_static("http"));
    let client_accept_encoding = parts
        .headers
        .get(http::header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    parts.extensions.insert(kiln_runtime::cf::EdgeRequest {
        http_protocol: format!("{:?}", parts.version),
        client_accept_encoding,
    });
    http::Request::from_parts(parts, kiln_runtime::boxed(body))
}

fn error_response(err: &kiln_runtime::Error) -> http::Response<Body> {
    let status = http::StatusCode::from_u16(err.http_status())
        .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let text = match err {
        kiln_runtime::Error::Exception(_) | kiln_runtime::Error::Startup(_) => {
            "Worker threw exception".to_owned()
        }
        other => other.to_string(),
    };
    let mut response = http::Response::new(kiln_runtime::full(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain;charset=UTF-8"),
    );
    response
}

/// `POST /cdn-cgi/handler/email?from=..&to=..` with the raw message as the body, as `wrangler
/// dev` takes it.
async fn email(site: &Site, request: http::Request<Incoming>) -> http::Response<Body> {
    let query: std::collections::HashMap<String, String> = request
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let (Some(from), Some(to)) = (query.get("from"), query.get("to")) else {
        let mut response = http::Response::new(kiln_runtime::full(
            "POST /cdn-cgi/handler/email needs ?from=ADDRESS&to=ADDRESS and the raw message as the body",
        ));
        *response.status_mut() = http::StatusCode::BAD_REQUEST;
        return response;
    };
    let limited =
        http_body_util::Limited::new(request.into_body(), kiln_runtime::limits::EMAIL_BYTES_MAX);
    let raw = match http_body_util::BodyExt::collect(limited).await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(err) => {
            let mut response =
                http::Response::new(kiln_runtime::full(format!("reading the message: {err}")));
            *response.status_mut() = http::StatusCode::PAYLOAD_TOO_LARGE;
            return response;
        }
    };
    let envelope = kiln_runtime::EmailEnvelope {
        from: from.clone(),
        to: to.clone(),
        raw,
    };
    match site.runtime.email(&site.worker, envelope).await {
        Ok(None) => http::Response::new(kiln_runtime::full("Worker successfully processed email")),
        Ok(Some(reason)) => {
            let mut response = http::Response::new(kiln_runtime::full(format!(
                "Worker rejected email with the following reason: {reason}"
            )));
            *response.status_mut() = http::StatusCode::BAD_REQUEST;
            response
        }
        Err(err) => error_response(&err),
    }
}

async fn scheduled(site: &Site, uri: &http::Uri) -> http::Response<Body> {
    let cron = uri
        .query()
        .and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "cron")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default();
    let now = chrono::Utc::now().timestamp_millis() as f64;
    match site.runtime.scheduled(&site.worker, cron, now).await {
        Ok(()) => http::Response::new(kiln_runtime::full("Ran scheduled event")),
        Err(err) => error_response(&err),
    }
}
