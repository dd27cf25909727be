//! WebSocket frames on a real connection: carries frames between a tungstenite stream (a
//! client's connection at the edge, or an outbound connection a worker opened) and a
//! [`WebSocketEnd`].
//!
//! Guarantees: frames pass in order both ways; a frame from the network waits while the
//! worker's queue is full (backpressure, not growth); a connection that vanishes is seen by the
//! worker as a close with code 1006, one that breaks the protocol (or sends a message larger
//! than [`WEBSOCKET_MESSAGE_BYTES_MAX`]) as a [`Frame::Error`]; a worker end that goes away
//! closes the connection with 1011.

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::error::{Error as WsError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::moved::{MOVED_CLOSE_CODE, MOVED_CLOSE_REASON};
use super::{Frame, WebSocketEnd, NO_STATUS_CODE};
use crate::limits::WEBSOCKET_MESSAGE_BYTES_MAX;

/// The protocol limits every WebSocket connection of Kiln's uses.
pub fn websocket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(WEBSOCKET_MESSAGE_BYTES_MAX))
        .max_frame_size(Some(WEBSOCKET_MESSAGE_BYTES_MAX))
        // tungstenite's defaults (128 KiB each) dominated an idle socket's memory; the read
        // buffer still grows for a large message, and writes go out as they are made.
        .read_buffer_size(WEBSOCKET_READ_BUFFER_BYTES)
        .write_buffer_size(0)
}

/// Whether a read error means the peer simply went away (delivered as a close with 1006)
/// rather than that it broke the protocol.
fn is_disconnect(err: &WsError) -> bool {
    matches!(
        err,
        WsError::ConnectionClosed
            | WsError::AlreadyClosed
            | WsError::Io(_)
            | WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake)
    )
}

/// How long a client frame may wait for the worker's end to say where it went (it moved with
/// its object, or it is gone) before the connection is closed.
const STALLED_MAX: std::time::Duration = std::time::Duration::from_secs(10);

/// The read buffer one WebSocket connection starts with.
pub const WEBSOCKET_READ_BUFFER_BYTES: usize = 4 * 1024;

/// Carries frames between the client's connection and the worker's end until both are done.
///
/// With a `runtime` (the HTTP edge), a hibernatable socket whose object moved to another node
/// ([`Frame::Moved`]) is re-attached to the object's new owner and the connection carries on;
/// without one, or if that fails, the client gets a close with 1012.
pub async fn pump_websocket<S>(
    stream: WebSocketStream<S>,
    mut end: WebSocketEnd,
    runtime: Option<crate::Runtime>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut sink, mut source) = stream.split();
    let mut worker_open = true;
    // Once either side sent its close frame, tungstenite finishes the handshake itself; nothing
    // more may be written, and the reply it queued is flushed by the reads that follow.
    let mut closing = false;
    // A client frame the worker's end refused: the end either moved (a `Moved` frame waits in
    // it, and the frame goes to the new owner) or is gone. The client is not read meanwhile.
    let mut stalled: Option<Frame> = None;
    let mut stalled_since = tokio::time::Instant::now();
    loop {
        tokio::select! {
            // Bounded: an end that refuses frames and never says why counts as gone.
            _ = tokio::time::sleep_until(stalled_since + STALLED_MAX), if stalled.is_some() => {
                stalled = None;
                worker_open = false;
                if !closing {
                    closing = true;
                    let close = Message::Close(Some(CloseFrame { code: CloseCode::Error, reason: "".into() }));
                    if sink.send(close).await.is_err() {
                        break;
                    }
                }
            }
            incoming = source.next(), if stalled.is_none() => {
                let frame = match incoming {
                    Some(Ok(Message::Text(text))) => Frame::Text(text.as_str().to_owned()),
                    Some(Ok(Message::Binary(bytes))) => Frame::Binary(bytes),
                    Some(Ok(Message::Close(close))) => {
                        closing = true;
                        match close {
                            Some(close) => Frame::Close {
                                code: u16::from(close.code),
                                reason: close.reason.as_str().to_owned(),
                            },
                            None => Frame::Close { code: NO_STATUS_CODE, reason: String::new() },
                        }
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(err)) => {
                        tracing::debug!(%err, "WebSocket connection failed");
                        if !is_disconnect(&err) && worker_open {
                            let _ = end.send(Frame::Error(err.to_string())).await;
                        }
                        break;
                    }
                    None => break,
                };
                if worker_open {
                    if let Err(frame) = end.send_or_return(frame).await {
                        stalled = Some(frame);
                        stalled_since = tokio::time::Instant::now();
                    }
                }
            }
            outgoing = end.recv(), if worker_open => {
                let message = match outgoing {
                    Some(_) if closing => continue,
                    Some(Frame::Error(_) | Frame::State(_)) => continue,
                    Some(Frame::Moved(moved)) => {
                        let mut moved = *moved;
                        let mut resend = std::mem::take(&mut moved.pending);
                        let reattached = match &runtime {
                            Some(runtime) => runtime.reattach_socket(moved).await,
                            None => Err(crate::Error::Exception("no runtime to re-attach to".into())),
                        };
                        match reattached {
                            Ok(moved_end) => {
                                end = moved_end;
                                // What the old owner's object never saw, then what it refused.
                                resend.extend(stalled.take());
                                for frame in resend {
                                    if end.send(frame).await.is_err() {
                                        break;
                                    }
                                }
                                continue;
                            }
                            Err(err) => {
                                stalled = None;
                                tracing::warn!(%err, "a WebSocket whose object moved could not be re-attached");
                                closing = true;
                                Message::Close(Some(CloseFrame {
                                    code: CloseCode::from(MOVED_CLOSE_CODE),
                                    reason: MOVED_CLOSE_REASON.into(),
                                }))
                            }
                        }
                    }
                    Some(Frame::Text(text)) => Message::Text(text.into()),
                    Some(Frame::Binary(bytes)) => Message::Binary(bytes),
                    Some(Frame::Close { code, reason }) => {
                        closing = true;
                        Message::Close(
                            (code != NO_STATUS_CODE).then(|| CloseFrame { code: CloseCode::from(code), reason: reason.into() }),
                        )
                    }
                    None => {
                        // The worker's end is gone (its isolate was discarded).
                        worker_open = false;
                        stalled = None;
                        if closing {
                            continue;
                        }
                        closing = true;
                        Message::Close(Some(CloseFrame { code: CloseCode::Error, reason: "".into() }))
                    }
                };
                if let Err(err) = sink.send(message).await {
                    tracing::debug!(%err, "WebSocket connection could not be written");
                    break;
                }
            }
        }
    }
    // Push out anything tungstenite still holds (a queued close reply) before the connection
    // is dropped.
    let _ = sink.close().await;
}
