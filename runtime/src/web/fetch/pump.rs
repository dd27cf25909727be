//! A body that JavaScript produces chunk by chunk (a `ReadableStream` a worker returns as a
//! response body, or sends as a `fetch()` request body): a task on the isolate's thread calls
//! the prelude's pump (`bodyForRust` in `09_body.js`: `next()` gives the next chunk or
//! `undefined` at the end, `cancel(reason)` stops it) and feeds a bounded channel the HTTP side
//! reads, so the body streams with backpressure instead of being read whole.
//!
//! Guarantees: at most [`BODY_CHANNEL_CHUNKS_MAX`] chunks wait in between; a reader that goes
//! away cancels the JavaScript stream; a stream that fails ends the body with an error (and is
//! logged with the worker's name), never with a truncated body that looks complete.

use bytes::Bytes;
use rquickjs::{Ctx, Function, Object, Promise, Result, TypedArray};
use tokio::sync::oneshot;

use crate::body::{Body, ChannelBody};
use crate::limits::BODY_CHANNEL_CHUNKS_MAX;
use crate::web;

/// The body `pump` produces; `done` (if any) is told when the pump has stopped. `what` names
/// the body in the log line of a failure ("response body", "request body").
pub fn body_from_pump<'js>(
    ctx: &Ctx<'js>,
    pump: &Object<'js>,
    worker: String,
    what: &'static str,
    done: Option<oneshot::Sender<()>>,
) -> Result<Body> {
    let next: Function = pump.get("next")?;
    let cancel: Function = pump.get("cancel")?;
    let length: Option<f64> = pump.get("length")?;
    let length = length
        .filter(|n| n.is_finite() && *n >= 0.0)
        .map(|n| n as u64);
    let (sender, body) = ChannelBody::channel_of_length(BODY_CHANNEL_CHUNKS_MAX, length);
    let task_ctx = ctx.clone();
    ctx.spawn(async move {
        loop {
            let chunk = match next.call::<_, Promise>(()) {
                Ok(promise) => promise.into_future::<Option<TypedArray<u8>>>().await,
                Err(err) => Err(err),
            };
            match chunk {
                Ok(Some(array)) => {
                    let bytes = Bytes::copy_from_slice(array.as_bytes().unwrap_or(&[]));
                    if sender.send(Ok(bytes)).await.is_err() {
                        let _ = cancel.call::<_, ()>(("the reader went away",));
                        break;
                    }
                }
                Ok(None) => break,
                Err(err) => {
                    let text = web::describe_error(&task_ctx, err);
                    tracing::error!(target: "kiln::worker", worker, "Uncaught (in {what}) {text}");
                    let _ = sender.send(Err(text.into())).await;
                    break;
                }
            }
        }
        if let Some(done) = done {
            let _ = done.send(());
        }
    });
    Ok(body)
}
