//! WebSockets to objects on other nodes: the client stays connected to the node it reached, and
//! its frames travel to the owner (and back) over one bidirectional gRPC stream per socket.
//!
//! Guarantees: frames keep their order both ways; the queue each way is bounded; the end of
//! either side (a node dying, a connection dropping) ends the other, which the object sees as a
//! close with code 1006. A hibernatable socket whose object moves on passes through as a
//! `moved` frame, so the node holding the client re-attaches it to the new owner; a stream may
//! also begin with `reattach` instead of `open`, to make it such a socket on this node.

use futures_util::Stream;
use kiln_proto::cluster::{socket_frame, SocketClose, SocketFrame};
use kiln_runtime::limits::WEBSOCKET_QUEUE_FRAMES_MAX;
use kiln_runtime::{Frame, WebSocketEnd};
use tokio::sync::mpsc;

use super::wire;

/// Frames queued toward a peer before the sender waits.
pub const TUNNEL_QUEUE_FRAMES_MAX: usize = WEBSOCKET_QUEUE_FRAMES_MAX;

pub fn to_wire(frame: Frame) -> SocketFrame {
    let kind = match frame {
        Frame::Text(text) => socket_frame::Kind::Text(text),
        Frame::Binary(bytes) => socket_frame::Kind::Binary(bytes.to_vec()),
        Frame::Close { code, reason } => socket_frame::Kind::Close(SocketClose {
            code: u32::from(code),
            reason,
        }),
        Frame::Error(message) => socket_frame::Kind::Error(message),
        Frame::Moved(moved) => socket_frame::Kind::Moved(wire::moved_to_wire(*moved)),
        Frame::State(state) => socket_frame::Kind::State(wire::moved_to_wire(*state)),
    };
    SocketFrame { kind: Some(kind) }
}

/// A peer's frame as a WebSocket frame; `None` for anything that is not one.
pub fn from_wire(frame: SocketFrame) -> Option<Frame> {
    match frame.kind? {
        socket_frame::Kind::Text(text) => Some(Frame::Text(text)),
        socket_frame::Kind::Binary(bytes) => Some(Frame::Binary(bytes.into())),
        socket_frame::Kind::Close(close) => Some(Frame::Close {
            code: u16::try_from(close.code).unwrap_or(kiln_runtime::NO_STATUS_CODE),
            reason: close.reason,
        }),
        socket_frame::Kind::Error(message) => Some(Frame::Error(message)),
        // A malformed one is dropped: the stream's end follows, a close with 1006.
        socket_frame::Kind::Moved(moved) => wire::moved_from_wire(moved)
            .ok()
            .map(|moved| Frame::Moved(Box::new(moved))),
        socket_frame::Kind::State(state) => wire::moved_from_wire(state)
            .ok()
            .map(|state| Frame::State(Box::new(state))),
        socket_frame::Kind::Open(_)
        | socket_frame::Kind::Opened(_)
        | socket_frame::Kind::Reattach(_) => None,
    }
}

/// A bounded outgoing frame queue and the stream gRPC sends from it.
pub fn outgoing<T: Send + 'static>(
    wrap: fn(SocketFrame) -> T,
) -> (
    mpsc::Sender<SocketFrame>,
    impl Stream<Item = T> + Send + 'static,
) {
    let (sender, receiver) = mpsc::channel::<SocketFrame>(TUNNEL_QUEUE_FRAMES_MAX);
    let stream = futures_util::stream::unfold(receiver, move |mut receiver| async move {
        receiver.recv().await.map(|frame| (wrap(frame), receiver))
    });
    (sender, stream)
}

/// Carries frames between a local WebSocket end and a gRPC stream until either side ends.
///
/// On the side that holds the client, the hibernatable socket's latest state (the owner's
/// `state` frames) is kept rather than passed on; if the stream then fails (the owner's node
/// died or became unreachable) the local end is told the socket moved, with that state, so it
/// is re-attached to whichever node owns the object next.
pub async fn pump(
    mut end: WebSocketEnd,
    to_peer: mpsc::Sender<SocketFrame>,
    mut from_peer: tonic::Streaming<SocketFrame>,
) {
    let mut state: Option<Box<kiln_runtime::MovedSocket>> = None;
    loop {
        tokio::select! {
            local = end.recv() => match local {
                Some(frame) => {
                    if to_peer.send(to_wire(frame)).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
            remote = from_peer.message() => match remote {
                Ok(Some(message)) => {
                    let delivered = match from_wire(message) {
                        Some(Frame::State(latest)) => {
                            state = Some(latest);
                            true
                        }
                        Some(frame) => end.send(frame).await.is_ok(),
                        None => true,
                    };
                    if !delivered {
                        break;
                    }
                }
                Ok(None) => break,
                Err(status) => {
                    if let Some(state) = state.take() {
                        tracing::info!(target: "kiln::cluster", error = %status.message(), "lost the owner of a hibernatable WebSocket; re-attaching it");
                        let _ = end.send(Frame::Moved(state)).await;
                    }
                    break;
                }
            },
        }
    }
}
