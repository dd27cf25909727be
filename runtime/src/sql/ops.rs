//! The JavaScript-facing operations of `ctx.storage.sql`. A database is reached by the handle
//! `op_sql_open` returned to the object's storage; nothing here trusts what JavaScript passes.

use std::sync::Arc;
use std::time::Duration;

use rquickjs::prelude::Func;
use rquickjs::{Array, ArrayBuffer, Ctx, Exception, IntoJs, Result, Value};

use super::{SqlDatabase, SqlError, SqlValue};
use crate::isolate;
use crate::object::ops::{binding, store};
use crate::object::{from_hex, ObjectStore};

/// Cloudflare's message for SQL on a class without SQLite storage.
pub const NOT_SQLITE_MESSAGE: &str = "SQL is not enabled for this Durable Object class. To enable it, change `new_classes` to `new_sqlite_classes` within the 'migrations' field in your wrangler.jsonc or wrangler.toml file. Note that this change cannot be made after the class is already deployed to production.";

pub fn register(_ctx: &Ctx<'_>, ops: &rquickjs::Object<'_>) -> Result<()> {
    ops.set("op_sql_enabled", Func::from(op_sql_enabled))?;
    ops.set("op_sql_open", Func::from(op_sql_open))?;
    ops.set("op_sql_exec", Func::from(op_sql_exec))?;
    ops.set("op_sql_size", Func::from(op_sql_size))?;
    ops.set("op_sql_dirty", Func::from(op_sql_dirty))?;
    ops.set("op_sql_savepoint", Func::from(op_sql_savepoint))?;
    ops.set("op_sql_release", Func::from(op_sql_release))?;
    ops.set("op_sql_wipe", Func::from(op_sql_wipe))?;
    ops.set("op_sql_discard", Func::from(op_sql_discard))?;
    ops.set("op_sql_close", Func::from(op_sql_close))?;
    Ok(())
}

fn throw(ctx: &Ctx<'_>, err: SqlError) -> rquickjs::Error {
    crate::web::throw_error(ctx, &err.to_string())
}

fn op_sql_enabled(ctx: Ctx<'_>, index: u32) -> Result<bool> {
    Ok(binding(&ctx, index)?.sql)
}

/// Opens the database of object `id_hex` of namespace `index`; returns its handle.
fn op_sql_open(ctx: Ctx<'_>, index: u32, id_hex: String) -> Result<u32> {
    if !binding(&ctx, index)?.sql {
        return Err(crate::web::throw_error(&ctx, NOT_SQLITE_MESSAGE));
    }
    let id =
        from_hex(&id_hex).ok_or_else(|| Exception::throw_internal(&ctx, "malformed object id"))?;
    let store: Arc<dyn ObjectStore> = store(&ctx)?;
    let database = SqlDatabase::open(store, id).map_err(|err| throw(&ctx, err))?;
    let data = isolate::data(&ctx)?;
    let handle = data.sql.borrow_mut().insert(database);
    handle.ok_or_else(|| {
        crate::web::throw_error(&ctx, "Too many open SQL databases in this isolate.")
    })
}

fn with_database<T>(
    ctx: &Ctx<'_>,
    handle: u32,
    work: impl FnOnce(&mut SqlDatabase) -> std::result::Result<T, SqlError>,
) -> Result<T> {
    let data = isolate::data(ctx)?;
    let mut databases = data.sql.borrow_mut();
    let Some(database) = databases.get_mut(handle) else {
        return Err(crate::web::throw_error(
            ctx,
            "The SQL database of this Durable Object is closed: the object was reset.",
        ));
    };
    work(database).map_err(|err| throw(ctx, err))
}

fn binding_value(ctx: &Ctx<'_>, value: Value<'_>) -> Result<SqlValue> {
    if value.is_null() || value.is_undefined() {
        return Ok(SqlValue::Null);
    }
    if let Some(number) = value.as_number() {
        return Ok(SqlValue::Number(number));
    }
    if let Some(text) = value.as_string() {
        return Ok(SqlValue::Text(text.to_string()?));
    }
    if let Some(buffer) = ArrayBuffer::from_value(value.clone()) {
        return Ok(SqlValue::Blob(
            buffer.as_bytes().unwrap_or_default().to_vec(),
        ));
    }
    Err(Exception::throw_type(
        ctx,
        "SQL bindings must be strings, numbers, ArrayBuffers or null.",
    ))
}

/// The CPU budget the request has left. SQL that uses it up stops; the isolate's interrupt
/// handler then finds the budget spent and ends the request as any CPU overrun.
fn cpu_budget(ctx: &Ctx<'_>) -> Result<Option<Duration>> {
    let data = isolate::data(ctx)?;
    let limit = Duration::from_millis(data.worker.script().limits.cpu_ms);
    Ok(Some(limit.saturating_sub(data.meter.charged_now())))
}

/// Runs `query`; returns `[columnNames, values (row-major), rowsRead, rowsWritten, dirty]`,
/// `dirty` when the database has writes the storage layer has not committed yet.
fn op_sql_exec<'js>(
    ctx: Ctx<'js>,
    handle: u32,
    query: String,
    bindings: Array<'js>,
) -> Result<Array<'js>> {
    let mut values = Vec::with_capacity(bindings.len());
    for value in bindings.iter::<Value>() {
        values.push(binding_value(&ctx, value?)?);
    }
    let budget = cpu_budget(&ctx)?;
    let (result, dirty) = with_database(&ctx, handle, |database| {
        let result = database.exec(&query, &values, budget);
        let dirty = database.has_dirty();
        Ok((result, dirty))
    })?;
    // On failure JavaScript asks `op_sql_dirty`: a multi-statement query may have written
    // before the statement that failed.
    if let Err(SqlError::CpuLimit) = &result {
        isolate::data(&ctx)?.meter.mark_exhausted();
    }
    let result = result.map_err(|err| throw(&ctx, err))?;
    let columns = Array::new(ctx.clone())?;
    for (i, name) in result.columns.iter().enumerate() {
        columns.set(i, name.as_str())?;
    }
    let rows = Array::new(ctx.clone())?;
    for (i, value) in result.values.into_iter().enumerate() {
        let value = match value {
            SqlValue::Null => Value::new_null(ctx.clone()),
            SqlValue::Number(n) => n.into_js(&ctx)?,
            SqlValue::Text(t) => t.into_js(&ctx)?,
            SqlValue::Blob(b) => ArrayBuffer::new(ctx.clone(), b)?.into_value(),
        };
        rows.set(i, value)?;
    }
    let out = Array::new(ctx.clone())?;
    out.set(0, columns)?;
    out.set(1, rows)?;
    out.set(2, result.rows_read as f64)?;
    out.set(3, result.rows_written as f64)?;
    out.set(4, dirty)?;
    Ok(out)
}

fn op_sql_dirty(ctx: Ctx<'_>, handle: u32) -> Result<bool> {
    with_database(&ctx, handle, |database| Ok(database.has_dirty()))
}

fn op_sql_size(ctx: Ctx<'_>, handle: u32) -> Result<f64> {
    with_database(&ctx, handle, SqlDatabase::size)
}

fn op_sql_savepoint(ctx: Ctx<'_>, handle: u32) -> Result<u32> {
    with_database(&ctx, handle, SqlDatabase::begin_savepoint)
}

/// Ends savepoint `depth`; returns whether the database has uncommitted writes.
fn op_sql_release(ctx: Ctx<'_>, handle: u32, depth: u32, rollback: bool) -> Result<bool> {
    with_database(&ctx, handle, |database| {
        database.end_savepoint(depth, rollback)?;
        Ok(database.has_dirty())
    })
}

fn op_sql_wipe(ctx: Ctx<'_>, handle: u32) -> Result<()> {
    with_database(&ctx, handle, |database| {
        database.wipe();
        Ok(())
    })
}

fn op_sql_discard(ctx: Ctx<'_>, handle: u32) -> Result<()> {
    with_database(&ctx, handle, |database| {
        database.discard();
        Ok(())
    })
}

fn op_sql_close(ctx: Ctx<'_>, handle: u32) -> Result<()> {
    isolate::data(&ctx)?.sql.borrow_mut().remove(handle);
    Ok(())
}

/// Takes the pages database `handle` wrote since its last batch, for `op_storage_commit`.
pub(crate) fn take_dirty_pages(
    ctx: &Ctx<'_>,
    handle: u32,
) -> Result<Option<(super::vfs::SharedPageFile, super::page_file::DirtyPages)>> {
    let data = isolate::data(ctx)?;
    let mut databases = data.sql.borrow_mut();
    let Some(database) = databases.get_mut(handle) else {
        return Ok(None);
    };
    let pages = Arc::clone(database.pages());
    let dirty = super::vfs::lock(&pages).take_dirty();
    Ok(dirty.map(|dirty| (pages, dirty)))
}
