//! `console`: formatting happens in JavaScript; each finished line reaches the node log through
//! `tracing` with the worker's name, at the level of the console method.

use rquickjs::prelude::Func;
use rquickjs::{Ctx, Object, Result};

use crate::isolate;
use crate::limits::CONSOLE_LINE_BYTES_MAX;

pub fn register(_ctx: &Ctx<'_>, ops: &Object<'_>) -> Result<()> {
    ops.set("op_console_write", Func::from(op_console_write))?;
    Ok(())
}

fn op_console_write(ctx: Ctx<'_>, level: String, mut line: String) -> Result<()> {
    if line.len() > CONSOLE_LINE_BYTES_MAX {
        let mut cut = CONSOLE_LINE_BYTES_MAX;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line.truncate(cut);
        line.push_str("… (truncated)");
    }
    let data = isolate::data(&ctx)?;
    for recorder in data.traces.borrow().iter() {
        recorder.borrow_mut().log(&level, &line);
    }
    let worker = data.worker.name();
    match level.as_str() {
        "error" => tracing::error!(target: "kiln::worker", worker, "{line}"),
        "warn" => tracing::warn!(target: "kiln::worker", worker, "{line}"),
        "debug" | "trace" => tracing::debug!(target: "kiln::worker", worker, "{line}"),
        _ => tracing::info!(target: "kiln::worker", worker, "{line}"),
    }
    Ok(())
}
