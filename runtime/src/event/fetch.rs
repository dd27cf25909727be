//! The `fetch` event: an HTTP request in, a streaming HTTP response out.
//!
//! Guarantees: the response is sent as soon as the handler's promise resolves; its body streams
//! from the isolate through a bounded channel; if the client goes away before the response,
//! the request's `signal` is aborted and the handler's result is dropped; `ctx.waitUntil()`
//! work runs on after the response for at most [`WAIT_UNTIL_GRACE_MS`]; a stateless handler
//! whose promise can no longer settle (nothing pending in its isolate) gets workerd's "The
//! script will never generate a response." instead of hanging.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use rquickjs::{async_with, Ctx, Function, Object, Promise, TypedArray, Value};
use tokio::sync::oneshot;

use crate::body::{self, Body};
use crate::error::Error;
use crate::isolate::{self, Isolate};
use crate::limits::{HANG_CHECK_INTERVAL_MS, WAIT_UNTIL_GRACE_MS};
use crate::object::ObjectTarget;
use crate::socket::WebSocketUpgrade;
use crate::web;

pub type Responder = oneshot::Sender<Result<http::Response<Body>, Error>>;

/// Who handles the request: a worker's entrypoint (the default export when `None`), or a
/// Durable Object.
pub enum Target {
    Entrypoint {
        name: Option<String>,
        /// `ctx.props` as JSON (a service binding's `props`).
        props: Option<String>,
    },
    Object(ObjectTarget),
}

/// A shared slot for the responder, so whoever finishes first (the handler, or a limit that
/// terminated the isolate) answers, exactly once.
type ResponderSlot = Arc<Mutex<Option<Responder>>>;

fn answer(slot: &ResponderSlot, result: Result<http::Response<Body>, Error>) {
    let responder = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(responder) = responder {
        let _ = responder.send(result);
    }
}

thread_local! {
    static NEXT_REQUEST_ID: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Runs one request on the isolate and answers `responder`.
pub async fn run(
    isolate: std::rc::Rc<Isolate>,
    request: http::Request<Body>,
    target: Target,
    responder: Responder,
) {
    let charge = isolate.shared.cpu.begin_request();
    let invocation = Invocation::begin(&isolate, &request, &target);
    let id = NEXT_REQUEST_ID.with(|n| {
        let id = n.get().wrapping_add(1);
        n.set(id);
        id
    });
    let slot: ResponderSlot = Arc::new(Mutex::new(Some(responder)));
    let context = isolate.context.clone();
    let inner_slot = Arc::clone(&slot);
    let worker_name = isolate.worker.name().to_owned();
    let recorder = invocation.recorder.clone();
    let watched = matches!(target, Target::Entrypoint { .. });
    let work = isolate.run(async move {
        async_with!(context => |ctx| {
            handle(&ctx, request, target, id, inner_slot, &worker_name, recorder).await
        })
        .await
    });
    let outcome = if watched {
        tokio::select! {
            outcome = work => outcome,
            () = never_answers(&isolate, &slot, id) => {
                tracing::error!(target: "kiln::worker", worker = isolate.worker.name(), "Uncaught {NEVER_RESPONDS}");
                Err(Error::Exception(NEVER_RESPONDS.to_owned()))
            }
        }
    } else {
        work.await
    };
    invocation.end(&isolate, outcome.as_ref().map(|_| ()));
    if let Err(err) = outcome {
        answer(&slot, Err(err));
    }
    drop(charge);
}

/// What workerd answers when a handler's promise is still pending and nothing is left that
/// could settle it.
const NEVER_RESPONDS: &str = "Error: The script will never generate a response.";

/// Resolves when the request is still unanswered and the isolate is quiescent: no JavaScript
/// job queued and no task of its own (timer, subrequest, body read, socket) pending, checked
/// twice [`HANG_CHECK_INTERVAL_MS`] apart, and its handler never looked at `request.signal`
/// (a client that goes away settles that). Nothing but such a task can settle a handler's
/// promise, so the request would otherwise hang until the client gives up. Stateless requests
/// only: a Durable Object's request may legitimately wait for another event to the object.
async fn never_answers(isolate: &Isolate, slot: &ResponderSlot, id: u32) {
    let answered = || slot.lock().unwrap_or_else(|p| p.into_inner()).is_none();
    let mut idle_checks = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(HANG_CHECK_INTERVAL_MS)).await;
        if answered() {
            // The response is out; the body pump and waitUntil() have limits of their own.
            return std::future::pending().await;
        }
        if isolate.runtime.is_job_pending().await {
            idle_checks = 0;
            continue;
        }
        idle_checks += 1;
        if idle_checks < 2 {
            continue;
        }
        // A handler that looked at `request.signal` may be waiting for the client to leave.
        let context = isolate.context.clone();
        let observed = async_with!(context => |ctx| {
            web::internal(&ctx, "requestSignalObserved")
                .and_then(|observed| observed.call::<_, bool>((id,)))
                .unwrap_or(false)
        })
        .await;
        if !observed {
            return;
        }
        idle_checks = 0;
    }
}

/// What an invocation leaves behind: counters for `/metrics`, and when the worker is traced
/// (Tail Workers, `kiln tail`) a trace item.
struct Invocation {
    recorder: Option<crate::trace::SharedRecorder>,
    cpu_before: Duration,
    started: std::time::Instant,
}

impl Invocation {
    fn begin(isolate: &Isolate, request: &http::Request<Body>, target: &Target) -> Invocation {
        let runtime = &isolate.services.runtime;
        let recorder = runtime.traced(&isolate.worker).then(|| {
            let mut headers = serde_json::Map::new();
            for (name, value) in request.headers() {
                headers.insert(
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes())
                        .into_owned()
                        .into(),
                );
            }
            let event = crate::trace::TraceEvent::Fetch {
                request: crate::trace::TraceRequest {
                    url: request.uri().to_string(),
                    method: request.method().as_str().to_owned(),
                    headers,
                },
                response: None,
            };
            let script = isolate.worker.script();
            let mut recorder = crate::trace::Recorder::new(
                isolate.worker.name(),
                script.dispatch_namespace.clone(),
                event,
            );
            if matches!(target, Target::Object(_)) {
                recorder.item.execution_model = "durableObject".into();
            }
            let recorder = std::rc::Rc::new(std::cell::RefCell::new(recorder));
            isolate
                .shared
                .traces
                .borrow_mut()
                .push(std::rc::Rc::clone(&recorder));
            recorder
        });
        Invocation {
            recorder,
            cpu_before: isolate.shared.cpu.used_now(),
            started: std::time::Instant::now(),
        }
    }

    fn end(self, isolate: &Isolate, result: Result<(), &Error>) {
        let outcome = crate::trace::outcome(result);
        let cpu = isolate
            .shared
            .cpu
            .used_now()
            .saturating_sub(self.cpu_before);
        let script = isolate.worker.script();
        let runtime = &isolate.services.runtime;
        let exception = result.err().map(crate::trace::exception_of);
        let messages: Vec<String> = exception.iter().map(|e| e.message.clone()).collect();
        runtime.stats().record(
            isolate.worker.name(),
            script.dispatch_namespace.as_deref(),
            outcome,
            &messages,
            cpu.as_secs_f64(),
        );
        let Some(recorder) = self.recorder else {
            return;
        };
        isolate
            .shared
            .traces
            .borrow_mut()
            .retain(|other| !std::rc::Rc::ptr_eq(other, &recorder));
        let mut recorder = recorder.borrow_mut();
        if let Some(exception) = exception {
            recorder.exception(exception);
        }
        recorder.item.outcome = outcome.into();
        recorder.item.cpu_time = cpu.as_secs_f64() * 1000.0;
        recorder.item.wall_time = self.started.elapsed().as_secs_f64() * 1000.0;
        runtime.publish_trace(&isolate.worker, &recorder.item);
    }
}

async fn handle(
    ctx: &Ctx<'_>,
    request: http::Request<Body>,
    target: Target,
    id: u32,
    slot: ResponderSlot,
    worker_name: &str,
    recorder: Option<crate::trace::SharedRecorder>,
) -> Result<(), Error> {
    let closed = {
        let guard = slot.lock().unwrap_or_else(|p| p.into_inner());
        guard.is_none()
    };
    if closed {
        return Ok(());
    }
    let promise = start(ctx, request, target, id)?;
    // The client went away: the receiving end of the responder was dropped (woken, not polled).
    let client_gone = std::future::poll_fn(|cx| {
        let mut guard = slot.lock().unwrap_or_else(|p| p.into_inner());
        match guard.as_mut() {
            Some(responder) => responder.poll_closed(cx),
            None => std::task::Poll::Ready(()),
        }
    });
    let result = tokio::select! {
        result = promise.into_future::<Object>() => result,
        _ = client_gone => {
            tracing::debug!(worker = worker_name, id, "client disconnected before the response");
            if let Ok(abort) = web::internal(ctx, "abortRequest") {
                let _ = abort.call::<_, ()>((id,));
            }
            return Ok(());
        }
    };
    let result = match result {
        Ok(result) => result,
        Err(err) => {
            let text = web::describe_error(ctx, err);
            tracing::error!(target: "kiln::worker", worker = worker_name, "Uncaught {text}");
            return Err(Error::Exception(text));
        }
    };
    let (response, pump_done) = build_response(ctx, &result, worker_name)?;
    if let Some(recorder) = &recorder {
        if let Some(crate::trace::TraceEvent::Fetch {
            response: traced, ..
        }) = &mut recorder.borrow_mut().item.event
        {
            *traced = Some(crate::trace::TraceResponse {
                status: response.status().as_u16(),
            });
        }
    }
    answer(&slot, Ok(response));
    if let Some(done) = pump_done {
        let _ = done.await;
    }
    let wait_until: Option<Function> = result.get("waitUntil").ok();
    if let Some(wait_until) = wait_until {
        // Undefined, not a promise, when the handler passed nothing to waitUntil().
        let pending = wait_until
            .call::<_, Value>(())
            .ok()
            .and_then(|value| value.into_promise());
        if let Some(promise) = pending {
            let grace = Duration::from_millis(WAIT_UNTIL_GRACE_MS);
            if tokio::time::timeout(grace, promise.into_future::<Value>())
                .await
                .is_err()
            {
                tracing::warn!(target: "kiln::worker", worker = worker_name, "waitUntil() tasks did not finish within {WAIT_UNTIL_GRACE_MS} ms and were cancelled");
            }
        }
    }
    Ok(())
}

/// Calls the prelude's `dispatchFetch` with the request's parts.
fn start<'js>(
    ctx: &Ctx<'js>,
    request: http::Request<Body>,
    target: Target,
    id: u32,
) -> Result<Promise<'js>, Error> {
    isolate::async_context::reset(ctx);
    let internal = |err: rquickjs::Error| Error::Exception(web::describe_error(ctx, err));
    let (mut parts, body) = request.into_parts();
    let (exports, env) = super::exports_and_env(ctx)?;
    let data = isolate::data(ctx).map_err(internal)?;
    let has_body = !(http_body::Body::is_end_stream(&body)
        || ((parts.method == http::Method::GET || parts.method == http::Method::HEAD)
            && http_body::Body::size_hint(&body).exact() == Some(0)));
    let body_id = has_body.then(|| data.register_body(body));
    drop(data);
    let mut headers = Vec::with_capacity(parts.headers.len() * 2);
    for (name, value) in &parts.headers {
        headers.push(name.as_str().to_owned());
        headers.push(String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    // Serialized as WHATWG's href (the `url` crate is the one behind JavaScript's URL), so the
    // prelude need not parse it again; what does not parse is left for it to reject.
    let edge_cf = parts
        .extensions
        .get::<crate::cf::EdgeRequest>()
        .map(crate::cf::EdgeRequest::parts);
    let forwarded_cf = parts
        .extensions
        .remove::<crate::cf::ForwardedCf>()
        .map(|cf| cf.0);
    let (url, url_is_href) = match parts.extensions.remove::<crate::web::fetch::Href>() {
        Some(href) => (href.0, true),
        None => {
            let uri = parts.uri.to_string();
            match url::Url::parse(&uri) {
                Ok(url) => (String::from(url), true),
                Err(_) => (uri, false),
            }
        }
    };
    let request = rquickjs::Array::new(ctx.clone()).map_err(internal)?;
    request.set(0, parts.method.as_str()).map_err(internal)?;
    request.set(1, url).map_err(internal)?;
    request.set(2, headers).map_err(internal)?;
    request.set(3, body_id).map_err(internal)?;
    request.set(4, url_is_href).map_err(internal)?;
    match (edge_cf, forwarded_cf) {
        (Some(edge), _) => request.set(5, edge).map_err(internal)?,
        (None, Some(json)) => request.set(5, json).map_err(internal)?,
        (None, None) => {}
    }
    match target {
        Target::Entrypoint { name, props } => {
            let dispatch = web::internal(ctx, "dispatchFetch").map_err(internal)?;
            dispatch
                .call((exports, env, name, id, request, props))
                .map_err(internal)
        }
        Target::Object(object) => {
            let dispatch = web::internal(ctx, "dispatchObjectFetch").map_err(internal)?;
            let address = super::object::address(ctx, &object).map_err(internal)?;
            dispatch
                .call((exports, env, address, id, request))
                .map_err(internal)
        }
    }
}

/// Turns the prelude's response description into an HTTP response, starting a body pump for a
/// JavaScript stream.
fn build_response<'js>(
    ctx: &Ctx<'js>,
    result: &Object<'js>,
    worker_name: &str,
) -> Result<(http::Response<Body>, Option<oneshot::Receiver<()>>), Error> {
    let internal = |err: rquickjs::Error| Error::Exception(web::describe_error(ctx, err));
    let status: u16 = result.get("status").map_err(internal)?;
    let headers: Vec<String> = result.get("headers").map_err(internal)?;
    let web_socket: Option<f64> = result.get("webSocket").map_err(internal)?;
    let upgrade = match web_socket {
        Some(id) => Some(WebSocketUpgrade::new(
            crate::socket::ops::release(ctx, id).map_err(internal)?,
        )),
        None => None,
    };
    if (status == 101) != upgrade.is_some() {
        return Err(Error::Exception(
            "RangeError: Responses with a WebSocket must have status code 101.".into(),
        ));
    }
    let manual_encoding: Option<bool> = result.get("manualEncoding").map_err(internal)?;
    let body_value: Value = result.get("body").map_err(internal)?;
    let mut pump_done = None;
    let body = if body_value.is_null() || body_value.is_undefined() {
        body::empty()
    } else if let Some(id) = body_value.as_int() {
        let taken = isolate::data(ctx)
            .map_err(internal)?
            .bodies
            .borrow_mut()
            .remove(&(id as u32));
        taken.unwrap_or_else(body::empty)
    } else if let Ok(array) = TypedArray::<u8>::from_value(body_value.clone()) {
        body::full(Bytes::copy_from_slice(array.as_bytes().unwrap_or(&[])))
    } else if let Some(pump) = body_value.as_object() {
        let (done_sender, done) = oneshot::channel();
        pump_done = Some(done);
        crate::web::fetch::pump::body_from_pump(
            ctx,
            pump,
            worker_name.to_owned(),
            "response body",
            Some(done_sender),
        )
        .map_err(internal)?
    } else {
        return Err(Error::Exception(
            "response body has an unexpected type".into(),
        ));
    };
    let mut response = http::Response::new(body);
    if let Some(upgrade) = upgrade {
        response.extensions_mut().insert(upgrade);
    }
    if manual_encoding == Some(true) {
        response
            .extensions_mut()
            .insert(crate::content_coding::ManualEncoding);
    }
    *response.status_mut() = http::StatusCode::from_u16(status)
        .map_err(|_| Error::Exception(format!("invalid status {status}")))?;
    let map = response.headers_mut();
    for pair in headers.chunks(2) {
        let [name, value] = pair else { continue };
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            map.append(name, value);
        }
    }
    Ok((response, pump_done))
}
