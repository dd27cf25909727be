//! Where QuickJS-ng differs from V8 in ways Workers code sees, made to look like V8 (with
//! `00_v8_compat.js` and `01_intl.js` beside this file).
//!
//! `Error.prepareStackTrace` is native (`op_format_stack`). QuickJS calls it while it builds an
//! error's stack and drops any exception it throws, including the interrupt that ends an
//! isolate over its CPU or memory limit: the check on entering the call, or on the calls it
//! makes, can be where that interrupt fires, and with a loop that throws it can fire there
//! every time (the checks come at a fixed period). So once the isolate is terminating the
//! formatter removes itself: no later error calls it, and the next check outside stops the
//! isolate. Interrupts are never held, so code the formatter calls (a page could pass it its
//! own call sites) is stopped like any other.

use rquickjs::prelude::Func;
use rquickjs::{Ctx, Function, Object, Result, Value};

/// Frames an error's stack lists at most (V8's default `Error.stackTraceLimit` is 10; QuickJS
/// gathers up to 64 when asked).
const STACK_FRAMES_MAX: usize = 64;

pub fn register(_ctx: &Ctx<'_>, ops: &Object<'_>) -> Result<()> {
    ops.set("op_format_stack", Func::from(op_format_stack))?;
    ops.set("op_intl_time_zone", Func::from(op_intl_time_zone))?;
    ops.set(
        "op_intl_time_zone_offset",
        Func::from(op_intl_time_zone_offset),
    )?;
    ops.set("op_intl_time_zones", Func::from(op_intl_time_zones))?;
    Ok(())
}

/// A time zone by its IANA name in any case (Intl matches names case-insensitively).
fn time_zone(name: &str) -> Option<chrono_tz::Tz> {
    static BY_LOWERCASE: std::sync::OnceLock<std::collections::HashMap<String, chrono_tz::Tz>> =
        std::sync::OnceLock::new();
    BY_LOWERCASE
        .get_or_init(|| {
            chrono_tz::TZ_VARIANTS
                .iter()
                .map(|tz| (tz.name().to_ascii_lowercase(), *tz))
                .collect()
        })
        .get(&name.to_ascii_lowercase())
        .copied()
}

/// The canonical IANA name of a time zone (any case), or `None` when there is no such zone.
fn op_intl_time_zone(name: String) -> Option<String> {
    time_zone(&name).map(|tz| tz.name().to_owned())
}

/// The zone's offset from UTC in minutes at `epoch_ms`, and its abbreviation then ("EDT",
/// or a number such as "+03" where the zone has no letters): `[minutes, abbreviation]`.
fn op_intl_time_zone_offset(name: String, epoch_ms: f64) -> Option<Vec<String>> {
    use chrono::{Offset, TimeZone};
    use chrono_tz::OffsetName;
    let tz = time_zone(&name)?;
    if !epoch_ms.is_finite() {
        return None;
    }
    let at = tz.timestamp_millis_opt(epoch_ms as i64).single()?;
    let minutes = at.offset().fix().local_minus_utc() / 60;
    Some(vec![
        minutes.to_string(),
        at.offset().abbreviation().to_owned(),
    ])
}

/// Every zone name `Intl.supportedValuesOf("timeZone")` lists.
fn op_intl_time_zones() -> Vec<String> {
    chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| tz.name().to_owned())
        .collect()
}

fn text_of(value: &Value<'_>) -> Option<String> {
    if value.is_undefined() || value.is_null() {
        return None;
    }
    value
        .as_string()
        .and_then(|s| s.to_string().ok())
        .or_else(|| value.as_number().map(|n| n.to_string()))
}

/// What a call site's `method` answers, as text. A call that throws is passed on: an
/// interrupt stopping the isolate must reach the code that called the formatter.
fn call_site_text<'js>(site: &Object<'js>, method: &str) -> Result<Option<String>> {
    let Ok(function) = site.get::<_, Function>(method) else {
        return Ok(None);
    };
    let value: Value = function.call((rquickjs::prelude::This(site.clone()),))?;
    Ok(text_of(&value))
}

/// V8's stack: `Name: message`, then `    at function (file:line:column)` for each frame of the
/// worker's own code (Kiln's prelude has no file name and is left out).
fn op_format_stack<'js>(ctx: Ctx<'js>, error: Value<'js>, sites: Value<'js>) -> Result<String> {
    let meter = match crate::isolate::data(&ctx) {
        Ok(data) => std::rc::Rc::clone(&data.meter),
        Err(_) => return format_stack(error, sites),
    };
    let text = if meter.terminating() {
        Ok(String::new())
    } else {
        format_stack(error, sites)
    };
    if meter.terminating() {
        // From now on errors get QuickJS's own stack, so interrupts fire where they count.
        if let Ok(constructor) = ctx.globals().get::<_, Object>("Error") {
            let _ = constructor.set("prepareStackTrace", rquickjs::Undefined);
        }
    }
    text
}

fn format_stack<'js>(error: Value<'js>, sites: Value<'js>) -> Result<String> {
    let mut text = String::new();
    match error.as_object() {
        Some(object) => {
            let name = object
                .get::<_, Value>("name")
                .ok()
                .and_then(|v| text_of(&v))
                .unwrap_or_else(|| "Error".into());
            let message = object
                .get::<_, Value>("message")
                .ok()
                .and_then(|v| text_of(&v))
                .unwrap_or_default();
            text.push_str(&name);
            if !message.is_empty() {
                text.push_str(": ");
                text.push_str(&message);
            }
        }
        None => text.push_str("Error"),
    }
    let Some(sites) = sites.into_array() else {
        return Ok(text);
    };
    for site in sites.iter::<Object>().take(STACK_FRAMES_MAX).flatten() {
        let Some(file) = call_site_text(&site, "getFileName")?.filter(|f| !f.is_empty()) else {
            continue;
        };
        let line = call_site_text(&site, "getLineNumber")?.unwrap_or_default();
        let column = call_site_text(&site, "getColumnNumber")?.unwrap_or_default();
        match call_site_text(&site, "getFunctionName")?.filter(|f| !f.is_empty()) {
            Some(function) => {
                text.push_str(&format!("\n    at {function} ({file}:{line}:{column})"))
            }
            None => text.push_str(&format!("\n    at {file}:{line}:{column}")),
        }
    }
    Ok(text)
}
