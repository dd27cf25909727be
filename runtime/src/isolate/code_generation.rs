//! Code generation from strings: `eval()`, `new Function(source)` and the generator and async
//! function constructors throw `EvalError: Code generation from strings disallowed for this
//! context` in every isolate once its globals are installed, as in workerd (at startup and in
//! requests alike). Kiln's own module loading compiles through the engine directly and is not
//! affected. The switch is Kiln's addition to QuickJS-ng (`vendor/rquickjs-sys`).

use rquickjs::Ctx;

extern "C" {
    fn JS_SetCodeGenerationAllowed(ctx: *mut rquickjs::qjs::JSContext, allowed: bool);
}

/// Forbids code generation from strings in `ctx` from now on.
pub fn forbid(ctx: &Ctx<'_>) {
    // SAFETY: the context is alive (the caller holds it); the call only sets a flag on it.
    unsafe { JS_SetCodeGenerationAllowed(ctx.as_raw().as_ptr(), false) }
}
