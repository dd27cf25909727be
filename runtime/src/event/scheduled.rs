//! The `scheduled` event: a cron trigger firing, delivered to `scheduled(controller, env, ctx)`.

use std::rc::Rc;

use rquickjs::{async_with, Promise};

use crate::error::Error;
use crate::isolate::Isolate;
use crate::web;

/// Runs the worker's `scheduled` handler for `cron` at `scheduled_time_ms` (epoch milliseconds)
/// and waits for it and its `waitUntil()` work.
pub async fn run(isolate: Rc<Isolate>, cron: String, scheduled_time_ms: f64) -> Result<(), Error> {
    let charge = isolate.shared.cpu.begin_request();
    let context = isolate.context.clone();
    let worker = isolate.worker.name().to_owned();
    let result = isolate
        .run(async move {
            async_with!(context => |ctx| {
                let failed = |err: rquickjs::Error| Error::Exception(web::describe_error(&ctx, err));
                let (exports, env) = super::exports_and_env(&ctx)?;
                let dispatch = web::internal(&ctx, "dispatchScheduled").map_err(failed)?;
                let promise: Promise = dispatch.call((exports, env, scheduled_time_ms, cron)).map_err(failed)?;
                super::settle::<bool>(&ctx, promise, &worker).await.map(|_| ())
            })
            .await
        })
        .await;
    drop(charge);
    result
}
