//! The JavaScript-facing operation of queue producers (`op_queue_send`): the prelude
//! (`web/queue/34_queue.js`) serializes bodies and checks them with Cloudflare's messages; sizes
//! and counts are checked again here.

use rquickjs::prelude::{Func, Promised};
use rquickjs::{Ctx, Exception, Object, Result};

use super::{
    QueueBinding, QueueMessage, QUEUE_BATCH_MESSAGES_MAX, QUEUE_DELAY_S_MAX,
    QUEUE_MESSAGE_BYTES_MAX,
};
use crate::isolate;
use crate::object::ops::{storage_error, store};

pub fn register(_ctx: &Ctx<'_>, ops: &Object<'_>) -> Result<()> {
    ops.set("op_queue_send", Func::from(op_queue_send))?;
    Ok(())
}

fn binding(ctx: &Ctx<'_>, index: u32) -> Result<QueueBinding> {
    isolate::data(ctx)?
        .worker
        .script()
        .queues
        .get(index as usize)
        .cloned()
        .ok_or_else(|| Exception::throw_internal(ctx, "unknown queue"))
}

/// Enqueues `messages` (JSON: `[[serialized body, content type, delay seconds or null], ...]`);
/// resolves once they are durable.
fn op_queue_send<'js>(
    ctx: Ctx<'js>,
    index: u32,
    messages: String,
) -> Result<Promised<impl std::future::Future<Output = Result<()>> + 'js>> {
    let messages: Vec<(String, String, Option<f64>)> = serde_json::from_str(&messages)
        .map_err(|_| Exception::throw_internal(&ctx, "malformed queue messages"))?;
    if messages.len() > QUEUE_BATCH_MESSAGES_MAX {
        return Err(Exception::throw_range(
            &ctx,
            &format!("sendBatch() takes at most {QUEUE_BATCH_MESSAGES_MAX} messages"),
        ));
    }
    let binding = binding(&ctx, index)?;
    let now = crate::kv::now_ms();
    let mut stored = Vec::with_capacity(messages.len());
    for (body, content_type, delay) in messages {
        if body.len() > QUEUE_MESSAGE_BYTES_MAX {
            return Err(Exception::throw_range(
                &ctx,
                &format!("Queue send failed: message length of {} bytes exceeds limit of {QUEUE_MESSAGE_BYTES_MAX}", body.len()),
            ));
        }
        let delay_s = delay
            .filter(|d| d.is_finite() && *d >= 0.0)
            .map_or(binding.delivery_delay_s, |d| d as u32)
            .min(QUEUE_DELAY_S_MAX);
        let mut id = [0u8; 16];
        let _ = getrandom::fill(&mut id);
        stored.push((
            QueueMessage {
                id: crate::object::to_hex(&id),
                body,
                content_type,
                timestamp: now,
                attempts: 0,
            },
            now + i64::from(delay_s) * 1000,
        ));
    }
    let committed = store(&ctx)?.commit_anywhere(super::send_batch(&binding.queue, &stored));
    Ok(Promised(async move {
        committed.await.map_err(|err| storage_error(&ctx, err))
    }))
}
