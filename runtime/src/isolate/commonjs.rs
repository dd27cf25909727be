//! CommonJS modules (wrangler's `CommonJS` rule, `*.cjs`, an upload's `application/javascript`
//! parts, a Dynamic Worker's `{cjs}`): the operations `require()` needs from Rust. The module
//! system itself (the cache, `module.exports`, Node's built-ins) is the prelude's
//! (`web/modules/27_commonjs.js`).
//!
//! Guarantees: `require()` reaches only the worker's own modules, resolved as imports are;
//! a module is compiled with its own file name, so its errors name `file:line:col`.

use rquickjs::prelude::Func;
use rquickjs::{ArrayBuffer, Ctx, Exception, Function, Object, Result};

use crate::isolate;
use crate::worker::ModuleKind;

pub fn register(_ctx: &Ctx<'_>, ops: &Object<'_>) -> Result<()> {
    ops.set("op_cjs_resolve", Func::from(op_cjs_resolve))?;
    ops.set("op_cjs_compile", Func::from(op_cjs_compile))?;
    ops.set("op_module_text", Func::from(op_module_text))?;
    ops.set("op_module_bytes", Func::from(op_module_bytes))?;
    Ok(())
}

fn kind_name(kind: ModuleKind) -> &'static str {
    match kind {
        ModuleKind::CommonJs => "cjs",
        ModuleKind::EsModule => "esm",
        ModuleKind::Text => "text",
        ModuleKind::Data => "data",
        ModuleKind::Json => "json",
        ModuleKind::Wasm => "wasm",
    }
}

/// `[name, kind]` of the module `spec` names from `base`; throws Node's "Cannot find module".
fn op_cjs_resolve(ctx: Ctx<'_>, base: String, spec: String) -> Result<Vec<String>> {
    let data = isolate::data(&ctx)?;
    let found = super::loader::resolve_module(&data.worker, &base, &spec)
        .and_then(|name| data.worker.module(&name).map(|m| (name, m.kind)));
    match found {
        Some((name, kind)) => Ok(vec![name, kind_name(kind).to_owned()]),
        None => Err(crate::web::throw_error(
            &ctx,
            &format!("Cannot find module '{spec}' (from {base})"),
        )),
    }
}

/// The CommonJS module `name` as a function of `(exports, require, module, __filename,
/// __dirname)`, compiled under its own name (the wrapper shares its first line, so line
/// numbers are the file's).
fn op_cjs_compile<'js>(ctx: Ctx<'js>, name: String) -> Result<Function<'js>> {
    let source = {
        let data = isolate::data(&ctx)?;
        match data.worker.module(&name) {
            Some(module) if module.kind == ModuleKind::CommonJs => {
                String::from_utf8_lossy(&module.content).into_owned()
            }
            _ => {
                return Err(Exception::throw_type(
                    &ctx,
                    &format!("{name} is not a CommonJS module"),
                ))
            }
        }
    };
    let wrapped =
        format!("(function (exports, require, module, __filename, __dirname) {{{source}\n}})");
    let mut options = rquickjs::context::EvalOptions::default();
    options.global = true;
    options.strict = false;
    options.filename = Some(name);
    ctx.eval_with_options(wrapped, options)
}

fn op_module_text(ctx: Ctx<'_>, name: String) -> Result<String> {
    let data = isolate::data(&ctx)?;
    match data.worker.module(&name) {
        Some(module) => Ok(String::from_utf8_lossy(&module.content).into_owned()),
        None => Err(Exception::throw_type(&ctx, &format!("no module {name:?}"))),
    }
}

/// The bytes of a module (a `Data` module's `ArrayBuffer`), fresh each time.
pub fn op_module_bytes<'js>(ctx: Ctx<'js>, name: String) -> Result<ArrayBuffer<'js>> {
    let bytes = {
        let data = isolate::data(&ctx)?;
        match data.worker.module(&name) {
            Some(module) => module.content.clone(),
            None => return Err(Exception::throw_type(&ctx, &format!("no module {name:?}"))),
        }
    };
    ArrayBuffer::new_copy(ctx, &bytes[..])
}
