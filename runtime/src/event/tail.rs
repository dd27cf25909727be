//! The `tail` event: a Tail Worker's `tail(events, env, ctx)` handler receives the traces of
//! another worker's invocations (see `trace`).

use std::rc::Rc;

use crate::error::Error;
use crate::isolate::Isolate;

/// Runs the worker's `tail` handler with `events` (a JSON array of trace items) and waits for
/// it and its `waitUntil()` work.
pub async fn run(isolate: Rc<Isolate>, events: String) -> Result<(), Error> {
    super::dispatch(isolate, "dispatchTail", move |_, dispatch, exports, env| {
        dispatch.call((exports, env, events))
    })
    .await
}
