//! The `queue` event: a batch of a queue's messages delivered to `queue(batch, env, ctx)`.

use std::rc::Rc;

use crate::error::Error;
use crate::isolate::Isolate;

/// Runs the worker's `queue` handler on `messages` (a JSON array of stored messages) and waits
/// for it and its `waitUntil()` work; returns each message's outcome as JSON.
pub async fn run(isolate: Rc<Isolate>, queue: String, messages: String) -> Result<String, Error> {
    super::dispatch::<String, _>(
        isolate,
        "dispatchQueue",
        move |_, dispatch, exports, env| dispatch.call((exports, env, queue, messages)),
    )
    .await
}
