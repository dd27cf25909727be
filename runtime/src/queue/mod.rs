//! Queues: producer bindings (`env.QUEUE.send`, `sendBatch`) and the store-level operations a
//! node's consumer loop uses to deliver messages to `queue(batch, env, ctx)`.
//!
//! A queue is one storage object (its id is a hash of the queue's name), so a send is durable
//! (and, in a cluster, replicated) before it resolves. A message is stored under `m` + the time
//! it becomes visible (ms since the epoch, u64 BE) + its id, so the visible ones are a range
//! scan from the start. Delivery is at least once: a consumer leases messages by moving them to
//! a later visible time before it delivers them, so a node that dies mid-delivery leaves them
//! to be delivered again once the lease runs out.

pub mod ops;

use kiln_proto::storage::{mutation, Batch, Mutation, Put};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::object::{ObjectStore, StoreError};

/// A `queues.producers` binding.
#[derive(Debug, Clone)]
pub struct QueueBinding {
    /// The name in `env`.
    pub binding: String,
    pub queue: String,
    /// Seconds every message waits before it is delivered (wrangler's `delivery_delay`).
    pub delivery_delay_s: u32,
}

/// A `queues.consumers` entry: how the worker consumes one queue.
#[derive(Debug, Clone)]
pub struct QueueConsumer {
    pub queue: String,
    /// Messages per batch at most (Cloudflare: default 10, at most 100).
    pub max_batch_size: usize,
    /// How long a batch waits to fill, in milliseconds (Cloudflare: default 5 s).
    pub max_batch_timeout_ms: u64,
    /// Deliveries after the first before a message is dropped or dead-lettered (default 3).
    pub max_retries: u32,
    pub dead_letter_queue: Option<String>,
    /// Seconds a retried message waits (default 0).
    pub retry_delay_s: u32,
}

/// A message is at most this large, serialized (Cloudflare: 128 KB).
pub const QUEUE_MESSAGE_BYTES_MAX: usize = 128 * 1000;
/// Messages one `sendBatch` takes at most (Cloudflare: 100).
pub const QUEUE_BATCH_MESSAGES_MAX: usize = 100;
/// Messages one consumer batch carries at most (Cloudflare: 100).
pub const QUEUE_CONSUMER_BATCH_MAX: usize = 100;
/// How long a delivered batch is leased before its messages become visible again.
pub const QUEUE_LEASE_MS: i64 = 60_000;
/// The longest delay a message may ask for (Cloudflare: 12 hours).
pub const QUEUE_DELAY_S_MAX: u32 = 12 * 60 * 60;

/// A stored message.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QueueMessage {
    pub id: String,
    /// The body as the runtime serializes values (structured clone, tagged JSON).
    pub body: String,
    pub content_type: String,
    /// When it was sent, ms since the epoch.
    pub timestamp: i64,
    /// Deliveries so far.
    pub attempts: u32,
}

/// The storage object that holds queue `queue`.
pub fn object_id(queue: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"kiln queue\0");
    hasher.update(queue.as_bytes());
    hasher.finalize().into()
}

pub fn storage_namespace(queue: &str) -> String {
    format!("queue:{queue}")
}

/// Where a message visible at `visible_at_ms` is stored.
pub fn message_key(visible_at_ms: i64, id: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(9 + id.len());
    key.push(b'm');
    key.extend_from_slice(&(visible_at_ms.max(0) as u64).to_be_bytes());
    key.extend_from_slice(id.as_bytes());
    key
}

fn batch(queue: &str, mutations: Vec<Mutation>) -> Batch {
    Batch {
        namespace: storage_namespace(queue),
        object_id: object_id(queue).to_vec(),
        name: None,
        replies: Vec::new(),
        mutations,
    }
}

fn put(key: Vec<u8>, message: &QueueMessage) -> Mutation {
    Mutation {
        kind: Some(mutation::Kind::Put(Put {
            key,
            value: serde_json::to_vec(message).unwrap_or_default(),
        })),
    }
}

fn delete(key: Vec<u8>) -> Mutation {
    Mutation {
        kind: Some(mutation::Kind::Delete(key)),
    }
}

/// The batch that enqueues `messages`, each visible after its delay (ms).
pub fn send_batch(queue: &str, messages: &[(QueueMessage, i64)]) -> Batch {
    let mutations = messages
        .iter()
        .map(|(message, visible_at)| put(message_key(*visible_at, &message.id), message))
        .collect();
    batch(queue, mutations)
}

/// Messages visible at `now_ms`, oldest first, at most `max`: (storage key, message).
pub fn visible(
    store: &dyn ObjectStore,
    queue: &str,
    now_ms: i64,
    max: usize,
) -> Result<Vec<(Vec<u8>, QueueMessage)>, StoreError> {
    let end = message_key(now_ms.saturating_add(1), "");
    let entries = store.list(&object_id(queue), Some(b"m"), Some(&end), false, Some(max))?;
    Ok(entries
        .into_iter()
        .filter_map(|(key, value)| Some((key, serde_json::from_slice(&value).ok()?)))
        .collect())
}

/// Where a stored message goes: (its storage key, the message and its new visible time, or
/// `None` to delete it).
pub type MessageMove = (Vec<u8>, Option<(QueueMessage, i64)>);

/// The batch that moves messages (found by [`visible`]) to a new visible time each, with the
/// attempts they carry, or deletes them.
pub fn move_batch(queue: &str, moves: &[MessageMove]) -> Batch {
    let mut mutations = Vec::with_capacity(moves.len() * 2);
    for (old_key, next) in moves {
        mutations.push(delete(old_key.clone()));
        if let Some((message, visible_at)) = next {
            mutations.push(put(message_key(*visible_at, &message.id), message));
        }
    }
    batch(queue, mutations)
}

#[cfg(test)]
mod tests {
    use super::message_key;

    #[test]
    fn messages_sort_by_the_time_they_become_visible() {
        assert!(message_key(1, "b") < message_key(2, "a"));
        assert!(message_key(5, "a") < message_key(5, "b"));
    }
}
