//! JS RPC calls to a worker's entrypoints (service bindings): `env.SVC.method(args)` runs
//! `method` on a new instance of the entrypoint's `WorkerEntrypoint` class, with `ctx.props`.

use std::rc::Rc;

use rquickjs::{async_with, Promise};

use crate::error::Error;
use crate::isolate::Isolate;
use crate::web;

/// Runs the call; the result is the prelude's serialization of `[ok, value or error]`.
pub async fn call(
    isolate: Rc<Isolate>,
    entrypoint: Option<String>,
    props: Option<String>,
    method: String,
    args: String,
) -> Result<String, Error> {
    let charge = isolate.shared.cpu.begin_request();
    let context = isolate.context.clone();
    let worker = isolate.worker.name().to_owned();
    let result = isolate
        .run(async move {
            async_with!(context => |ctx| {
                let failed = |err: rquickjs::Error| Error::Exception(web::describe_error(&ctx, err));
                let (exports, env) = super::exports_and_env(&ctx)?;
                let call = web::internal(&ctx, "dispatchEntrypointCall").map_err(failed)?;
                let promise: Promise = call
                    .call((exports, env, entrypoint, props, method, args))
                    .map_err(failed)?;
                super::settle::<String>(&ctx, promise, &worker).await
            })
            .await
        })
        .await;
    drop(charge);
    result
}
