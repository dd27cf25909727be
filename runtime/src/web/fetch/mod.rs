//! Bodies streaming between Rust and JavaScript, and outbound `fetch()` over hyper.
//!
//! A body from the network (the incoming request's, or a subrequest's response) is registered
//! in the isolate under an id and read by JavaScript a chunk at a time, so it is never held
//! whole unless the worker asks for it whole (`text()`, `arrayBuffer()`, ...), and then only up
//! to [`BODY_READ_ALL_BYTES_MAX`].

use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rquickjs::prelude::{Func, Promised};
use rquickjs::{Ctx, Exception, Object, Result, TypedArray, Value};

use crate::body::{self, Body};
use crate::isolate;
use crate::limits::BODY_READ_ALL_BYTES_MAX;
use crate::worker::Outbound;

pub mod pump;

/// Redirects `fetch()` follows before failing (Fetch standard: 20).
const REDIRECTS_MAX: usize = 20;
/// Time to connect to an origin before `fetch()` fails.
const CONNECT_TIMEOUT_SECONDS: u64 = 30;

pub fn register(_ctx: &Ctx<'_>, ops: &Object<'_>) -> Result<()> {
    ops.set("op_body_read", Func::from(op_body_read))?;
    ops.set("op_body_read_all", Func::from(op_body_read_all))?;
    ops.set("op_body_cancel", Func::from(op_body_cancel))?;
    ops.set("op_fetch_send", Func::from(op_fetch_send))?;
    Ok(())
}

fn take_body(ctx: &Ctx<'_>, id: u32) -> Result<Option<Body>> {
    Ok(isolate::data(ctx)?.bodies.borrow_mut().remove(&id))
}

/// The next chunk of body `id`, or `undefined` at its end.
fn op_body_read<'js>(
    ctx: Ctx<'js>,
    id: u32,
) -> Result<Promised<impl std::future::Future<Output = Result<Option<ByteBuffer>>> + 'js>> {
    let body = take_body(&ctx, id)?;
    Ok(Promised(async move {
        let Some(mut body) = body else {
            return Ok(None);
        };
        loop {
            match body.frame().await {
                None => return Ok(None),
                Some(Err(err)) => {
                    return Err(Exception::throw_type(
                        &ctx,
                        &format!("Network connection lost: {err}"),
                    ))
                }
                Some(Ok(frame)) => {
                    let Ok(data) = frame.into_data() else {
                        continue; // trailers
                    };
                    if data.is_empty() {
                        continue;
                    }
                    isolate::data(&ctx)?.bodies.borrow_mut().insert(id, body);
                    return Ok(Some(ByteBuffer(data.to_vec())));
                }
            }
        }
    }))
}

/// All of body `id`, as one buffer.
fn op_body_read_all<'js>(
    ctx: Ctx<'js>,
    id: u32,
) -> Result<Promised<impl std::future::Future<Output = Result<ByteBuffer>> + 'js>> {
    let body = take_body(&ctx, id)?;
    Ok(Promised(async move {
        let Some(mut body) = body else {
            return Ok(ByteBuffer(Vec::new()));
        };
        let mut out = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|err| {
                Exception::throw_type(&ctx, &format!("Network connection lost: {err}"))
            })?;
            if let Ok(data) = frame.into_data() {
                if out.len() + data.len() > BODY_READ_ALL_BYTES_MAX {
                    return Err(Exception::throw_range(
                        &ctx,
                        &format!("body is larger than {BODY_READ_ALL_BYTES_MAX} bytes; read it as a stream"),
                    ));
                }
                out.extend_from_slice(&data);
            }
        }
        Ok(ByteBuffer(out))
    }))
}

/// Bytes returned to JavaScript as a `Uint8Array`.
pub struct ByteBuffer(pub Vec<u8>);

impl<'js> rquickjs::IntoJs<'js> for ByteBuffer {
    fn into_js(self, ctx: &Ctx<'js>) -> Result<Value<'js>> {
        TypedArray::<u8>::new_copy(ctx.clone(), self.0).map(|a| a.into_value())
    }
}

fn op_body_cancel(ctx: Ctx<'_>, id: u32) -> Result<()> {
    drop(take_body(&ctx, id)?);
    Ok(())
}

type HttpsClient =
    Client<hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>, Body>;

fn client() -> HttpsClient {
    thread_local! {
        static CLIENT: HttpsClient = {
            let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
            http.enforce_http(false);
            http.set_connect_timeout(Some(Duration::from_secs(CONNECT_TIMEOUT_SECONDS)));
            let https = hyper_rustls::HttpsConnectorBuilder::new()
                .with_webpki_roots()
                .https_or_http()
                .enable_http1()
                .wrap_connector(http);
            Client::builder(TokioExecutor::new()).build(https)
        };
    }
    CLIENT.with(Clone::clone)
}

/// Headers from JavaScript's flat `[name, value, ...]` list; an invalid one throws.
pub fn header_map(ctx: &Ctx<'_>, headers: &[String]) -> Result<http::HeaderMap> {
    let mut header_map = http::HeaderMap::new();
    for pair in headers.chunks(2) {
        let [name, value] = pair else { continue };
        let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) else {
            return Err(Exception::throw_type(
                ctx,
                &format!("Invalid header: {name}"),
            ));
        };
        header_map.append(name, value);
    }
    Ok(header_map)
}

/// A request body as JavaScript hands it over: bytes, the id of a body from Rust, a
/// JavaScript stream's pump (read as the receiver reads it), or nothing.
pub fn request_body<'js>(ctx: &Ctx<'js>, body: Value<'js>) -> Result<Body> {
    if let Some(id) = body.as_int() {
        if id >= 0 {
            return Ok(take_body(ctx, id as u32)?.unwrap_or_else(body::empty));
        }
    }
    let Some(object) = body.as_object() else {
        return Ok(body::empty());
    };
    if let Ok(array) = TypedArray::<u8>::from_object(object.clone()) {
        return Ok(body::full(Bytes::copy_from_slice(
            array.as_bytes().unwrap_or(&[]),
        )));
    }
    if object.contains_key("next")? {
        let worker = isolate::data(ctx)?.worker.name().to_owned();
        return pump::body_from_pump(ctx, object, worker, "request body", None);
    }
    Ok(body::empty())
}

/// What a finished subrequest hands back to JavaScript.
pub struct FetchResult {
    status: u16,
    status_text: String,
    headers: Vec<String>,
    body: Option<Body>,
    url: String,
    redirected: bool,
    /// The WebSocket of a 101 response from another worker or object.
    web_socket: Option<crate::socket::WebSocketEnd>,
}

impl FetchResult {
    /// A response from another worker or object, which has no redirects to follow.
    pub fn from_response(response: http::Response<Body>, url: String) -> FetchResult {
        let (parts, body) = response.into_parts();
        let web_socket = parts
            .extensions
            .get::<crate::socket::WebSocketUpgrade>()
            .and_then(crate::socket::WebSocketUpgrade::take);
        let mut headers = Vec::with_capacity(parts.headers.len() * 2);
        for (name, value) in &parts.headers {
            headers.push(name.as_str().to_owned());
            headers.push(String::from_utf8_lossy(value.as_bytes()).into_owned());
        }
        FetchResult {
            status: parts.status.as_u16(),
            status_text: parts.status.canonical_reason().unwrap_or("").to_owned(),
            headers,
            body: Some(body),
            url,
            redirected: false,
            web_socket,
        }
    }
}

impl<'js> rquickjs::IntoJs<'js> for FetchResult {
    fn into_js(self, ctx: &Ctx<'js>) -> Result<Value<'js>> {
        let body_id = match self.body {
            Some(body) => Some(isolate::data(ctx)?.register_body(body)),
            None => None,
        };
        let array = rquickjs::Array::new(ctx.clone())?;
        array.set(0, self.status)?;
        array.set(1, self.status_text)?;
        array.set(2, self.headers)?;
        array.set(3, body_id)?;
        array.set(4, self.url)?;
        array.set(5, self.redirected)?;
        if let Some(end) = self.web_socket {
            array.set(6, crate::socket::ops::adopt(ctx, end)? as f64)?;
        }
        Ok(array.into_value())
    }
}

/// A request described by the prelude as `[method, url, headers, body]` (a stub's `fetch()`),
/// checked, with its URL.
pub fn request_from_js<'js>(
    ctx: &Ctx<'js>,
    request: &rquickjs::Array<'js>,
) -> Result<(http::Request<Body>, String)> {
    let method: String = request.get(0)?;
    let url: String = request.get(1)?;
    let headers: Vec<String> = request.get(2)?;
    let body: Value = request.get(3)?;
    let method = http::Method::from_bytes(method.as_bytes()).map_err(|_| {
        Exception::throw_type(ctx, &format!("'{method}' is not a valid HTTP method."))
    })?;
    let headers = header_map(ctx, &headers)?;
    let body = request_body(ctx, body)?;
    let uri: http::Uri = url
        .parse()
        .map_err(|_| Exception::throw_type(ctx, &format!("Invalid URL: {url}")))?;
    let mut built = http::Request::new(body);
    *built.method_mut() = method;
    *built.uri_mut() = uri;
    *built.headers_mut() = headers;
    // A Request's url is always WHATWG's serialization (its constructor parsed it with URL), so
    // a worker or object that receives this request need not parse it again.
    built.extensions_mut().insert(Href(url.clone()));
    // `request.cf`, forwarded to a Durable Object or a service: the edge's parts, or JSON.
    let cf: Value = request.get(4)?;
    if let Some(parts) = cf.as_array() {
        let protocol: String = parts.get(0)?;
        let encoding: String = parts.get(1)?;
        built.extensions_mut().insert(crate::cf::EdgeRequest {
            http_protocol: protocol,
            client_accept_encoding: encoding,
        });
    } else if let Some(json) = cf.as_string() {
        let json = json.to_string()?;
        if json.len() <= crate::cf::FORWARDED_CF_BYTES_MAX {
            built.extensions_mut().insert(crate::cf::ForwardedCf(json));
        }
    }
    Ok((built, url))
}

/// The WHATWG href of a request a worker built, riding along with its `http::Uri`.
#[derive(Debug, Clone)]
pub struct Href(pub String);

/// What `fetch()` throws in a worker whose outbound is blocked (`globalOutbound: null`).
pub const NO_INTERNET_MESSAGE: &str = "This worker is not permitted to access the internet via global functions like fetch(). It must use capabilities (such as bindings in 'env') to talk to the outside world.";

/// The headers of a client's WebSocket handshake (RFC 6455 4.1) that the worker left out.
fn prepare_websocket_handshake(headers: &mut http::HeaderMap) {
    headers.insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("Upgrade"),
    );
    headers
        .entry(http::header::SEC_WEBSOCKET_VERSION)
        .or_insert(http::HeaderValue::from_static("13"));
    if !headers.contains_key(http::header::SEC_WEBSOCKET_KEY) {
        let mut nonce = [0u8; 16];
        let _ = getrandom::fill(&mut nonce);
        use base64::Engine as _;
        let key = base64::engine::general_purpose::STANDARD.encode(nonce);
        if let Ok(value) = http::HeaderValue::from_str(&key) {
            headers.insert(http::header::SEC_WEBSOCKET_KEY, value);
        }
    }
}

/// A 101 answer to a worker's WebSocket handshake: the connection becomes a WebSocket whose
/// other end the worker gets as `response.webSocket` (to `accept()`).
fn websocket_result(
    response: &mut http::Response<hyper::body::Incoming>,
    url: String,
) -> FetchResult {
    let on_upgrade = hyper::upgrade::on(&mut *response);
    let (network, worker) = crate::socket::WebSocketEnd::pair();
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let stream = tokio_tungstenite::WebSocketStream::from_raw_socket(
                    hyper_util::rt::TokioIo::new(upgraded),
                    tokio_tungstenite::tungstenite::protocol::Role::Client,
                    Some(crate::socket::wire::websocket_config()),
                )
                .await;
                crate::socket::wire::pump_websocket(stream, network, None).await;
            }
            Err(err) => tracing::debug!(%err, "outbound WebSocket upgrade failed"),
        }
    });
    let mut headers = Vec::with_capacity(response.headers().len() * 2);
    for (name, value) in response.headers() {
        headers.push(name.as_str().to_owned());
        headers.push(String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    FetchResult {
        status: 101,
        status_text: "Switching Protocols".to_owned(),
        headers,
        body: None,
        url,
        redirected: false,
        web_socket: Some(worker),
    }
}

fn op_fetch_send<'js>(
    ctx: Ctx<'js>,
    method: String,
    url: String,
    headers: Vec<String>,
    body: Value<'js>,
    redirect: String,
) -> Result<Promised<impl std::future::Future<Output = Result<FetchResult>> + 'js>> {
    isolate::data(&ctx)?.count_subrequest(&ctx)?;
    let method = http::Method::from_bytes(method.as_bytes()).map_err(|_| {
        Exception::throw_type(&ctx, &format!("'{method}' is not a valid HTTP method."))
    })?;
    let body_bytes: Option<Bytes> = body
        .as_object()
        .and_then(|o| TypedArray::<u8>::from_object(o.clone()).ok())
        .map(|array| Bytes::copy_from_slice(array.as_bytes().unwrap_or(&[])));
    let body_stream: Option<Body> = match body.as_int() {
        Some(id) if id >= 0 => take_body(&ctx, id as u32)?,
        // A JavaScript stream: sent as it is read (the response may arrive before it ends).
        _ => match body.as_object() {
            Some(pump) if body_bytes.is_none() && pump.contains_key("next")? => {
                let worker = isolate::data(&ctx)?.worker.name().to_owned();
                Some(pump::body_from_pump(
                    &ctx,
                    pump,
                    worker,
                    "request body",
                    None,
                )?)
            }
            _ => None,
        },
    };
    let mut header_map = header_map(&ctx, &headers)?;
    let websocket = header_map
        .get(http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if websocket {
        prepare_websocket_handshake(&mut header_map);
    }
    let (outbound, runtime) = {
        let data = isolate::data(&ctx)?;
        (
            data.worker.script().outbound.clone(),
            data.services.runtime.clone(),
        )
    };
    let route = match outbound {
        Outbound::Network => None,
        Outbound::Blocked => return Err(crate::web::throw_error(&ctx, NO_INTERNET_MESSAGE)),
        Outbound::Service(service) => Some(service),
    };
    Ok(Promised(async move {
        if let Some(service) = route {
            // Every outbound request goes to the outbound worker's `fetch`, which may forward,
            // rewrite or refuse it.
            let worker = runtime.worker(&service.service).ok_or_else(|| {
                crate::web::throw_error(
                    &ctx,
                    &format!("The outbound worker {:?} is not running.", service.service),
                )
            })?;
            let uri: http::Uri = url
                .parse()
                .map_err(|_| Exception::throw_type(&ctx, &format!("Invalid URL: {url}")))?;
            let mut request = http::Request::new(match (body_stream, body_bytes) {
                (Some(stream), _) => stream,
                (None, Some(bytes)) => body::full(bytes),
                (None, None) => body::empty(),
            });
            *request.method_mut() = method;
            *request.uri_mut() = uri;
            *request.headers_mut() = header_map;
            let response = runtime
                .fetch_with_props(&worker, request, service.entrypoint, service.props)
                .await
                .map_err(|err| crate::object::ops::throw_call_error(&ctx, err))?;
            return Ok(FetchResult::from_response(response, url));
        }
        let client = client();
        let mut current_url = url;
        let mut method = method;
        let mut body_bytes = body_bytes;
        let mut body_stream = body_stream;
        let mut redirected = false;
        for _ in 0..=REDIRECTS_MAX {
            let uri: http::Uri = current_url
                .parse()
                .map_err(|_| Exception::throw_type(&ctx, &format!("Invalid URL: {current_url}")))?;
            let mut request = http::Request::builder()
                .method(method.clone())
                .uri(uri.clone());
            if let Some(headers) = request.headers_mut() {
                *headers = header_map.clone();
                crate::content_coding::restrict_accept_encoding(headers);
                if let Some(host) = uri.authority() {
                    if let Ok(host) = http::HeaderValue::from_str(host.as_str()) {
                        headers.insert(http::header::HOST, host);
                    }
                }
            }
            let outgoing = match (body_stream.take(), &body_bytes) {
                (Some(stream), _) => stream,
                (None, Some(bytes)) => body::full(bytes.clone()),
                (None, None) => body::empty(),
            };
            let request = request
                .body(outgoing)
                .map_err(|err| Exception::throw_type(&ctx, &format!("Invalid request: {err}")))?;
            let mut response = client.request(request).await.map_err(|err| {
                Exception::throw_type(&ctx, &format!("Network connection lost: {err}"))
            })?;
            let status = response.status();
            if websocket && status == http::StatusCode::SWITCHING_PROTOCOLS {
                return Ok(websocket_result(&mut response, current_url));
            }
            if status.is_redirection() && redirect != "manual" {
                if let Some(location) = response.headers().get(http::header::LOCATION) {
                    if redirect == "error" {
                        return Err(Exception::throw_type(&ctx, "Redirect was not followed because the request's redirect mode is 'error'."));
                    }
                    let location = location.to_str().unwrap_or_default().to_owned();
                    let base = url::Url::parse(&current_url).ok();
                    let next = match base.and_then(|b| b.join(&location).ok()) {
                        Some(next) => next.to_string(),
                        None => {
                            return Err(Exception::throw_type(
                                &ctx,
                                &format!("Invalid redirect location: {location}"),
                            ))
                        }
                    };
                    if status == http::StatusCode::SEE_OTHER
                        || ((status == http::StatusCode::MOVED_PERMANENTLY
                            || status == http::StatusCode::FOUND)
                            && method == http::Method::POST)
                    {
                        method = http::Method::GET;
                        body_bytes = None;
                    }
                    current_url = next;
                    redirected = true;
                    continue;
                }
            }
            let (mut parts, incoming) = response.into_parts();
            let has_body = !(method == http::Method::HEAD
                || status == http::StatusCode::NO_CONTENT
                || status == http::StatusCode::NOT_MODIFIED);
            let body = has_body.then(|| {
                crate::content_coding::decode_fetched(&mut parts.headers, body::boxed(incoming))
            });
            let mut headers = Vec::with_capacity(parts.headers.len() * 2);
            for (name, value) in &parts.headers {
                headers.push(name.as_str().to_owned());
                headers.push(String::from_utf8_lossy(value.as_bytes()).into_owned());
            }
            return Ok(FetchResult {
                status: status.as_u16(),
                status_text: status.canonical_reason().unwrap_or("").to_owned(),
                headers,
                body,
                url: current_url,
                redirected,
                web_socket: None,
            });
        }
        Err(Exception::throw_type(&ctx, "Too many redirects."))
    }))
}
