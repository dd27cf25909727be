//! `URLPattern`: patterns parsed and inputs canonicalized by the `urlpattern` crate (the
//! WHATWG URLPattern standard, as Deno uses it); each component's regular expression is then
//! compiled and run by JavaScript's own RegExp (`33_url_pattern.js`), as the standard defines
//! matching in terms of ECMAScript regular expressions.

use rquickjs::prelude::Func;
use rquickjs::{Ctx, Exception, Object, Result};
use urlpattern::quirks::{self, StringOrInit};

/// Bytes of a pattern or an input, past which they are refused.
const PATTERN_BYTES_MAX: usize = 64 * 1024;

pub fn register(_ctx: &Ctx<'_>, ops: &Object<'_>) -> Result<()> {
    ops.set("op_urlpattern_parse", Func::from(op_urlpattern_parse))?;
    ops.set(
        "op_urlpattern_match_input",
        Func::from(op_urlpattern_match_input),
    )?;
    Ok(())
}

fn input(ctx: &Ctx<'_>, json: &str) -> Result<StringOrInit> {
    if json.len() > PATTERN_BYTES_MAX {
        return Err(Exception::throw_type(ctx, "URLPattern input is too long."));
    }
    serde_json::from_str(json)
        .map_err(|err| Exception::throw_type(ctx, &format!("Invalid URLPattern input: {err}")))
}

/// The pattern's components (`patternString`, `regexpString`, `groupNameList`), as JSON.
fn op_urlpattern_parse(
    ctx: Ctx<'_>,
    json: String,
    base: Option<String>,
    ignore_case: bool,
) -> Result<String> {
    let init = quirks::process_construct_pattern_input(input(&ctx, &json)?, base.as_deref())
        .map_err(|err| {
            Exception::throw_type(&ctx, &format!("Failed to construct 'URLPattern': {err}"))
        })?;
    let options = urlpattern::UrlPatternOptions { ignore_case };
    let pattern = quirks::parse_pattern(init, options).map_err(|err| {
        Exception::throw_type(&ctx, &format!("Failed to construct 'URLPattern': {err}"))
    })?;
    serde_json::to_string(&pattern).map_err(|err| Exception::throw_internal(&ctx, &err.to_string()))
}

/// The input's components and the inputs as given, as JSON `[components, [input, base?]]`;
/// `None` when the input is not a URL the pattern could match.
fn op_urlpattern_match_input(
    ctx: Ctx<'_>,
    json: String,
    base: Option<String>,
) -> Result<Option<String>> {
    let processed = quirks::process_match_input(input(&ctx, &json)?, base.as_deref())
        .map_err(|err| Exception::throw_type(&ctx, &err.to_string()))?;
    let Some((match_input, inputs)) = processed else {
        return Ok(None);
    };
    let Some(components) = quirks::parse_match_input(match_input) else {
        return Ok(None);
    };
    let value = serde_json::json!([components, [inputs.0, inputs.1]]);
    Ok(Some(value.to_string()))
}
