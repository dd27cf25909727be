//! The `scheduled` event: a cron trigger firing, delivered to `scheduled(controller, env, ctx)`.

use std::rc::Rc;

use crate::error::Error;
use crate::isolate::Isolate;

/// Runs the worker's `scheduled` handler for `cron` at `scheduled_time_ms` (epoch milliseconds)
/// and waits for it and its `waitUntil()` work.
pub async fn run(isolate: Rc<Isolate>, cron: String, scheduled_time_ms: f64) -> Result<(), Error> {
    super::dispatch::<bool, _>(
        isolate,
        "dispatchScheduled",
        move |_, dispatch, exports, env| dispatch.call((exports, env, scheduled_time_ms, cron)),
    )
    .await
    .map(|_| ())
}
