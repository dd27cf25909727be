//! The pump of a hibernatable WebSocket (`ctx.acceptWebSocket`): it reads the peer's frames
//! outside any isolate and delivers each to the object as an event (`webSocketMessage`,
//! `webSocketClose`), through the object's mailbox like any other event.
//!
//! Because the pump lives on the JS thread's task set and not in an isolate, the object can be
//! evicted (hibernate) and its isolate discarded while the socket stays connected; the next
//! frame re-creates the object. Guarantees: frames are delivered one at a time, in order; a
//! frame equal to the object's auto-response request is answered without waking the object; the
//! close (a close frame, or the peer vanishing: code 1006, not clean), or the error of a
//! connection that broke the protocol, is delivered once, after which the socket leaves the
//! table. Each event is bounded by the object's `setHibernatableWebSocketEventTimeout`. When the
//! object's shard moves to another node, the pump hands the socket (and the frames its object
//! has not seen) to the peer instead (`socket::moved`).

use std::sync::Arc;

use tokio::sync::mpsc;

use super::table::{HibernatedFrames, MoveNotice};
use super::Frame;
use crate::object::ObjectTarget;
use crate::pool::Runtime;
use crate::worker::Worker;

/// What a hibernatable socket's object is told.
#[derive(Debug, Clone)]
pub enum SocketEvent {
    Message(Frame),
    Close {
        code: u16,
        reason: String,
        was_clean: bool,
    },
    /// `webSocketError(ws, error)`: the connection failed; no close follows.
    Error(String),
}

/// Delivers the peer's frames to the object until the socket closes.
pub async fn pump(
    runtime: Runtime,
    worker: Arc<Worker>,
    target: ObjectTarget,
    socket: u64,
    hibernated: HibernatedFrames,
) {
    let table = runtime.sockets();
    let HibernatedFrames {
        mut frames,
        mut moved,
    } = hibernated;
    loop {
        let frame = tokio::select! {
            biased;
            notice = &mut moved => {
                if let Ok(notice) = notice {
                    hand_over(notice, &mut frames);
                }
                return;
            }
            frame = frames.recv() => frame,
        };
        let event = match frame {
            Some(Frame::Close { code, reason }) => SocketEvent::Close {
                code,
                reason,
                was_clean: true,
            },
            Some(Frame::Text(text)) => {
                if table.try_auto_respond(socket, &text, now_ms()) {
                    continue;
                }
                SocketEvent::Message(Frame::Text(text))
            }
            Some(Frame::Error(message)) => SocketEvent::Error(message),
            Some(Frame::State(_)) => continue,
            // Its peer is another of this node's hibernatable sockets, which moved away.
            Some(Frame::Moved(_)) => SocketEvent::Close {
                code: super::moved::MOVED_CLOSE_CODE,
                reason: super::moved::MOVED_CLOSE_REASON.to_owned(),
                was_clean: true,
            },
            Some(frame) => SocketEvent::Message(frame),
            None => SocketEvent::Close {
                code: 1006,
                reason: super::DISCONNECTED_REASON.to_owned(),
                was_clean: false,
            },
        };
        let closing = matches!(event, SocketEvent::Close { .. } | SocketEvent::Error(_));
        if let Err(err) = runtime
            .object_socket(&worker, target.clone(), socket, event)
            .await
        {
            tracing::warn!(target: "kiln::worker", worker = worker.name(), %err, "WebSocket event failed");
        }
        if closing {
            // As on Cloudflare, the hibernation path does not answer the peer's close itself:
            // the object calls `ws.close()` in `webSocketClose` if it wants to.
            table.remove(socket);
            return;
        }
    }
}

/// The socket moved to another node with its object: the frames its peer sent that this
/// node's object has not seen go with it, and the peer is told where to re-attach it.
fn hand_over(notice: MoveNotice, frames: &mut mpsc::Receiver<Frame>) {
    let MoveNotice { to_peer, mut moved } = notice;
    while let Ok(frame) = frames.try_recv() {
        moved.pending.push(frame);
    }
    // A peer whose queue is full is not reading: it sees the end of the stream instead.
    let _ = to_peer.try_send(Frame::Moved(Box::new(moved)));
}

fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_millis() as f64)
}
