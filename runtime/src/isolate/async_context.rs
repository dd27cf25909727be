//! The isolate's async context: the value promise reactions capture when they are registered
//! and run with (Kiln's addition to QuickJS-ng, in `vendor/rquickjs-sys`). AsyncLocalStorage
//! keeps its frame (which store each storage holds) there, so an `await` resumes with the
//! stores it was started with, whatever other requests of the isolate did meanwhile.

use rquickjs::prelude::Func;
use rquickjs::{Ctx, Object, Result, Value};

extern "C" {
    fn JS_GetAsyncContext(ctx: *mut rquickjs::qjs::JSContext) -> rquickjs::qjs::JSValue;
    fn JS_SetAsyncContext(ctx: *mut rquickjs::qjs::JSContext, value: rquickjs::qjs::JSValue);
}

pub fn register(_ctx: &Ctx<'_>, ops: &Object<'_>) -> Result<()> {
    ops.set("op_async_context_get", Func::from(op_async_context_get))?;
    ops.set("op_async_context_set", Func::from(op_async_context_set))?;
    Ok(())
}

/// The async context current now (`undefined` outside any).
fn op_async_context_get(ctx: Ctx<'_>) -> Value<'_> {
    // SAFETY: the context is alive (it called this op); JS_GetAsyncContext returns a new
    // reference, which `from_raw` takes over.
    unsafe { Value::from_raw(ctx.clone(), JS_GetAsyncContext(ctx.as_raw().as_ptr())) }
}

/// Makes `value` the async context from now on (the engine keeps its own reference).
fn op_async_context_set<'js>(ctx: Ctx<'js>, value: Value<'js>) {
    // SAFETY: the context is alive; JS_SetAsyncContext duplicates the value it is lent.
    unsafe { JS_SetAsyncContext(ctx.as_raw().as_ptr(), value.as_raw()) }
}

/// Leaves any async context: what JavaScript runs next from Rust (an event, a timer) starts
/// with no stores, whatever `enterWith()` left behind.
pub fn reset(ctx: &Ctx<'_>) {
    // SAFETY: the context is alive (the caller holds it); undefined needs no reference.
    unsafe { JS_SetAsyncContext(ctx.as_raw().as_ptr(), rquickjs::qjs::JS_UNDEFINED) }
}
