//! WebSockets: links between two ends that carry frames, the runtime's table of the ends that
//! JavaScript holds, and the Durable Object hibernation API's sockets.
//!
//! A `WebSocketPair` is a link: two ends, each a bounded channel to the other. An end lives in
//! the [`table::SocketTable`] while JavaScript holds it; it leaves the table when a response
//! hands it to the HTTP edge (or to a worker that called `stub.fetch()`), as a
//! [`WebSocketUpgrade`] carried in the response's extensions. Guarantees: frames arrive in the
//! order they were sent; a dropped end is seen by its peer as the end of the stream (close code
//! 1006); every queue is bounded ([`crate::limits::WEBSOCKET_QUEUE_FRAMES_MAX`]).

pub mod hibernation;
pub mod moved;
pub mod ops;
pub mod table;
pub mod wire;

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::limits::WEBSOCKET_QUEUE_FRAMES_MAX;

/// One WebSocket message, or the close handshake's frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Text(String),
    Binary(Bytes),
    /// The close handshake; `code` is [`NO_STATUS_CODE`] for a frame without one.
    Close {
        code: u16,
        reason: String,
    },
    /// The connection failed for another reason than vanishing (a protocol violation, an
    /// oversized message): an `error` event, `webSocketError` for a hibernatable socket.
    /// Nothing follows it.
    Error(String),
    /// The hibernatable socket at the other end left this node with its object: re-attach it
    /// to the object's new owner ([`moved`]). Nothing follows it.
    Moved(Box<moved::MovedSocket>),
    /// What the hibernatable socket at the other end now is to its object (sent when it is
    /// accepted and when its attachment changes), so that a node holding the client through a
    /// tunnel can re-attach it if the owner dies. Only tunnels keep it; everyone else skips it.
    State(Box<moved::MovedSocket>),
}

/// The peer of an end is gone.
#[derive(Debug, thiserror::Error)]
#[error("the WebSocket's other end is closed")]
pub struct PeerGone;

/// One end of a WebSocket link: what it sends arrives at the other end, and the other way.
#[derive(Debug)]
pub struct WebSocketEnd {
    tx: mpsc::Sender<Frame>,
    rx: mpsc::Receiver<Frame>,
}

impl WebSocketEnd {
    /// Two connected ends.
    pub fn pair() -> (WebSocketEnd, WebSocketEnd) {
        let (a_tx, b_rx) = mpsc::channel(WEBSOCKET_QUEUE_FRAMES_MAX);
        let (b_tx, a_rx) = mpsc::channel(WEBSOCKET_QUEUE_FRAMES_MAX);
        (
            WebSocketEnd { tx: a_tx, rx: a_rx },
            WebSocketEnd { tx: b_tx, rx: b_rx },
        )
    }

    /// Sends a frame to the peer, waiting while its queue is full.
    pub async fn send(&self, frame: Frame) -> Result<(), PeerGone> {
        self.tx.send(frame).await.map_err(|_| PeerGone)
    }

    /// Sends a frame to the peer, waiting while its queue is full; gives the frame back if the
    /// peer is gone.
    pub async fn send_or_return(&self, frame: Frame) -> Result<(), Frame> {
        self.tx.send(frame).await.map_err(|err| err.0)
    }

    /// The next frame from the peer; `None` once the peer is gone.
    pub async fn recv(&mut self) -> Option<Frame> {
        self.rx.recv().await
    }

    pub(crate) fn into_parts(self) -> (mpsc::Sender<Frame>, mpsc::Receiver<Frame>) {
        (self.tx, self.rx)
    }

    pub(crate) fn from_parts(tx: mpsc::Sender<Frame>, rx: mpsc::Receiver<Frame>) -> WebSocketEnd {
        WebSocketEnd { tx, rx }
    }
}

/// The client end of a WebSocket a worker answered a request with (`new Response(null,
/// {status: 101, webSocket})`), carried in the response's extensions. The HTTP edge takes it and
/// connects it to the client's connection.
#[derive(Debug, Clone)]
pub struct WebSocketUpgrade(Arc<Mutex<Option<WebSocketEnd>>>);

impl WebSocketUpgrade {
    pub fn new(end: WebSocketEnd) -> WebSocketUpgrade {
        WebSocketUpgrade(Arc::new(Mutex::new(Some(end))))
    }

    /// Takes the end; `None` if someone already did.
    pub fn take(&self) -> Option<WebSocketEnd> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// The close code that stands for a close frame without a status code (RFC 6455 7.1.5).
pub const NO_STATUS_CODE: u16 = 1005;

/// The close reason of a peer that went away without a close frame (code 1006).
pub const DISCONNECTED_REASON: &str = "WebSocket disconnected without sending Close frame.";

/// Close codes an endpoint may send, as Cloudflare checks them: 1000 to 4999 but for the codes
/// that only describe what happened (1004, 1005, 1006, 1015).
pub fn is_valid_close_code(code: u16) -> bool {
    (1000..=4999).contains(&code) && !matches!(code, 1004 | 1005 | 1006 | 1015)
}
