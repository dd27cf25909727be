//! The runtime's table of WebSocket ends that JavaScript holds, by id, and the per-object index
//! of hibernatable sockets (`ctx.acceptWebSocket`).
//!
//! Ids are unique for the life of the process and never reused. An end is in the table from
//! the moment JavaScript can name it until it is handed out of the runtime or closed. A
//! hibernatable socket belongs to its object, not to an isolate: it outlives the object's
//! eviction and its isolate, and is removed only when its close is delivered. Guarantees: at most
//! [`WEBSOCKETS_PER_NODE_MAX`] ends and [`WEBSOCKETS_PER_OBJECT_MAX`] hibernatable sockets per
//! object.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use tokio::sync::{mpsc, oneshot};

use super::moved::MovedSocket;
use super::{Frame, WebSocketEnd};
use crate::limits::{WEBSOCKETS_PER_NODE_MAX, WEBSOCKETS_PER_OBJECT_MAX};

/// Which Durable Object a hibernatable socket belongs to: its durable namespace and id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectKey {
    pub namespace: String,
    pub id: [u8; 32],
}

/// Why a table operation was refused; the message is the one JavaScript sees.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TableError {
    #[error("Too many WebSockets are open on this node.")]
    NodeFull,
    #[error("This Durable Object has too many hibernatable WebSockets (at most {WEBSOCKETS_PER_OBJECT_MAX}).")]
    ObjectFull,
    #[error("WebSocket is closed.")]
    Unknown,
    #[error("This WebSocket has already been accepted.")]
    AlreadyAccepted,
}

struct Entry {
    tx: mpsc::Sender<Frame>,
    /// Frames from the peer; taken by whoever delivers them (accept, hibernation).
    rx: Option<mpsc::Receiver<Frame>>,
    /// This end sent its close frame.
    sent_close: bool,
    hibernation: Option<Hibernated>,
}

struct Hibernated {
    object: ObjectKey,
    home: SocketHome,
    /// Tells the socket's pump that it moved (see [`SocketTable::move_where`]).
    notice: Option<oneshot::Sender<MoveNotice>>,
    tags: Vec<String>,
    attachment: Option<String>,
    auto_response_ms: Option<f64>,
}

/// What a hibernatable socket's pump gets: the peer's frames, and the notice that the socket
/// moved to another node.
pub struct HibernatedFrames {
    pub frames: mpsc::Receiver<Frame>,
    pub moved: oneshot::Receiver<MoveNotice>,
}

/// A socket that left this node: the sender to its peer, and what to tell the peer.
pub struct MoveNotice {
    pub to_peer: mpsc::Sender<Frame>,
    pub moved: MovedSocket,
}

/// Where a hibernatable socket's object is defined: what a new owner needs to find it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketHome {
    pub worker: String,
    pub binding: usize,
    pub name: Option<String>,
}

#[derive(Default)]
struct ObjectSockets {
    sockets: BTreeSet<u64>,
    /// `setWebSocketAutoResponse`: (request, response).
    auto_response: Option<(String, String)>,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    entries: HashMap<u64, Entry>,
    objects: HashMap<ObjectKey, ObjectSockets>,
}

impl Inner {
    /// What hibernatable socket `id` is to its object now.
    fn state(&self, id: u64) -> Option<MovedSocket> {
        let hibernated = self.entries.get(&id)?.hibernation.as_ref()?;
        Some(MovedSocket {
            worker: hibernated.home.worker.clone(),
            binding: hibernated.home.binding,
            id: hibernated.object.id,
            name: hibernated.home.name.clone(),
            tags: hibernated.tags.clone(),
            attachment: hibernated.attachment.clone(),
            auto_response: self
                .objects
                .get(&hibernated.object)
                .and_then(|o| o.auto_response.clone()),
            pending: Vec::new(),
        })
    }

    /// Tells hibernatable socket `id`'s peer its state ([`Frame::State`]). Skipped when the
    /// peer's queue is full: the peer then keeps an older state.
    fn announce(&self, id: u64) {
        if let (Some(state), Some(entry)) = (self.state(id), self.entries.get(&id)) {
            let _ = entry.tx.try_send(Frame::State(Box::new(state)));
        }
    }
}

/// The ends JavaScript holds, shared by every JS thread of a runtime.
#[derive(Default)]
pub struct SocketTable {
    inner: Mutex<Inner>,
}

impl SocketTable {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Puts an end in the table and returns its id.
    pub fn insert(&self, end: WebSocketEnd) -> Result<u64, TableError> {
        let mut inner = self.lock();
        if inner.entries.len() >= WEBSOCKETS_PER_NODE_MAX {
            return Err(TableError::NodeFull);
        }
        inner.next_id += 1;
        let id = inner.next_id;
        let (tx, rx) = end.into_parts();
        let entry = Entry {
            tx,
            rx: Some(rx),
            sent_close: false,
            hibernation: None,
        };
        let previous = inner.entries.insert(id, entry);
        assert!(previous.is_none(), "socket ids are never reused");
        Ok(id)
    }

    /// Takes an end out of the table whole, to hand it out of the runtime. Only an end nobody
    /// accepted can leave.
    pub fn take(&self, id: u64) -> Result<WebSocketEnd, TableError> {
        let mut inner = self.lock();
        let entry = inner.entries.get(&id).ok_or(TableError::Unknown)?;
        if entry.rx.is_none() || entry.hibernation.is_some() {
            return Err(TableError::AlreadyAccepted);
        }
        let mut entry = inner.entries.remove(&id).ok_or(TableError::Unknown)?;
        let rx = entry.rx.take().ok_or(TableError::AlreadyAccepted)?;
        Ok(WebSocketEnd::from_parts(entry.tx, rx))
    }

    /// Takes the frames from the peer, to deliver them (`accept()`).
    pub fn take_receiver(&self, id: u64) -> Result<mpsc::Receiver<Frame>, TableError> {
        let mut inner = self.lock();
        let entry = inner.entries.get_mut(&id).ok_or(TableError::Unknown)?;
        entry.rx.take().ok_or(TableError::AlreadyAccepted)
    }

    /// Queues a frame for the peer without waiting. A close frame is remembered, so the close
    /// handshake is not answered twice.
    pub fn send(&self, id: u64, frame: Frame) -> Result<SendOutcome, TableError> {
        let tx = {
            let mut inner = self.lock();
            let entry = inner.entries.get_mut(&id).ok_or(TableError::Unknown)?;
            if matches!(frame, Frame::Close { .. }) {
                if entry.sent_close {
                    return Ok(SendOutcome::Sent);
                }
                entry.sent_close = true;
            }
            entry.tx.clone()
        };
        Ok(match tx.try_send(frame) {
            Ok(()) => SendOutcome::Sent,
            Err(mpsc::error::TrySendError::Full(_)) => SendOutcome::Full,
            Err(mpsc::error::TrySendError::Closed(_)) => SendOutcome::PeerGone,
        })
    }

    /// Whether this end has sent its close frame.
    pub fn sent_close(&self, id: u64) -> bool {
        self.lock().entries.get(&id).is_some_and(|e| e.sent_close)
    }

    /// Drops an end: its peer sees the stream end.
    pub fn remove(&self, id: u64) {
        let mut inner = self.lock();
        if let Some(entry) = inner.entries.remove(&id) {
            if let Some(hibernated) = entry.hibernation {
                if let Some(object) = inner.objects.get_mut(&hibernated.object) {
                    object.sockets.remove(&id);
                    if object.sockets.is_empty() && object.auto_response.is_none() {
                        inner.objects.remove(&hibernated.object);
                    }
                }
            }
        }
    }

    /// Makes an unaccepted end a hibernatable socket of `object`; returns the peer's frames for
    /// the object's pump.
    pub fn hibernate(
        &self,
        id: u64,
        object: ObjectKey,
        home: SocketHome,
        tags: Vec<String>,
        attachment: Option<String>,
    ) -> Result<HibernatedFrames, TableError> {
        let mut inner = self.lock();
        let count = inner.objects.get(&object).map_or(0, |o| o.sockets.len());
        let entry = inner.entries.get_mut(&id).ok_or(TableError::Unknown)?;
        if entry.rx.is_none() || entry.hibernation.is_some() {
            return Err(TableError::AlreadyAccepted);
        }
        if count >= WEBSOCKETS_PER_OBJECT_MAX {
            return Err(TableError::ObjectFull);
        }
        let rx = entry.rx.take().ok_or(TableError::AlreadyAccepted)?;
        let (notice, moved) = oneshot::channel();
        entry.hibernation = Some(Hibernated {
            object: object.clone(),
            home,
            notice: Some(notice),
            tags,
            attachment,
            auto_response_ms: None,
        });
        inner.objects.entry(object).or_default().sockets.insert(id);
        inner.announce(id);
        Ok(HibernatedFrames { frames: rx, moved })
    }

    /// The object's hibernatable sockets, oldest first, optionally only those with `tag`.
    pub fn object_sockets(&self, object: &ObjectKey, tag: Option<&str>) -> Vec<u64> {
        let inner = self.lock();
        let Some(sockets) = inner.objects.get(object) else {
            return Vec::new();
        };
        sockets
            .sockets
            .iter()
            .copied()
            .filter(|id| match tag {
                None => true,
                Some(tag) => inner
                    .entries
                    .get(id)
                    .and_then(|e| e.hibernation.as_ref())
                    .is_some_and(|h| h.tags.iter().any(|t| t == tag)),
            })
            .collect()
    }

    /// A hibernatable socket's tags; `None` if it is not one.
    pub fn tags(&self, id: u64) -> Option<Vec<String>> {
        let inner = self.lock();
        let hibernated = inner.entries.get(&id)?.hibernation.as_ref()?;
        Some(hibernated.tags.clone())
    }

    pub fn set_attachment(&self, id: u64, attachment: Option<String>) -> Result<(), TableError> {
        let mut inner = self.lock();
        let entry = inner.entries.get_mut(&id).ok_or(TableError::Unknown)?;
        let hibernated = entry.hibernation.as_mut().ok_or(TableError::Unknown)?;
        hibernated.attachment = attachment;
        inner.announce(id);
        Ok(())
    }

    pub fn attachment(&self, id: u64) -> Option<String> {
        let inner = self.lock();
        inner
            .entries
            .get(&id)?
            .hibernation
            .as_ref()?
            .attachment
            .clone()
    }

    pub fn set_auto_response(&self, object: ObjectKey, pair: Option<(String, String)>) {
        let mut inner = self.lock();
        match pair {
            Some(pair) => inner.objects.entry(object).or_default().auto_response = Some(pair),
            None => {
                if let Some(sockets) = inner.objects.get_mut(&object) {
                    sockets.auto_response = None;
                    if sockets.sockets.is_empty() {
                        inner.objects.remove(&object);
                    }
                }
            }
        }
    }

    pub fn auto_response(&self, object: &ObjectKey) -> Option<(String, String)> {
        self.lock().objects.get(object)?.auto_response.clone()
    }

    /// Answers `text` with the object's auto-response if it matches, recording when.
    pub fn try_auto_respond(&self, id: u64, text: &str, now_ms: f64) -> bool {
        let (tx, response) = {
            let mut inner = self.lock();
            let Some(object) = inner
                .entries
                .get(&id)
                .and_then(|e| e.hibernation.as_ref())
                .map(|h| h.object.clone())
            else {
                return false;
            };
            let response = match inner
                .objects
                .get(&object)
                .and_then(|o| o.auto_response.as_ref())
            {
                Some((request, response)) if request == text => response.clone(),
                _ => return false,
            };
            let Some(entry) = inner.entries.get_mut(&id) else {
                return false;
            };
            if let Some(hibernated) = entry.hibernation.as_mut() {
                hibernated.auto_response_ms = Some(now_ms);
            }
            (entry.tx.clone(), response)
        };
        let _ = tx.try_send(Frame::Text(response));
        true
    }

    pub fn auto_response_timestamp(&self, id: u64) -> Option<f64> {
        let inner = self.lock();
        inner
            .entries
            .get(&id)?
            .hibernation
            .as_ref()?
            .auto_response_ms
    }

    /// Drops every hibernatable socket of the objects `belongs` selects by id from this node
    /// and tells each one's pump, which hands the socket to its peer to be re-attached to the
    /// object's new owner (a [`Frame::Moved`]). Nothing more reaches this node's object.
    pub fn move_where(&self, belongs: impl Fn(&[u8; 32]) -> bool) {
        let mut inner = self.lock();
        let ids: Vec<u64> = inner
            .objects
            .iter()
            .filter(|(key, _)| belongs(&key.id))
            .flat_map(|(_, sockets)| sockets.sockets.iter().copied())
            .collect();
        for id in ids {
            let Some(moved) = inner.state(id) else {
                continue;
            };
            let Some(mut entry) = inner.entries.remove(&id) else {
                continue;
            };
            let Some(mut hibernated) = entry.hibernation.take() else {
                continue;
            };
            if let Some(sockets) = inner.objects.get_mut(&hibernated.object) {
                sockets.sockets.remove(&id);
                if sockets.sockets.is_empty() {
                    inner.objects.remove(&hibernated.object);
                }
            }
            let Some(notice) = hibernated.notice.take() else {
                continue;
            };
            if entry.sent_close {
                continue; // closing anyway: dropping the notice ends the pump
            }
            let _ = notice.send(MoveNotice {
                to_peer: entry.tx,
                moved,
            });
        }
    }

    /// Makes `end` a hibernatable socket of `object` that arrived from another node, with the
    /// state it had there; returns its id and the peer's frames for the object's pump.
    pub fn adopt_moved(
        &self,
        end: WebSocketEnd,
        object: ObjectKey,
        moved: MovedSocket,
    ) -> Result<(u64, HibernatedFrames), TableError> {
        let id = self.insert(end)?;
        let home = SocketHome {
            worker: moved.worker,
            binding: moved.binding,
            name: moved.name,
        };
        // The object's auto-response first, so the socket's one announcement carries it.
        if let Some(pair) = moved.auto_response {
            let mut inner = self.lock();
            let sockets = inner.objects.entry(object.clone()).or_default();
            if sockets.auto_response.is_none() {
                sockets.auto_response = Some(pair);
            }
        }
        let frames = match self.hibernate(id, object, home, moved.tags, moved.attachment) {
            Ok(frames) => frames,
            Err(err) => {
                self.remove(id);
                return Err(err);
            }
        };
        Ok((id, frames))
    }

    /// Ends in the table (for tests and metrics).
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What became of a frame queued without waiting.
#[derive(Debug, PartialEq, Eq)]
pub enum SendOutcome {
    Sent,
    /// The peer's queue is full: the peer is not reading.
    Full,
    /// The peer is gone.
    PeerGone,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ObjectKey {
        ObjectKey {
            namespace: "ns".into(),
            id: [7; 32],
        }
    }

    #[test]
    fn an_accepted_end_cannot_leave_and_ids_are_not_reused() {
        let table = SocketTable::default();
        let (a, b) = WebSocketEnd::pair();
        let a = table.insert(a).expect("room");
        let b = table.insert(b).expect("room");
        assert_ne!(a, b);
        table.take_receiver(a).expect("first accept");
        assert_eq!(table.take(a).unwrap_err(), TableError::AlreadyAccepted);
        assert_eq!(
            table.take_receiver(a).unwrap_err(),
            TableError::AlreadyAccepted
        );
        let end = table.take(b).expect("unaccepted end leaves");
        drop(end);
        assert_eq!(
            table.send(a, Frame::Text("x".into())),
            Ok(SendOutcome::PeerGone)
        );
        table.remove(a);
        assert!(table.is_empty());
    }

    #[test]
    fn hibernatable_sockets_are_indexed_by_object_and_tag() {
        let table = SocketTable::default();
        let (a, _peer_a) = WebSocketEnd::pair();
        let (b, _peer_b) = WebSocketEnd::pair();
        let a = table.insert(a).expect("room");
        let b = table.insert(b).expect("room");
        let _rx_a = table
            .hibernate(a, key(), home(), vec!["red".into()], None)
            .expect("hibernate");
        let _rx_b = table
            .hibernate(b, key(), home(), vec!["blue".into()], None)
            .expect("hibernate");
        assert_eq!(table.object_sockets(&key(), None), vec![a, b]);
        assert_eq!(table.object_sockets(&key(), Some("blue")), vec![b]);
        table.set_attachment(a, Some("{}".into())).expect("attach");
        assert_eq!(table.attachment(a).as_deref(), Some("{}"));
        table.set_auto_response(key(), Some(("ping".into(), "pong".into())));
        assert!(table.try_auto_respond(a, "ping", 5.0));
        assert!(!table.try_auto_respond(a, "other", 6.0));
        assert_eq!(table.auto_response_timestamp(a), Some(5.0));
        table.remove(a);
        assert_eq!(table.object_sockets(&key(), None), vec![b]);
    }

    fn home() -> SocketHome {
        SocketHome {
            worker: "chat".into(),
            binding: 0,
            name: Some("lobby".into()),
        }
    }

    #[test]
    fn a_moved_socket_leaves_with_its_state_and_only_the_selected_objects_move() {
        let table = SocketTable::default();
        let (a, _peer_a) = WebSocketEnd::pair();
        let a = table.insert(a).expect("room");
        let mut frames = table
            .hibernate(a, key(), home(), vec!["red".into()], None)
            .expect("hibernate");
        table
            .set_attachment(a, Some("{\"n\":1}".into()))
            .expect("attach");
        table.set_auto_response(key(), Some(("ping".into(), "pong".into())));
        table.move_where(|id| id != &key().id);
        assert_eq!(table.object_sockets(&key(), None), vec![a], "not selected");
        assert!(frames.moved.try_recv().is_err(), "no notice yet");
        table.move_where(|id| id == &key().id);
        assert!(table.object_sockets(&key(), None).is_empty());
        assert!(table.is_empty(), "the entry left the table");
        let notice = frames.moved.try_recv().expect("the pump is told");
        assert_eq!(
            notice.moved,
            MovedSocket {
                worker: "chat".into(),
                binding: 0,
                id: key().id,
                name: Some("lobby".into()),
                tags: vec!["red".into()],
                attachment: Some("{\"n\":1}".into()),
                auto_response: Some(("ping".into(), "pong".into())),
                pending: Vec::new(),
            }
        );
        let (b, _peer_b) = WebSocketEnd::pair();
        let (adopted, _frames) = table
            .adopt_moved(b, key(), notice.moved)
            .expect("adopted on the new owner");
        assert_eq!(table.tags(adopted), Some(vec!["red".into()]));
        assert_eq!(table.attachment(adopted).as_deref(), Some("{\"n\":1}"));
        assert_eq!(
            table.auto_response(&key()),
            Some(("ping".into(), "pong".into()))
        );
    }

    #[test]
    fn a_close_frame_is_sent_once() {
        let table = SocketTable::default();
        let (a, mut peer) = WebSocketEnd::pair();
        let a = table.insert(a).expect("room");
        let close = Frame::Close {
            code: 1000,
            reason: String::new(),
        };
        assert_eq!(table.send(a, close.clone()), Ok(SendOutcome::Sent));
        assert_eq!(table.send(a, close.clone()), Ok(SendOutcome::Sent));
        assert!(table.sent_close(a));
        assert_eq!(peer.rx.try_recv().ok(), Some(close));
        assert!(peer.rx.try_recv().is_err());
    }
}
