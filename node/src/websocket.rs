//! WebSockets at the HTTP edge: answering a worker's 101 response with the handshake and
//! connecting the client's upgraded connection to the WebSocket end the worker returned.
//!
//! Guarantees: frames pass in order both ways; a client frame waits while the worker's queue is
//! full (backpressure, not growth); a client that vanishes is seen by the worker as a close
//! with code 1006; a worker end that goes away closes the client with 1011. Messages larger
//! than [`kiln_runtime::limits::WEBSOCKET_MESSAGE_BYTES_MAX`] close the connection.

use futures_util::{SinkExt, StreamExt};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use kiln_runtime::limits::WEBSOCKET_MESSAGE_BYTES_MAX;
use kiln_runtime::{Body, Frame, WebSocketEnd, WebSocketUpgrade, NO_STATUS_CODE};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
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
/// handshake, and the connection is handed to [`pump`].
pub fn respond(
    response: http::Response<Body>,
    upgrade: Option<UpgradeRequest>,
    worker: &str,
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
    tokio::spawn(async move {
        match upgrade.on_upgrade.await {
            Ok(upgraded) => {
                let config = WebSocketConfig::default()
                    .max_message_size(Some(WEBSOCKET_MESSAGE_BYTES_MAX))
                    .max_frame_size(Some(WEBSOCKET_MESSAGE_BYTES_MAX));
                let stream = WebSocketStream::from_raw_socket(
                    TokioIo::new(upgraded),
                    Role::Server,
                    Some(config),
                )
                .await;
                pump(stream, end).await;
            }
            Err(err) => tracing::debug!(worker, %err, "WebSocket upgrade failed"),
        }
    });
    http::Response::from_parts(parts, kiln_runtime::empty())
}

/// Carries frames between the client's connection and the worker's end until both are done.
pub async fn pump<S>(stream: WebSocketStream<S>, mut end: WebSocketEnd)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut sink, mut source) = stream.split();
    let mut worker_open = true;
    loop {
        tokio::select! {
            incoming = source.next() => {
                let frame = match incoming {
                    Some(Ok(Message::Text(text))) => Frame::Text(text.as_str().to_owned()),
                    Some(Ok(Message::Binary(bytes))) => Frame::Binary(bytes),
                    Some(Ok(Message::Close(close))) => match close {
                        Some(close) => Frame::Close {
                            code: u16::from(close.code),
                            reason: close.reason.as_str().to_owned(),
                        },
                        None => Frame::Close { code: NO_STATUS_CODE, reason: String::new() },
                    },
                    Some(Ok(_)) => continue,
                    Some(Err(err)) => {
                        tracing::debug!(%err, "WebSocket client connection failed");
                        break;
                    }
                    None => break,
                };
                if worker_open && end.send(frame).await.is_err() {
                    worker_open = false;
                }
            }
            outgoing = end.recv(), if worker_open => {
                let message = match outgoing {
                    Some(Frame::Text(text)) => Message::Text(text.into()),
                    Some(Frame::Binary(bytes)) => Message::Binary(bytes),
                    Some(Frame::Close { code, reason }) => Message::Close(
                        (code != NO_STATUS_CODE).then(|| CloseFrame { code: CloseCode::from(code), reason: reason.into() }),
                    ),
                    None => {
                        // The worker's end is gone (its isolate was discarded).
                        worker_open = false;
                        Message::Close(Some(CloseFrame { code: CloseCode::Error, reason: "".into() }))
                    }
                };
                if sink.send(message).await.is_err() {
                    break;
                }
            }
        }
    }
}
