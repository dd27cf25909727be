//! The `scheduled` event: a cron trigger firing, delivered to `scheduled(controller, env, ctx)`.

use std::rc::Rc;

use rquickjs::{async_with, Promise};

use crate::error::Error;
use crate::isolate::{self, Isolate};
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
                let promise: Promise = {
                    let data = isolate::data(&ctx).map_err(failed)?;
                    let exports = match data.exports.borrow().clone() {
                        Some(exports) => exports.restore(&ctx).map_err(failed)?,
                        None => return Err(Error::Startup("the worker's main module has not evaluated".into())),
                    };
                    let env = data.env.clone().restore(&ctx).map_err(failed)?;
                    drop(data);
                    let dispatch = web::internal(&ctx, "dispatchScheduled").map_err(failed)?;
                    dispatch.call((exports, env, scheduled_time_ms, cron)).map_err(failed)?
                };
                match promise.into_future::<bool>().await {
                    Ok(_) => Ok(()),
                    Err(err) => {
                        let text = web::describe_error(&ctx, err);
                        tracing::error!(target: "kiln::worker", worker, "Uncaught {text}");
                        Err(Error::Exception(text))
                    }
                }
            })
            .await
        })
        .await;
    drop(charge);
    result
}
