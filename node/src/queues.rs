//! Queue consumers: for each queue a worker consumes, a loop that delivers its messages to the
//! worker's `queue()` handler in batches (up to `max_batch_size`, or what arrived within
//! `max_batch_timeout`), then acks, retries (after `retry_delay` or the delay the handler asked
//! for) or, past `max_retries`, dead-letters or drops each message.
//!
//! Guarantees: at-least-once delivery. A batch is leased (its messages moved
//! [`QUEUE_LEASE_MS`] into the future, durably) before it is delivered, so a node that dies
//! mid-delivery leaves it to be delivered again. In a cluster only the node that owns the
//! queue's shard runs its loop.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kiln_runtime::queue::{self, QueueConsumer, QueueMessage, QUEUE_LEASE_MS};
use kiln_runtime::{ObjectStore, Runtime, Worker};

/// How often a loop looks for visible messages.
const POLL: Duration = Duration::from_millis(50);

/// Whether this node delivers the queue whose storage object is this id.
pub type Owns = Arc<dyn Fn(&[u8; 32]) -> bool + Send + Sync>;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub async fn run(
    runtime: Runtime,
    store: Arc<dyn ObjectStore>,
    worker: Arc<Worker>,
    consumer: QueueConsumer,
    owns: Owns,
) {
    let object = queue::object_id(&consumer.queue);
    let mut filling_since: Option<Instant> = None;
    loop {
        tokio::time::sleep(POLL).await;
        if !owns(&object) {
            filling_since = None;
            continue;
        }
        let now = now_ms();
        let visible = match queue::visible(
            store.as_ref(),
            &consumer.queue,
            now,
            consumer.max_batch_size,
        ) {
            Ok(visible) => visible,
            Err(err) => {
                tracing::debug!(queue = consumer.queue, %err, "reading the queue");
                continue;
            }
        };
        if visible.is_empty() {
            filling_since = None;
            continue;
        }
        if visible.len() < consumer.max_batch_size {
            let since = *filling_since.get_or_insert_with(Instant::now);
            if since.elapsed() < Duration::from_millis(consumer.max_batch_timeout_ms) {
                continue;
            }
        }
        filling_since = None;
        deliver(&runtime, store.as_ref(), &worker, &consumer, visible, now).await;
    }
}

/// Leases `visible`, delivers it, and settles each message by the handler's outcome.
async fn deliver(
    runtime: &Runtime,
    store: &dyn ObjectStore,
    worker: &Arc<Worker>,
    consumer: &QueueConsumer,
    visible: Vec<(Vec<u8>, QueueMessage)>,
    now: i64,
) {
    let lease_until = now + QUEUE_LEASE_MS;
    let leased: Vec<QueueMessage> = visible
        .iter()
        .map(|(_, m)| QueueMessage {
            attempts: m.attempts + 1,
            ..m.clone()
        })
        .collect();
    let moves: Vec<_> = visible
        .iter()
        .zip(&leased)
        .map(|((key, _), m)| (key.clone(), Some((m.clone(), lease_until))))
        .collect();
    if let Err(err) = store
        .commit_anywhere(queue::move_batch(&consumer.queue, &moves))
        .await
    {
        tracing::warn!(queue = consumer.queue, %err, "leasing a batch failed");
        return;
    }
    let messages = serde_json::to_string(&leased).unwrap_or_default();
    let outcomes: Vec<serde_json::Value> = match runtime
        .queue(worker, consumer.queue.clone(), messages)
        .await
    {
        Ok(json) => serde_json::from_str(&json).unwrap_or_default(),
        Err(err) => {
            tracing::warn!(queue = consumer.queue, %err, "the queue() handler failed; the batch is retried");
            Vec::new()
        }
    };
    let now = now_ms();
    let mut settles = Vec::with_capacity(leased.len());
    let mut dead = Vec::new();
    for (i, message) in leased.into_iter().enumerate() {
        let key = queue::message_key(lease_until, &message.id);
        let outcome = outcomes.get(i);
        let acked = outcome.and_then(|o| o[0].as_str()) == Some("ack");
        if acked {
            settles.push((key, None));
            continue;
        }
        if message.attempts > consumer.max_retries {
            tracing::warn!(
                queue = consumer.queue,
                id = message.id,
                attempts = message.attempts,
                "a message ran out of retries"
            );
            settles.push((key, None));
            dead.push(message);
            continue;
        }
        let delay_s = outcome
            .and_then(|o| o[1].as_f64())
            .map_or(f64::from(consumer.retry_delay_s), |d| d.max(0.0));
        settles.push((key, Some((message, now + (delay_s * 1000.0) as i64))));
    }
    if let Some(dlq) = consumer
        .dead_letter_queue
        .as_ref()
        .filter(|_| !dead.is_empty())
    {
        let again: Vec<(QueueMessage, i64)> = dead
            .into_iter()
            .map(|m| (QueueMessage { attempts: 0, ..m }, now))
            .collect();
        if let Err(err) = store.commit_anywhere(queue::send_batch(dlq, &again)).await {
            tracing::warn!(queue = consumer.queue, %err, "dead-lettering failed; the messages stay leased");
            return;
        }
    }
    if let Err(err) = store
        .commit_anywhere(queue::move_batch(&consumer.queue, &settles))
        .await
    {
        tracing::warn!(queue = consumer.queue, %err, "settling a batch failed; it is delivered again after its lease");
    }
}
