//! WebSockets at the HTTP edge: answering a worker's 101 response with the handshake and
//! connecting the client's upgraded connection to the WebSocket end the worker returned.
//!
//! The frames themselves are carried by [`kiln_runtime::pump_websocket`].

use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use kiln_runtime::{pump_websocket, websocket_config, Body, Runtime, WebSocketUpgrade};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::WebSocketStream;

/// A client's request to upgrade: what the edge keeps of it while the worker runs.
pub struct UpgradeRequest {
    key: http::HeaderValue,
    on_upgrade: OnUpgrade,
}

/// Takes the upgrade out of a request that asks for a WebSocket.
pub fn upgrade_request<B>(request: &mut http::Request<B>) -> Option<UpgradeRequest> {
    let headers = request.headers();
    let wants = headers
        .get(http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let key = headers.get(http::header::SEC_WEBSOCKET_KEY)?.clone();
    if !wants {
        return None;
    }
    let on_upgrade = request.extensions_mut().remove::<OnUpgrade>()?;
    Some(UpgradeRequest { key, on_upgrade })
}

/// The worker's response as the client gets it: a 101 response carrying a WebSocket becomes the
/// handshake, and the connection is handed to [`pump_websocket`].
pub fn respond(
    response: http::Response<Body>,
    upgrade: Option<UpgradeRequest>,
    worker: &str,
    runtime: &Runtime,
) -> http::Response<Body> {
    let Some(socket) = response.extensions().get::<WebSocketUpgrade>().cloned() else {
        return response;
    };
    let Some(end) = socket.take() else {
        return response;
    };
    let Some(upgrade) = upgrade else {
        tracing::error!(target: "kiln::worker", worker, "Uncaught TypeError: Worker tried to return a WebSocket in a response to a request which did not contain the header \"Upgrade: websocket\".");
        let mut failed = http::Response::new(kiln_runtime::full("Worker threw exception"));
        *failed.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
        return failed;
    };
    let (mut parts, _) = response.into_parts();
    parts.status = http::StatusCode::SWITCHING_PROTOCOLS;
    let accept = derive_accept_key(upgrade.key.as_bytes());
    let headers = &mut parts.headers;
    headers.insert(
        http::header::UPGRADE,
        http::HeaderValue::from_static("websocket"),
    );
    headers.insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("Upgrade"),
    );
    if let Ok(value) = http::HeaderValue::from_str(&accept) {
        headers.insert(http::header::SEC_WEBSOCKET_ACCEPT, value);
    }
    headers.remove(http::header::CONTENT_LENGTH);
    headers.remove(http::header::TRANSFER_ENCODING);
    let worker = worker.to_owned();
    let runtime = runtime.clone();
    tokio::spawn(async move {
        match upgrade.on_upgrade.await {
            Ok(upgraded) => {
                let stream = WebSocketStream::from_raw_socket(
                    TokioIo::new(upgraded),
                    Role::Server,
                    Some(websocket_config()),
                )
                .await;
                // The client stays here; a hibernatable socket whose object moves
                // is re-attached to the new owner.
                pump_websocket(stream, end, Some(runtime)).await;
            }
            Err(err) => tracing::debug!(worker, %err, "WebSocket upgrade failed"),
        }
    });
    http::Response::from_parts(parts, kiln_runtime::empty())
}
