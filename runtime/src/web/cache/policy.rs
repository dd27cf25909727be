//! Cloudflare's rules for what the Cache API stores and for how long, and how a hit answers a
//! conditional or range request.
//!
//! `put` stores nothing for `Cache-Control: no-store`, `no-cache` or `private` (the response
//! would never be fresh without an origin to revalidate against), nor for a response that still
//! has a `Set-Cookie` header: `private=Set-Cookie` (or `no-cache=Set-Cookie`) strips the named
//! headers and stores the rest. Freshness comes from `s-maxage`, then `max-age`, then `Expires`
//! (against the response's `Date`, or now); without any, from Cloudflare's default edge TTL for
//! the status (statuses it lists no TTL for are not stored).

use std::time::{Duration, SystemTime};

/// What `put` does with a response.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// Store it for `ttl`, without the headers named in `strip` (lowercase).
    Store { ttl: Duration, strip: Vec<String> },
    /// Consume it and store nothing.
    Skip,
}

/// One `Cache-Control` directive: its lowercase name and its value, unquoted.
#[derive(Debug)]
struct Directive {
    name: String,
    value: Option<String>,
}

/// Splits `Cache-Control` values into directives; commas inside quoted values do not split.
fn directives(values: &[&str]) -> Vec<Directive> {
    let mut out = Vec::new();
    for value in values {
        let mut parts = Vec::new();
        let mut current = String::new();
        let mut quoted = false;
        for ch in value.chars() {
            match ch {
                '"' => {
                    quoted = !quoted;
                    current.push(ch);
                }
                ',' if !quoted => parts.push(std::mem::take(&mut current)),
                _ => current.push(ch),
            }
        }
        parts.push(current);
        for part in parts {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (name, value) = match part.split_once('=') {
                Some((name, value)) => {
                    (name.trim(), Some(value.trim().trim_matches('"').to_owned()))
                }
                None => (part, None),
            };
            out.push(Directive {
                name: name.to_ascii_lowercase(),
                value,
            });
        }
    }
    out
}

/// Seconds from a `max-age`-style value; a malformed one counts as 0 (stale), a huge one
/// saturates.
fn seconds(value: Option<&str>) -> u64 {
    let Some(value) = value else { return 0 };
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    value.parse::<u64>().unwrap_or(u64::MAX)
}

/// Cloudflare's default edge TTL for a status when the response says nothing about freshness.
fn default_ttl(status: u16) -> Option<Duration> {
    match status {
        200 | 206 | 301 => Some(Duration::from_secs(120 * 60)),
        302 | 303 => Some(Duration::from_secs(20 * 60)),
        404 | 410 => Some(Duration::from_secs(3 * 60)),
        _ => None,
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect()
}

/// What `put` does with a response of `status` and `headers`, at `now`.
pub fn decide(status: u16, headers: &[(String, String)], now: SystemTime) -> Decision {
    let directives = directives(&header(headers, "cache-control"));
    let mut strip = Vec::new();
    for directive in &directives {
        match (directive.name.as_str(), &directive.value) {
            ("no-store", _) => return Decision::Skip,
            ("private" | "no-cache", None) => return Decision::Skip,
            ("private" | "no-cache", Some(fields)) => strip.extend(
                fields
                    .split(',')
                    .map(|f| f.trim().to_ascii_lowercase())
                    .filter(|f| !f.is_empty()),
            ),
            _ => {}
        }
    }
    if !strip.iter().any(|f| f == "set-cookie") && !header(headers, "set-cookie").is_empty() {
        return Decision::Skip;
    }
    let lookup = |name: &str| {
        directives
            .iter()
            .find(|d| d.name == name)
            .map(|d| seconds(d.value.as_deref()))
    };
    let ttl = if let Some(seconds) = lookup("s-maxage").or_else(|| lookup("max-age")) {
        Some(Duration::from_secs(seconds))
    } else if let Some(expires) = header(headers, "expires").first() {
        // An `Expires` that does not parse means "already expired" (RFC 9111 5.3).
        let base = header(headers, "date")
            .first()
            .and_then(|date| httpdate::parse_http_date(date).ok())
            .unwrap_or(now);
        Some(
            httpdate::parse_http_date(expires)
                .ok()
                .and_then(|at| at.duration_since(base).ok())
                .unwrap_or_default(),
        )
    } else {
        default_ttl(status)
    };
    match ttl {
        Some(ttl) if !ttl.is_zero() => Decision::Store { ttl, strip },
        _ => Decision::Skip,
    }
}

/// What a hit answers, given the request's conditional and range headers.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// The whole stored response.
    Full,
    /// `304 Not Modified`, without a body.
    NotModified,
    /// `206 Partial Content`: bytes `start..end` of the body.
    Partial { start: usize, end: usize },
    /// `416 Range Not Satisfiable`.
    Unsatisfiable,
}

/// The request headers a hit looks at.
#[derive(Debug, Default)]
pub struct Conditions<'a> {
    pub if_none_match: Option<&'a str>,
    pub if_modified_since: Option<&'a str>,
    pub range: Option<&'a str>,
}

fn strip_weak(tag: &str) -> &str {
    tag.trim().strip_prefix("W/").unwrap_or(tag.trim())
}

/// How a stored response of `status` and `headers`, with a body of `length` bytes, answers a
/// request with `conditions`.
pub fn answer(
    status: u16,
    headers: &[(String, String)],
    length: usize,
    conditions: &Conditions<'_>,
) -> Answer {
    if let Some(wanted) = conditions.if_none_match {
        // Weak comparison (RFC 9110 13.1.2): `W/` prefixes do not matter.
        if let Some(etag) = header(headers, "etag").first() {
            let etag = strip_weak(etag);
            if wanted
                .split(',')
                .any(|tag| tag.trim() == "*" || strip_weak(tag) == etag)
            {
                return Answer::NotModified;
            }
        }
    } else if let Some(since) = conditions.if_modified_since {
        let last_modified = header(headers, "last-modified")
            .first()
            .and_then(|v| httpdate::parse_http_date(v).ok());
        if let (Some(last_modified), Ok(since)) = (last_modified, httpdate::parse_http_date(since))
        {
            if last_modified <= since {
                return Answer::NotModified;
            }
        }
    }
    if status != 200 {
        return Answer::Full;
    }
    let Some(range) = conditions.range else {
        return Answer::Full;
    };
    let Some(spec) = range.trim().strip_prefix("bytes=") else {
        return Answer::Full;
    };
    if spec.contains(',') {
        // Several ranges would need a multipart answer; the whole body is a valid one.
        return Answer::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Answer::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    let number = |s: &str| {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            None
        } else {
            Some(s.parse::<u64>().unwrap_or(u64::MAX))
        }
    };
    let length = length as u64;
    let (start, end) = if first.is_empty() {
        // A suffix: the last N bytes.
        let Some(suffix) = number(last) else {
            return Answer::Full;
        };
        if suffix == 0 || length == 0 {
            return Answer::Unsatisfiable;
        }
        (length.saturating_sub(suffix), length)
    } else {
        let Some(start) = number(first) else {
            return Answer::Full;
        };
        let last = match (last.is_empty(), number(last)) {
            (true, _) => None,
            (false, Some(last)) if last >= start => Some(last),
            (false, _) => return Answer::Full,
        };
        if start >= length {
            return Answer::Unsatisfiable;
        }
        let end = last.map_or(length, |last| last.saturating_add(1).min(length));
        (start, end)
    };
    Answer::Partial {
        start: start as usize,
        end: end as usize,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn check(status: u16, list: &[(&str, &str)], expect: Option<u64>) {
        let got = match decide(status, &headers(list), SystemTime::now()) {
            Decision::Store { ttl, .. } => Some(ttl.as_secs()),
            Decision::Skip => None,
        };
        assert_eq!(got, expect, "{status} {list:?}");
    }

    #[test]
    fn freshness() {
        check(200, &[("cache-control", "max-age=60")], Some(60));
        check(
            200,
            &[("cache-control", "public, max-age=60, s-maxage=10")],
            Some(10),
        );
        check(200, &[("Cache-Control", "max-age=0")], None);
        check(200, &[("cache-control", "max-age=abc")], None);
        check(200, &[], Some(7200));
        check(404, &[], Some(180));
        check(500, &[], None);
        check(500, &[("cache-control", "max-age=5")], Some(5));
        check(
            200,
            &[
                ("date", "Sun, 06 Nov 1994 08:49:37 GMT"),
                ("expires", "Sun, 06 Nov 1994 08:50:37 GMT"),
            ],
            Some(60),
        );
        check(200, &[("expires", "Sun, 06 Nov 1994 08:50:37 GMT")], None);
        check(200, &[("expires", "not a date")], None);
    }

    #[test]
    fn what_is_never_stored() {
        check(200, &[("cache-control", "no-store, max-age=60")], None);
        check(200, &[("cache-control", "private")], None);
        check(200, &[("cache-control", "no-cache")], None);
        check(
            200,
            &[("set-cookie", "a=1"), ("cache-control", "max-age=60")],
            None,
        );
        let decision = decide(
            200,
            &headers(&[
                ("set-cookie", "a=1"),
                ("cache-control", "private=\"Set-Cookie, X-A\", max-age=60"),
            ]),
            SystemTime::now(),
        );
        assert_eq!(
            decision,
            Decision::Store {
                ttl: Duration::from_secs(60),
                strip: vec!["set-cookie".into(), "x-a".into()]
            }
        );
    }

    fn answer_for(list: &[(&str, &str)], conditions: Conditions<'_>) -> Answer {
        answer(200, &headers(list), 10, &conditions)
    }

    #[test]
    fn conditional_and_range_requests() {
        let etag = [("etag", "\"v1\"")];
        let cond = |inm| Conditions {
            if_none_match: Some(inm),
            ..Default::default()
        };
        assert_eq!(answer_for(&etag, cond("\"v1\"")), Answer::NotModified);
        assert_eq!(
            answer_for(&etag, cond("W/\"v1\", \"v2\"")),
            Answer::NotModified
        );
        assert_eq!(answer_for(&etag, cond("\"v2\"")), Answer::Full);
        let modified = [("last-modified", "Sun, 06 Nov 1994 08:49:37 GMT")];
        let since = |date| Conditions {
            if_modified_since: Some(date),
            ..Default::default()
        };
        assert_eq!(
            answer_for(&modified, since("Sun, 06 Nov 1994 08:49:37 GMT")),
            Answer::NotModified
        );
        assert_eq!(
            answer_for(&modified, since("Sat, 05 Nov 1994 08:49:37 GMT")),
            Answer::Full
        );
        let range = |r| Conditions {
            range: Some(r),
            ..Default::default()
        };
        assert_eq!(
            answer_for(&[], range("bytes=2-4")),
            Answer::Partial { start: 2, end: 5 }
        );
        assert_eq!(
            answer_for(&[], range("bytes=7-")),
            Answer::Partial { start: 7, end: 10 }
        );
        assert_eq!(
            answer_for(&[], range("bytes=-3")),
            Answer::Partial { start: 7, end: 10 }
        );
        assert_eq!(
            answer_for(&[], range("bytes=5-100")),
            Answer::Partial { start: 5, end: 10 }
        );
        assert_eq!(answer_for(&[], range("bytes=10-")), Answer::Unsatisfiable);
        assert_eq!(answer_for(&[], range("bytes=0-1,3-4")), Answer::Full);
        assert_eq!(answer_for(&[], range("items=0-1")), Answer::Full);
        assert_eq!(answer_for(&[], range("bytes=4-2")), Answer::Full);
    }
}
