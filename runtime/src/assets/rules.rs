//! The rule files of a static assets directory, read once when the worker is loaded:
//! `_headers` (headers added to or removed from matching asset responses), `_redirects`
//! (redirects and 200 rewrites, applied before assets are looked up) and `.assetsignore`
//! (files never served, as wrangler never uploads them). The rule files themselves are never
//! served either.
//!
//! Patterns are Cloudflare's: a path with `*` (the splat, any run of characters) and `:name`
//! placeholders (one path segment); a redirect's destination may use `:splat` and the names.
//! Guarantees: at most [`RULES_MAX`] rules of each kind are kept (the rest are reported), and
//! matching is linear-time backtracking over short patterns.

use std::path::Path;

/// Rules of each file kept at most (Cloudflare: 100 header rules, 2,100 redirects).
pub const RULES_MAX: usize = 2100;
/// Files the rule files may not exceed.
const RULE_FILE_BYTES_MAX: u64 = 1024 * 1024;
/// Files never served, whatever `.assetsignore` says.
const ALWAYS_IGNORED: &[&str] = &[".assetsignore", "_headers", "_redirects"];

#[derive(Debug, Clone)]
struct HeaderRule {
    pattern: String,
    set: Vec<(String, String)>,
    remove: Vec<String>,
}

#[derive(Debug, Clone)]
struct RedirectRule {
    from: String,
    to: String,
    status: u16,
}

/// What a directory's rule files say.
#[derive(Debug, Clone, Default)]
pub struct AssetRules {
    headers: Vec<HeaderRule>,
    redirects: Vec<RedirectRule>,
    ignore: Option<globset::GlobSet>,
}

fn read(dir: &Path, name: &str) -> Option<String> {
    let path = dir.join(name);
    let metadata = std::fs::metadata(&path).ok()?;
    if !metadata.is_file() || metadata.len() > RULE_FILE_BYTES_MAX {
        return None;
    }
    std::fs::read_to_string(path).ok()
}

impl AssetRules {
    /// Reads the rule files of `dir`; returns the rules and what was wrong with them.
    pub fn load(dir: &Path) -> (AssetRules, Vec<String>) {
        let mut rules = AssetRules::default();
        let mut warnings = Vec::new();
        if let Some(text) = read(dir, "_headers") {
            let mut current: Option<HeaderRule> = None;
            for (n, line) in text.lines().enumerate() {
                let trimmed = line.trim();
                if trimmed.is_empty() || trimmed.starts_with('#') {
                    continue;
                }
                if !line.starts_with([' ', '\t']) {
                    if let Some(rule) = current.take() {
                        rules.headers.push(rule);
                    }
                    current = Some(HeaderRule {
                        pattern: path_of(trimmed),
                        set: Vec::new(),
                        remove: Vec::new(),
                    });
                    continue;
                }
                let Some(rule) = current.as_mut() else {
                    warnings.push(format!("_headers:{}: a header before any path", n + 1));
                    continue;
                };
                if let Some(name) = trimmed.strip_prefix('!') {
                    rule.remove.push(name.trim().to_ascii_lowercase());
                } else if let Some((name, value)) = trimmed.split_once(':') {
                    rule.set
                        .push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
                } else {
                    warnings.push(format!("_headers:{}: expected `Name: value`", n + 1));
                }
            }
            if let Some(rule) = current {
                rules.headers.push(rule);
            }
        }
        if let Some(text) = read(dir, "_redirects") {
            for (n, line) in text.lines().enumerate() {
                let trimmed = line.trim();
                if trimmed.is_empty() || trimmed.starts_with('#') {
                    continue;
                }
                let fields: Vec<&str> = trimmed.split_whitespace().collect();
                let status = match fields.get(2) {
                    None => Some(302),
                    Some(code) => code.parse::<u16>().ok(),
                };
                match (fields.as_slice(), status) {
                    ([from, to, ..], Some(status @ (200 | 301 | 302 | 303 | 307 | 308))) => {
                        rules.redirects.push(RedirectRule {
                            from: path_of(from),
                            to: (*to).to_owned(),
                            status,
                        })
                    }
                    _ => warnings.push(format!(
                        "_redirects:{}: expected `/from /to [301|302|303|307|308|200]`",
                        n + 1
                    )),
                }
            }
        }
        if let Some(text) = read(dir, ".assetsignore") {
            let mut builder = globset::GlobSetBuilder::new();
            for line in text.lines() {
                let pattern = line.trim();
                if pattern.is_empty() || pattern.starts_with('#') || pattern.starts_with('!') {
                    continue;
                }
                let body = pattern.trim_end_matches('/');
                let globs = if body.trim_start_matches('/').contains('/') || body.starts_with('/') {
                    let anchored = body.trim_start_matches('/');
                    vec![anchored.to_owned(), format!("{anchored}/**")]
                } else {
                    vec![format!("**/{body}"), format!("**/{body}/**")]
                };
                for glob in globs {
                    match globset::Glob::new(&glob) {
                        Ok(glob) => {
                            builder.add(glob);
                        }
                        Err(err) => warnings.push(format!(".assetsignore: {pattern:?}: {err}")),
                    }
                }
            }
            rules.ignore = builder.build().ok();
        }
        if rules.headers.len() > RULES_MAX || rules.redirects.len() > RULES_MAX {
            warnings.push(format!(
                "only the first {RULES_MAX} rules of each file are used"
            ));
            rules.headers.truncate(RULES_MAX);
            rules.redirects.truncate(RULES_MAX);
        }
        (rules, warnings)
    }

    /// Whether the file at `relative` (no leading `/`) must not be served.
    pub fn ignored(&self, relative: &str) -> bool {
        ALWAYS_IGNORED.contains(&relative)
            || self
                .ignore
                .as_ref()
                .is_some_and(|set| set.is_match(relative))
    }

    /// Where `_redirects` sends `path`: the destination and the status (200: serve it instead).
    pub fn redirect(&self, path: &str) -> Option<(String, u16)> {
        self.redirects.iter().find_map(|rule| {
            let captures = matches(&rule.from, path)?;
            Some((substitute(&rule.to, &captures), rule.status))
        })
    }

    /// Applies the `_headers` rules that match `path` to an asset response's headers: values of
    /// several matching rules are joined, `! Name` removes a header.
    pub fn apply_headers(&self, path: &str, headers: &mut http::HeaderMap) {
        let mut set: Vec<(String, String)> = Vec::new();
        let mut remove: Vec<String> = Vec::new();
        for rule in &self.headers {
            let Some(captures) = matches(&rule.pattern, path) else {
                continue;
            };
            for (name, value) in &rule.set {
                let value = substitute(value, &captures);
                match set.iter_mut().find(|(n, _)| n == name) {
                    Some((_, existing)) => {
                        existing.push_str(", ");
                        existing.push_str(&value);
                    }
                    None => set.push((name.clone(), value)),
                }
            }
            remove.extend(rule.remove.iter().cloned());
        }
        for name in remove {
            if let Ok(name) = http::HeaderName::from_bytes(name.as_bytes()) {
                headers.remove(name);
            }
        }
        for (name, value) in set {
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                http::HeaderValue::from_str(&value),
            ) {
                headers.insert(name, value);
            }
        }
    }
}

/// A rule's pattern as a path: an absolute URL pattern (`https://host/path`) keeps its path.
fn path_of(pattern: &str) -> String {
    match pattern.split_once("://") {
        Some((_, rest)) => rest
            .find('/')
            .map_or_else(|| "/".to_owned(), |at| rest[at..].to_owned()),
        None => pattern.to_owned(),
    }
}

/// The captures (`splat` and placeholder names) if `path` matches `pattern`.
fn matches(pattern: &str, path: &str) -> Option<Vec<(String, String)>> {
    let mut captures = Vec::new();
    if match_at(pattern.as_bytes(), path.as_bytes(), &mut captures, 0) {
        Some(captures)
    } else {
        None
    }
}

fn match_at(
    pattern: &[u8],
    path: &[u8],
    captures: &mut Vec<(String, String)>,
    depth: usize,
) -> bool {
    if depth > 64 {
        return false;
    }
    match pattern.first() {
        None => path.is_empty(),
        Some(b'*') => {
            for split in (0..=path.len()).rev() {
                let mark = captures.len();
                captures.push((
                    "splat".into(),
                    String::from_utf8_lossy(&path[..split]).into_owned(),
                ));
                if match_at(&pattern[1..], &path[split..], captures, depth + 1) {
                    return true;
                }
                captures.truncate(mark);
            }
            false
        }
        Some(b':') => {
            let name_len = pattern[1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                .count();
            if name_len == 0 {
                return path.first() == Some(&b':')
                    && match_at(&pattern[1..], &path[1..], captures, depth + 1);
            }
            let name = String::from_utf8_lossy(&pattern[1..=name_len]).into_owned();
            let segment = path.iter().take_while(|c| **c != b'/').count();
            for split in (1..=segment).rev() {
                let mark = captures.len();
                captures.push((
                    name.clone(),
                    String::from_utf8_lossy(&path[..split]).into_owned(),
                ));
                if match_at(
                    &pattern[1 + name_len..],
                    &path[split..],
                    captures,
                    depth + 1,
                ) {
                    return true;
                }
                captures.truncate(mark);
            }
            false
        }
        Some(c) => path.first() == Some(c) && match_at(&pattern[1..], &path[1..], captures, depth),
    }
}

/// `template` with `:name` replaced by the captures (longest names first, so `:splat` wins
/// over a `:s` placeholder).
fn substitute(template: &str, captures: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = captures.iter().collect();
    sorted.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));
    let mut out = template.to_owned();
    for (name, value) in sorted {
        out = out.replace(&format!(":{name}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_capture_splats_and_placeholders() {
        assert!(matches("/a", "/a").is_some());
        assert!(matches("/a", "/b").is_none());
        let splat = matches("/blog/*", "/blog/2024/post").expect("splat");
        assert_eq!(substitute("/posts/:splat", &splat), "/posts/2024/post");
        let named = matches("/news/:year/:month", "/news/2024/05").expect("names");
        assert_eq!(
            substitute("/archive/:year-:month", &named),
            "/archive/2024-05"
        );
        assert!(matches("/news/:year", "/news/2024/05").is_none());
        assert_eq!(path_of("https://example.com/x/*"), "/x/*");
    }
}
