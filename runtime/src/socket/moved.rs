//! A hibernatable WebSocket whose object moved to another node (its shard's owner changed).
//!
//! The old owner does not close such a socket: the socket's pump sends its peer a
//! [`Frame::Moved`] carrying everything the socket is to its object (the object's address, the
//! tags, the attachment, the object's auto-response, and the frames the peer sent that the old
//! object had not been given yet) and forgets it. Whoever holds the client's connection (the HTTP
//! edge) then re-attaches it to the new owner, where it becomes a hibernatable socket of the
//! same object again and the next message wakes the object there. An end JavaScript holds
//! cannot be re-attached; it sees a close with [`MOVED_CLOSE_CODE`], as before.
//!
//! [`Frame::Moved`]: super::Frame::Moved

use crate::object::ObjectTarget;

/// The close code of a socket that was not re-attached when its object moved (1012, "service
/// restart": the client should reconnect).
pub const MOVED_CLOSE_CODE: u16 = 1012;
pub const MOVED_CLOSE_REASON: &str = "Durable Object moved to another node";

/// What a hibernatable socket is to its object, carried to the object's new owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovedSocket {
    /// The worker that defines the object's class, and the namespace's index in its bindings.
    pub worker: String,
    pub binding: usize,
    pub id: [u8; 32],
    pub name: Option<String>,
    pub tags: Vec<String>,
    /// The serialized attachment (`serializeAttachment`), if any.
    pub attachment: Option<String>,
    /// The object's `setWebSocketAutoResponse` pair (request, response), if any.
    pub auto_response: Option<(String, String)>,
    /// Frames from the peer that the old owner's object never saw, oldest first: the new owner
    /// gets them first.
    pub pending: Vec<super::Frame>,
}

impl MovedSocket {
    pub fn target(&self) -> ObjectTarget {
        ObjectTarget {
            binding: self.binding,
            id: self.id,
            name: self.name.clone(),
        }
    }
}
