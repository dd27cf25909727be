//! Which syntax a worker's entry is written in: ES modules (`export default { fetch }`) or the
//! older service-worker syntax (`addEventListener("fetch", (event) => event.respondWith(...))`),
//! which Cloudflare still runs and much published Workers code uses.
//!
//! wrangler tells them apart by whether the entry has `import` or `export` statements; Kiln
//! does the same with a line scan (no parse): an entry with no line that starts with `import`
//! or `export` (outside block comments) and that calls `addEventListener` is a service worker.
//! Anything else stays a module, so a module worker is never run as a script.

/// How a worker's main module is evaluated and how events reach it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptFormat {
    /// An ES module; events go to its exports.
    Modules,
    /// A classic script, run in sloppy mode at global scope; events go to the listeners it
    /// added with `addEventListener`, and its bindings are globals.
    ServiceWorker,
}

impl ScriptFormat {
    pub fn detect(source: &[u8]) -> ScriptFormat {
        let text = String::from_utf8_lossy(source);
        let mut in_comment = false;
        for line in text.lines() {
            let mut rest = line.trim_start();
            if in_comment {
                match rest.find("*/") {
                    Some(end) => {
                        rest = rest[end + 2..].trim_start();
                        in_comment = false;
                    }
                    None => continue,
                }
            }
            if starts_statement(rest, "import") || starts_statement(rest, "export") {
                return ScriptFormat::Modules;
            }
            if let Some(start) = rest.rfind("/*") {
                in_comment = !rest[start..].contains("*/");
            }
        }
        if text.contains("addEventListener") {
            ScriptFormat::ServiceWorker
        } else {
            ScriptFormat::Modules
        }
    }
}

/// Whether `line` starts with the keyword followed by something a statement could continue
/// with (not `imports.x` or `exported = 1`).
fn starts_statement(line: &str, keyword: &str) -> bool {
    match line.strip_prefix(keyword) {
        Some(rest) => rest
            .chars()
            .next()
            .is_none_or(|c| c.is_whitespace() || matches!(c, '{' | '*' | '"' | '\'' | '(')),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::ScriptFormat::{self, Modules, ServiceWorker};

    fn detect(source: &str) -> ScriptFormat {
        ScriptFormat::detect(source.as_bytes())
    }

    #[test]
    fn modules_are_told_from_service_workers() {
        assert_eq!(detect("export default { fetch() {} }"), Modules);
        assert_eq!(
            detect("import { x } from './x.js';\naddEventListener('fetch', f)"),
            Modules
        );
        assert_eq!(detect("const a = 1;\nexport { a as default };"), Modules);
        assert_eq!(
            detect("addEventListener('fetch', (e) => e.respondWith(new Response('hi')))"),
            ServiceWorker
        );
        assert_eq!(
            detect("/*\nexport default x\n*/\nself.addEventListener('fetch', h)"),
            ServiceWorker
        );
        assert_eq!(
            detect("const exported = 1;\naddEventListener('fetch', h)"),
            ServiceWorker
        );
        assert_eq!(detect("const nothing = 1;"), Modules);
    }
}
