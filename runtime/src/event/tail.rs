//! The `tail` event: a Tail Worker's `tail(events, env, ctx)` handler receives the traces of
//! another worker's invocations (see `trace`).

use std::rc::Rc;

use rquickjs::{async_with, Promise};

use crate::error::Error;
use crate::isolate::Isolate;
use crate::web;

/// Runs the worker's `tail` handler with `events` (a JSON array of trace items) and waits for
/// it and its `waitUntil()` work.
pub async fn run(isolate: Rc<Isolate>, events: String) -> Result<(), Error> {
    let charge = isolate.shared.cpu.begin_request();
    let context = isolate.context.clone();
    let worker = isolate.worker.name().to_owned();
    let result = isolate
        .run(async move {
            async_with!(context => |ctx| {
                let failed = |err: rquickjs::Error| Error::Exception(web::describe_error(&ctx, err));
                let (exports, env) = super::exports_and_env(&ctx)?;
                let dispatch = web::internal(&ctx, "dispatchTail").map_err(failed)?;
                let promise: Promise = dispatch.call((exports, env, events)).map_err(failed)?;
                super::settle::<()>(&ctx, promise, &worker).await
            })
            .await
        })
        .await;
    drop(charge);
    result
}
