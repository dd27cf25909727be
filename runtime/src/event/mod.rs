//! Events delivered to a worker's handlers: `fetch`, `scheduled`, and Durable Object calls and
//! alarms.

pub mod email;
pub mod entrypoint;
pub mod fetch;
pub mod object;
pub mod queue;
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

/// Runs the prelude's dispatch function `function` as one event of the isolate (charged to its
/// CPU like a request): `call` invokes it with the worker's exports and `env` and what else the
/// event carries, and the promise it returns is awaited (a rejection is the worker's uncaught
/// error).
pub async fn dispatch<R, C>(
    isolate: std::rc::Rc<isolate::Isolate>,
    function: &'static str,
    call: C,
) -> Result<R, Error>
where
    R: for<'js> rquickjs::FromJs<'js> + 'static,
    C: for<'js> FnOnce(
            &Ctx<'js>,
            rquickjs::Function<'js>,
            Object<'js>,
            Object<'js>,
        ) -> rquickjs::Result<Promise<'js>>
        + 'static,
{
    let charge = isolate.shared.cpu.begin_request();
    let context = isolate.context.clone();
    let worker = isolate.worker.name().to_owned();
    let result = isolate
        .run(async move {
            rquickjs::async_with!(context => |ctx| {
                let failed = |err: rquickjs::Error| Error::Exception(web::describe_error(&ctx, err));
                isolate::async_context::reset(&ctx);
                let (exports, env) = exports_and_env(&ctx)?;
                let dispatch = web::internal(&ctx, function).map_err(failed)?;
                let promise = call(&ctx, dispatch, exports, env).map_err(failed)?;
                settle::<R>(&ctx, promise, &worker).await
            })
            .await
        })
        .await;
    drop(charge);
    result
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
