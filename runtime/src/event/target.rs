//! Calls on RPC targets: an `RpcTarget` or function an isolate passed by RPC is called through
//! its stub, back in the isolate that exported it (see `service::targets`).

use std::rc::Rc;

use rquickjs::{async_with, Promise};

use crate::error::Error;
use crate::isolate::Isolate;
use crate::web;

/// Runs `method` (empty: the target itself is a function to call) on export `export`; the
/// result is the prelude's serialization of `[ok, value or error]`.
pub async fn call(
    isolate: Rc<Isolate>,
    export: u64,
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
                // Starts the task like every other event (runs pending microtasks first).
                super::exports_and_env(&ctx)?;
                let call = web::internal(&ctx, "dispatchTargetCall").map_err(failed)?;
                let promise: Promise = call
                    .call((export as f64, method, args))
                    .map_err(failed)?;
                super::settle::<String>(&ctx, promise, &worker).await
            })
            .await
        })
        .await;
    drop(charge);
    result
}
