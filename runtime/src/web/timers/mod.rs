//! `setTimeout`/`setInterval` on the isolate's own task set, and the clocks behind
//! `performance.now()` and `Date`.
//!
//! A timer is a task spawned inside the isolate's runtime: it sleeps, then calls its callback
//! (charged to the isolate's CPU like any JavaScript). Clearing a timer wakes its task, which
//! ends at once. Timers die with their isolate.

use std::rc::Rc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rquickjs::prelude::Func;
use rquickjs::{Ctx, Exception, Function, Object, Persistent, Result};

use crate::isolate;
use crate::limits::TIMERS_PER_ISOLATE_MAX;

pub fn register(_ctx: &Ctx<'_>, ops: &Object<'_>) -> Result<()> {
    ops.set("op_timers_set", Func::from(op_timers_set))?;
    ops.set("op_timers_clear", Func::from(op_timers_clear))?;
    ops.set("op_timers_defer", Func::from(op_timers_defer))?;
    ops.set("op_timers_now", Func::from(op_timers_now))?;
    ops.set("op_timers_time_origin", Func::from(op_timers_time_origin))?;
    Ok(())
}

fn process_start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

/// Milliseconds since the process started (the time origin), with microsecond precision.
fn op_timers_now() -> f64 {
    process_start().elapsed().as_micros() as f64 / 1000.0
}

fn op_timers_time_origin() -> f64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    since_epoch.as_millis() as f64 - op_timers_now()
}

fn op_timers_set<'js>(
    ctx: Ctx<'js>,
    callback: Function<'js>,
    delay_ms: f64,
    repeat: bool,
) -> Result<u32> {
    let delay = if delay_ms.is_finite() && delay_ms > 0.0 {
        Duration::from_micros((delay_ms.min(2_147_483_647.0) * 1000.0) as u64)
    } else {
        Duration::ZERO
    };
    let cancel = Rc::new(tokio::sync::Notify::new());
    let id = {
        let data = isolate::data(&ctx)?;
        let mut timers = data.timers.borrow_mut();
        if timers.len() >= TIMERS_PER_ISOLATE_MAX {
            return Err(Exception::throw_range(
                &ctx,
                &format!("too many pending timers (at most {TIMERS_PER_ISOLATE_MAX})"),
            ));
        }
        let id = data.next_timer_id.get().wrapping_add(1).max(1);
        data.next_timer_id.set(id);
        timers.insert(id, Rc::clone(&cancel));
        id
    };
    let callback = Persistent::save(&ctx, callback);
    let task_ctx = ctx.clone();
    ctx.spawn(async move {
        let mut deadline = tokio::time::Instant::now() + delay;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => {}
                _ = cancel.notified() => return,
            }
            let Ok(function) = callback.clone().restore(&task_ctx) else {
                return;
            };
            if !repeat {
                if let Ok(data) = isolate::data(&task_ctx) {
                    data.timers.borrow_mut().remove(&id);
                }
            }
            super::run_microtasks(&task_ctx);
            isolate::async_context::reset(&task_ctx);
            if let Err(err) = function.call::<_, ()>(()) {
                let text = super::describe_error(&task_ctx, err);
                tracing::error!(target: "kiln::worker", worker = %worker_name(&task_ctx), "Uncaught {text}");
            }
            if !repeat {
                return;
            }
            deadline = tokio::time::Instant::now() + delay.max(Duration::from_millis(1));
        }
    });
    Ok(id)
}

/// Calls `callback` in a later turn of the isolate's event loop, once the microtasks queued
/// now have run, without a timer: tokio's timers round up to a whole millisecond, and each costs
/// a task, a wheel entry and a cancellation handle. Kiln's own machinery uses it (the end of a
/// Durable Object's turn, its mailbox); a worker's `setTimeout(f, 0)` keeps timer semantics.
fn op_timers_defer<'js>(ctx: Ctx<'js>, callback: Function<'js>) {
    let callback = Persistent::save(&ctx, callback);
    let task_ctx = ctx.clone();
    ctx.spawn(async move {
        let Ok(function) = callback.restore(&task_ctx) else {
            return;
        };
        super::run_microtasks(&task_ctx);
        isolate::async_context::reset(&task_ctx);
        if let Err(err) = function.call::<_, ()>(()) {
            let text = super::describe_error(&task_ctx, err);
            tracing::error!(target: "kiln::worker", worker = %worker_name(&task_ctx), "Uncaught {text}");
        }
    });
}

fn op_timers_clear(ctx: Ctx<'_>, id: u32) -> Result<()> {
    let data = isolate::data(&ctx)?;
    if let Some(cancel) = data.timers.borrow_mut().remove(&id) {
        cancel.notify_one();
    }
    Ok(())
}

fn worker_name(ctx: &Ctx<'_>) -> String {
    isolate::data(ctx)
        .map(|d| d.worker.name().to_owned())
        .unwrap_or_default()
}
