//! Import attributes (`import data from "./x.json" with { type: "json" }`, and the older
//! `assert { ... }`), which bundlers accept and QuickJS-ng's parser does not: they are removed
//! from static imports before the module is compiled. A module's kind comes from wrangler's
//! rules (a `.json` file is a JSON module) either way, so nothing is lost.
//!
//! Guarantees: only text of the shape `from "spec" with { key: "value", ... }` (or `import
//! "spec" with {...}`, or `assert`) changes; anything else, inside strings and comments
//! included, stays as it was unless it has exactly that shape.

/// Longest attribute list removed; anything longer is left for the parser to judge.
const ATTRIBUTES_BYTES_MAX: usize = 256;

/// The source with import attributes removed, or `None` when there were none.
pub fn strip(source: &[u8]) -> Option<Vec<u8>> {
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    for keyword in [&b"with"[..], &b"assert"[..]] {
        let mut from = 0;
        while let Some(at) = find(&source[from..], keyword).map(|i| i + from) {
            from = at + keyword.len();
            if let Some(end) = attribute_end(source, at, keyword.len()) {
                cuts.push((at, end));
            }
        }
    }
    if cuts.is_empty() {
        return None;
    }
    cuts.sort_unstable();
    let mut out = Vec::with_capacity(source.len());
    let mut last = 0;
    for (start, end) in cuts {
        if start < last {
            continue;
        }
        out.extend_from_slice(&source[last..start]);
        last = end;
    }
    out.extend_from_slice(&source[last..]);
    Some(out)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

/// If the keyword at `at` follows an import's specifier and is followed by `{ ... }`, the end
/// of the attribute list.
fn attribute_end(source: &[u8], at: usize, len: usize) -> Option<usize> {
    // Before: a closing quote, and before the string, `from` or `import`.
    let mut i = at;
    while i > 0 && is_space(source[i - 1]) {
        i -= 1;
    }
    if i == at || i == 0 {
        return None;
    }
    let quote = source[i - 1];
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let open = source[..i - 1].iter().rposition(|&b| b == quote)?;
    if source[open + 1..i - 1]
        .iter()
        .any(|&b| b == b'\n' || b == b'\\')
    {
        return None;
    }
    let mut j = open;
    while j > 0 && is_space(source[j - 1]) {
        j -= 1;
    }
    let before = &source[..j];
    if !(before.ends_with(b"from") || before.ends_with(b"import")) {
        return None;
    }
    // After: `{`, attributes of letters, quotes, colons and commas, `}`.
    let mut k = at + len;
    if k < source.len() && !is_space(source[k]) && source[k] != b'{' {
        return None;
    }
    while k < source.len() && is_space(source[k]) {
        k += 1;
    }
    if source.get(k) != Some(&b'{') {
        return None;
    }
    let close = k + source[k..]
        .iter()
        .take(ATTRIBUTES_BYTES_MAX)
        .position(|&b| b == b'}')?;
    let inside = &source[k + 1..close];
    let allowed = |b: &u8| b.is_ascii_alphanumeric() || is_space(*b) || b"\"':,_-".contains(b);
    inside.iter().all(allowed).then_some(close + 1)
}

#[cfg(test)]
mod tests {
    use super::strip;

    fn stripped(source: &str) -> String {
        String::from_utf8(strip(source.as_bytes()).unwrap_or_else(|| source.as_bytes().to_vec()))
            .unwrap_or_default()
    }

    #[test]
    fn attributes_of_static_imports_go_and_nothing_else_changes() {
        assert_eq!(
            stripped(r#"import cfg from "./c.json" with { type: "json" };"#),
            r#"import cfg from "./c.json" ;"#
        );
        assert_eq!(
            stripped("import data from './d.json' assert {type:'json'}\nexport default data;"),
            "import data from './d.json' \nexport default data;"
        );
        assert_eq!(
            stripped(r#"import "./side.json" with { type: "json" };"#),
            r#"import "./side.json" ;"#
        );
        for unchanged in [
            r#"const s = "with { type: 'json' }";"#,
            r#"with (obj) { x; }"#,
            r#"const a = b.with({ c: 1 });"#,
            r#"console.log("from") with { a }"#,
        ] {
            assert_eq!(stripped(unchanged), unchanged, "{unchanged}");
        }
    }
}
