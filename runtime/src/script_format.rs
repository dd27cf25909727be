//! Which syntax a worker's entry is written in: ES modules (`export default { fetch }`) or the
//! older service-worker syntax (`addEventListener("fetch", (event) => event.respondWith(...))`),
//! which Cloudflare still runs and much published Workers code uses.
//!
//! wrangler tells them apart by whether the entry exports anything; Kiln does the same with a
//! light scan of the source's tokens (strings, template literals, comments and regular
//! expression literals are skipped, so text inside them counts for nothing): an entry with an
//! `import` or `export` statement, or `import.meta`, is a module; otherwise one that calls
//! `addEventListener` is a service worker; anything else stays a module, so a module worker is
//! never run as a script.

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
        let scan = Scan::of(&text);
        if scan.module_syntax {
            ScriptFormat::Modules
        } else if scan.adds_listeners {
            ScriptFormat::ServiceWorker
        } else {
            ScriptFormat::Modules
        }
    }
}

/// What the token scan found.
#[derive(Debug, Default)]
struct Scan {
    /// An `import` or `export` statement, or `import.meta`.
    module_syntax: bool,
    /// `addEventListener` in code (not in a string or a comment).
    adds_listeners: bool,
}

/// Keywords after which a `/` starts a regular expression, not a division.
const REGEX_AFTER_WORDS: &[&str] = &[
    "return",
    "typeof",
    "case",
    "do",
    "else",
    "in",
    "of",
    "new",
    "delete",
    "void",
    "throw",
    "yield",
    "await",
    "instanceof",
];

impl Scan {
    fn of(text: &str) -> Scan {
        let bytes = text.as_bytes();
        let mut scan = Scan::default();
        // Open `{`s: false for a block or object, true for a template literal's `${`.
        let mut braces: Vec<bool> = Vec::new();
        // The last significant character, the last word, and whether a line ended since.
        let mut last: Option<u8> = None;
        let mut last_word: &str = "";
        let mut newline = false;
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i];
            match c {
                b'\n' => {
                    newline = true;
                    i += 1;
                }
                _ if c.is_ascii_whitespace() => i += 1,
                b'/' if bytes.get(i + 1) == Some(&b'/') => {
                    i = find(bytes, i + 2, b"\n").unwrap_or(bytes.len());
                }
                b'/' if bytes.get(i + 1) == Some(&b'*') => {
                    i = find(bytes, i + 2, b"*/").map_or(bytes.len(), |end| end + 2);
                }
                b'\'' | b'"' => {
                    i = skip_string(bytes, i + 1, c);
                    (last, last_word, newline) = (Some(c), "", false);
                }
                b'`' => {
                    i = skip_template(bytes, i + 1, &mut braces);
                    (last, last_word, newline) = (Some(c), "", false);
                }
                b'}' if braces.last() == Some(&true) => {
                    braces.pop();
                    i = skip_template(bytes, i + 1, &mut braces);
                    (last, last_word, newline) = (Some(b'`'), "", false);
                }
                b'/' if regex_may_start(last, last_word) => {
                    i = skip_regex(bytes, i + 1);
                    (last, last_word, newline) = (Some(b'/'), "", false);
                }
                _ if c == b'_' || c == b'$' || c.is_ascii_alphanumeric() || c >= 0x80 => {
                    let start = i;
                    while i < bytes.len()
                        && (bytes[i] == b'_'
                            || bytes[i] == b'$'
                            || bytes[i].is_ascii_alphanumeric()
                            || bytes[i] >= 0x80)
                    {
                        i += 1;
                    }
                    let word = &text[start..i];
                    let member = last == Some(b'.');
                    let statement_start =
                        !member && (newline || matches!(last, None | Some(b';' | b'{' | b'}')));
                    let next = next_significant(bytes, i);
                    match word {
                        "export" if statement_start && export_follows(bytes, next) => {
                            scan.module_syntax = true;
                        }
                        "import" if !member && next.map(|j| bytes[j]) == Some(b'.') => {
                            scan.module_syntax = true; // import.meta
                        }
                        "import" if statement_start && import_follows(bytes, next) => {
                            scan.module_syntax = true;
                        }
                        "addEventListener" => scan.adds_listeners = true,
                        _ => {}
                    }
                    if scan.module_syntax {
                        return scan;
                    }
                    (last, last_word, newline) = (Some(b'a'), word, false);
                }
                b'{' => {
                    braces.push(false);
                    (last, last_word, newline) = (Some(c), "", false);
                    i += 1;
                }
                b'}' => {
                    braces.pop();
                    (last, last_word, newline) = (Some(c), "", false);
                    i += 1;
                }
                _ => {
                    (last, last_word, newline) = (Some(c), "", false);
                    i += 1;
                }
            }
        }
        scan
    }
}

/// Where `needle` starts at or after `from`.
fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|at| from + at)
}

/// Past the end of a string literal whose opening `quote` came before `i`.
fn skip_string(bytes: &[u8], mut i: usize, quote: u8) -> usize {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'\n' => return i + 1, // unterminated: stop at the line's end
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Past the end of a template literal's text (from after its backtick or a `}` that closed a
/// substitution): at its closing backtick, or just inside the next `${` (pushed on `braces`).
fn skip_template(bytes: &[u8], mut i: usize, braces: &mut Vec<bool>) -> usize {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'`' => return i + 1,
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                braces.push(true);
                return i + 2;
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Past the end of a regular expression literal (its flags follow as a word).
fn skip_regex(bytes: &[u8], mut i: usize) -> usize {
    let mut class = false;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'\n' => return i, // not a regex after all: resume at the line's end
            b'[' => {
                class = true;
                i += 1;
            }
            b']' => {
                class = false;
                i += 1;
            }
            b'/' if !class => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Whether a `/` after `last` (and the word `last_word`, when it was one) starts a regular
/// expression.
fn regex_may_start(last: Option<u8>, last_word: &str) -> bool {
    match last {
        None => true,
        Some(b'a') => REGEX_AFTER_WORDS.contains(&last_word),
        Some(b')' | b']' | b'\'' | b'"' | b'`' | b'/') => false,
        Some(_) => true,
    }
}

/// The index of the next character that is not whitespace, from `i`.
fn next_significant(bytes: &[u8], mut i: usize) -> Option<usize> {
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    (i < bytes.len()).then_some(i)
}

/// Whether what follows `export` makes it an export statement.
fn export_follows(bytes: &[u8], next: Option<usize>) -> bool {
    let Some(at) = next else {
        return false;
    };
    if matches!(bytes[at], b'{' | b'*') {
        return true;
    }
    let rest = &bytes[at..];
    [
        "default", "const", "let", "var", "function", "class", "async",
    ]
    .iter()
    .any(|word| {
        rest.starts_with(word.as_bytes())
            && rest
                .get(word.len())
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || *c == b'_' || *c == b'$'))
    })
}

/// Whether what follows `import` makes it an import statement (not `import(...)`).
fn import_follows(bytes: &[u8], next: Option<usize>) -> bool {
    next.is_some_and(|at| {
        let c = bytes[at];
        matches!(c, b'{' | b'*' | b'"' | b'\'') || c == b'_' || c == b'$' || c.is_ascii_alphabetic()
    })
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

    #[test]
    fn strings_templates_comments_and_regexes_hide_nothing() {
        // Hono's bundle: a route string holds "/*", and its code mentions addEventListener.
        let hono = "var app = new Hono();\napp.use(\"/api/*\", cors());\n\
                    function fire(app) { addEventListener(\"fetch\", (e) => e.respondWith(app.fetch(e.request))); }\n\
                    var src_default = app;\nexport {\n  src_default as default\n};\n";
        assert_eq!(detect(hono), Modules);
        // A minified bundle: one line, the export after a semicolon.
        assert_eq!(
            detect("var a=1;self.addEventListener(\"x\",f);export{a as default};"),
            Modules
        );
        assert_eq!(
            detect("const s = `export default ${ `x` } /*`;\naddEventListener('fetch', h)"),
            ServiceWorker
        );
        assert_eq!(
            detect("const r = /export default [/]/;\naddEventListener('fetch', h) // export {"),
            ServiceWorker
        );
        assert_eq!(detect("let x = a / b; export default x"), Modules);
        assert_eq!(detect("const u = import.meta.url;"), Modules);
        assert_eq!(
            detect("import('./lazy.js');\naddEventListener('fetch', h)"),
            ServiceWorker,
            "a dynamic import is allowed in a script"
        );
        assert_eq!(
            detect("const o = { export: 1 };\no.export = 2;\naddEventListener('fetch', h)"),
            ServiceWorker
        );
    }
}
