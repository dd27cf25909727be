//! Events delivered to a worker's handlers: `fetch`, `scheduled`, and Durable Object calls and
//! alarms.

pub mod entrypoint;
pub mod fetch;
pub mod object;
pub mod scheduled;
pub mod tail;
pub mod target;

use rquickjs::{Ctx, Object, Promise};

use crate::error::Error;
use crate::isolate;
use crate::web;

/// The worker's exports and `env`, for calling a prelude dispatch function.
///
/// Starts a task: runs pending microtasks first (see [`web::run_microtasks`]).
pub fn exports_and_env<'js>(ctx: &Ctx<'js>) -> Result<(Object<'js>, Object<'js>), Error> {
    web::run_microtasks(ctx);
    let failed = |err: rquickjs::Error| Error::Exception(web::describe_error(ctx, err));
    let data = isolate::data(ctx).map_err(failed)?;
    let exports = match data.exports.borrow().clone() {
        Some(exports) => exports.restore(ctx).map_err(failed)?,
        None => {
            return Err(Error::Startup(
                "the worker's main module has not evaluated".into(),
            ))
        }
    };
    let env = data.env.clone().restore(ctx).map_err(failed)?;
    Ok((exports, env))
}

/// Awaits a dispatch promise; a rejection is logged as the worker's uncaught error.
pub async fn settle<'js, R: rquickjs::FromJs<'js> + 'js>(
    ctx: &Ctx<'js>,
    promise: Promise<'js>,
    worker: &str,
) -> Result<R, Error> {
    match promise.into_future::<R>().await {
        Ok(value) => Ok(value),
        Err(err) => {
            let text = web::describe_error(ctx, err);
            tracing::error!(target: "kiln::worker", worker, "Uncaught {text}");
            Err(Error::Exception(text))
        }
    }
}
