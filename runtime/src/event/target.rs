//! Calls on RPC targets: an `RpcTarget` or function an isolate passed by RPC is called through
//! its stub, back in the isolate that exported it (see `service::targets`).

use std::rc::Rc;

use crate::error::Error;
use crate::isolate::Isolate;

/// Runs `method` (empty: the target itself is a function to call) on export `export`; the
/// result is the prelude's serialization of `[ok, value or error]`.
pub async fn call(
    isolate: Rc<Isolate>,
    export: u64,
    method: String,
    args: String,
) -> Result<String, Error> {
    // The exports and env are not passed: the call is on an object, not an entrypoint.
    super::dispatch(isolate, "dispatchTargetCall", move |_, dispatch, _, _| {
        dispatch.call((export as f64, method, args))
    })
    .await
}
