//! JS RPC calls to a worker's entrypoints (service bindings): `env.SVC.method(args)` runs
//! `method` on a new instance of the entrypoint's `WorkerEntrypoint` class, with `ctx.props`.

use std::rc::Rc;

use crate::error::Error;
use crate::isolate::Isolate;

/// Runs the call; the result is the prelude's serialization of `[ok, value or error]`.
pub async fn call(
    isolate: Rc<Isolate>,
    entrypoint: Option<String>,
    props: Option<String>,
    method: String,
    args: String,
) -> Result<String, Error> {
    super::dispatch(
        isolate,
        "dispatchEntrypointCall",
        move |_, dispatch, exports, env| {
            dispatch.call((exports, env, entrypoint, props, method, args))
        },
    )
    .await
}
