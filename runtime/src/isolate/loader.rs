//! Module resolution and loading for one worker: its own modules by path, wrangler's module
//! rules (text, data, JSON), and the built-in `cloudflare:workers` and `kiln:internal` modules.
//!
//! ES modules are compiled to QuickJS bytecode once per process (see [`crate::bytecode`]); every
//! later isolate of the same source loads the bytecode instead of parsing again.

use std::sync::Arc;

use rquickjs::loader::{Loader, Resolver};
use rquickjs::module::Declared;
use rquickjs::{Ctx, Error, Exception, Module, Result};

use crate::bytecode;
use crate::web;
use crate::worker::{ModuleKind, Worker};

pub const CLOUDFLARE_WORKERS: &str = "cloudflare:workers";
pub const KILN_INTERNAL: &str = "kiln:internal";

pub struct WorkerResolver {
    pub worker: Arc<Worker>,
}

impl Resolver for WorkerResolver {
    fn resolve<'js>(&mut self, _ctx: &Ctx<'js>, base: &str, name: &str) -> Result<String> {
        if name == CLOUDFLARE_WORKERS || name == KILN_INTERNAL {
            return Ok(name.to_owned());
        }
        let candidate = if name.starts_with("./") || name.starts_with("../") {
            join(base, name)
        } else {
            name.trim_start_matches('/').to_owned()
        };
        if self.worker.module(&candidate).is_some() {
            return Ok(candidate);
        }
        Err(Error::new_resolving_message(
            base,
            name,
            format!("No such module \"{candidate}\"."),
        ))
    }
}

/// Joins a relative specifier to the directory of the importing module's name.
fn join(base: &str, relative: &str) -> String {
    let mut parts: Vec<&str> = base.split('/').collect();
    parts.pop();
    for segment in relative.split('/') {
        match segment {
            "." | "" => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

pub struct WorkerLoader {
    pub worker: Arc<Worker>,
}

impl Loader for WorkerLoader {
    fn load<'js>(&mut self, ctx: &Ctx<'js>, name: &str) -> Result<Module<'js, Declared>> {
        match name {
            CLOUDFLARE_WORKERS => {
                return load_es_module(ctx, name, web::CLOUDFLARE_WORKERS_JS.as_bytes())
            }
            KILN_INTERNAL => {
                return Module::declare_def::<web::InternalModule, _>(ctx.clone(), name)
            }
            _ => {}
        }
        let Some(module) = self.worker.module(name) else {
            return Err(Error::new_loading_message(name, "module not found"));
        };
        match module.kind {
            ModuleKind::EsModule => load_es_module(ctx, name, &module.content),
            ModuleKind::Text => {
                let text = String::from_utf8_lossy(&module.content);
                let source = format!("export default {};", json_string(&text));
                Module::declare(ctx.clone(), name, source)
            }
            ModuleKind::Json => {
                let text = String::from_utf8_lossy(&module.content);
                if let Err(err) = serde_json::from_str::<serde_json::Value>(&text) {
                    return Err(Exception::throw_syntax(ctx, &format!("{name}: {err}")));
                }
                let source = format!("export default JSON.parse({});", json_string(&text));
                Module::declare(ctx.clone(), name, source)
            }
            ModuleKind::Data => {
                let source = format!(
                    "import {{ moduleData }} from \"{KILN_INTERNAL}\";\nexport default moduleData({});",
                    json_string(name)
                );
                Module::declare(ctx.clone(), name, source)
            }
            ModuleKind::Wasm => Err(Exception::throw_type(
                ctx,
                &format!(
                    "cannot import WebAssembly module \"{name}\": Kiln runs JavaScript on QuickJS, which has no WebAssembly"
                ),
            )),
        }
    }
}

fn json_string(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

/// Declares an ES module from source, through the process-wide bytecode cache.
pub fn load_es_module<'js>(
    ctx: &Ctx<'js>,
    name: &str,
    source: &[u8],
) -> Result<Module<'js, Declared>> {
    let key = bytecode::key(name, source);
    if let Some(code) = bytecode::get(&key) {
        // SAFETY: the bytes were written by `Module::write` of this same QuickJS build in this
        // process, and are immutable since.
        return unsafe { Module::load(ctx.clone(), &code) };
    }
    let module = Module::declare(ctx.clone(), name, source.to_vec())?;
    if let Ok(code) = module.write(rquickjs::module::WriteOptions::default()) {
        bytecode::put(key, code);
    }
    Ok(module)
}

#[cfg(test)]
mod tests {
    use super::join;

    #[test]
    fn joins_relative_specifiers() {
        assert_eq!(join("src/index.js", "./lib/a.js"), "src/lib/a.js");
        assert_eq!(join("src/index.js", "../data.txt"), "data.txt");
        assert_eq!(join("index.js", "./a.js"), "a.js");
        assert_eq!(join("a/b/c.js", "../../d.js"), "d.js");
    }
}
