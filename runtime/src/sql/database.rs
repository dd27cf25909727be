//! One object's SQLite database as `ctx.storage.sql` sees it: a connection over the object's
//! [`PageFile`], the statements Cloudflare allows (no transactions of the user's own, no
//! ATTACH, no temporary schema, no `_cf_` names, a short list of pragmas), its limits, and
//! `exec` with Cloudflare's error messages.
//!
//! Guarantees: between two calls no SQLite transaction is open, so the page file's dirty layer
//! always holds a consistent database when the storage layer takes it into a batch; a statement
//! that fails leaves the database as it was before it; SQL runs no longer than the CPU budget
//! left to the request.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::isolate::cpu_meter::thread_cpu_now;

use rusqlite::ffi;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::limits::Limit;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::page_file::{PageFile, PAGE_BYTES};
use super::vfs::{self, SharedPageFile};
use crate::object::{ObjectStore, StoreError};

/// Cloudflare's message for BEGIN, COMMIT, ROLLBACK, SAVEPOINT and RELEASE in user SQL.
pub const TRANSACTION_MESSAGE: &str = "To execute a transaction, please use the state.storage.transaction() or state.storage.transactionSync() APIs instead of the SQL BEGIN TRANSACTION or SAVEPOINT statements. The JavaScript API is safer because it will automatically roll back on exceptions, and because it interacts correctly with Durable Objects' automatic atomic write coalescing.";
/// Bytes of one SQL statement (Cloudflare: 100 KB).
pub const STATEMENT_BYTES_MAX: i32 = 100_000;
/// Bound parameters of one statement.
pub const BOUND_PARAMETERS_MAX: i32 = 100;
/// Columns of a table.
pub const COLUMNS_MAX: i32 = 100;
/// Bytes of a string, BLOB or row.
pub const VALUE_BYTES_MAX: i32 = 2_000_000;
/// Arguments of a function.
pub const FUNCTION_ARGS_MAX: i32 = 32;
/// Bytes of a LIKE or GLOB pattern.
pub const LIKE_PATTERN_BYTES_MAX: i32 = 50;
/// Bytes of the rows one `exec` returns; past it the call fails instead of exhausting the heap.
pub const RESULT_BYTES_MAX: usize = 64 * 1024 * 1024;
/// SQLite page cache per database, in KiB (SQLite's negative `cache_size`).
const CACHE_KIB: i64 = 2048;
/// Virtual machine steps between checks of the CPU deadline.
const PROGRESS_STEPS: i32 = 10_000;

/// A value crossing between JavaScript and SQLite.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Number(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// What one `exec` produced: the last statement's columns and rows (row-major).
#[derive(Debug, Default)]
pub struct ExecResult {
    pub columns: Vec<String>,
    pub values: Vec<SqlValue>,
    pub rows_read: u64,
    pub rows_written: u64,
}

/// Why `exec` failed: the message is the one a JavaScript `Error` carries.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SqlError {
    #[error("{0}")]
    Message(String),
    #[error("Worker exceeded CPU time limit.")]
    CpuLimit,
    #[error("Durable Object storage operation failed: {0}")]
    Storage(String),
}

impl From<StoreError> for SqlError {
    fn from(err: StoreError) -> SqlError {
        SqlError::Storage(err.0)
    }
}

/// State the authorizer shares with `exec`.
#[derive(Default)]
struct Guard {
    /// Kiln's own savepoints (`transactionSync`) may run.
    internal: AtomicBool,
    /// The message of the last statement the authorizer refused, when it has its own.
    refusal: Mutex<Option<String>>,
    /// The thread CPU clock when the call began and the CPU it may use (the request's budget).
    deadline: Mutex<Option<(Duration, Duration)>>,
    stopped_by_deadline: AtomicBool,
}

/// An object's database.
pub struct SqlDatabase {
    pages: SharedPageFile,
    conn: Option<Connection>,
    guard: Arc<Guard>,
    savepoint_depth: u32,
}

fn next_file_name() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    format!("kiln-sql-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

fn is_reserved_name(name: &str) -> bool {
    name.get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("_cf_"))
}

fn is_boolean_word(value: &str) -> bool {
    let value = value.trim_matches(|c| c == '\'' || c == '"');
    ["true", "false", "yes", "no", "on", "off", "1", "0"]
        .iter()
        .any(|word| value.eq_ignore_ascii_case(word))
}

/// Cloudflare's pragma allowlist.
fn pragma_allowed(name: &str, value: Option<&str>) -> bool {
    let name = name.to_ascii_lowercase();
    match name.as_str() {
        "table_list" => true,
        "table_info" | "table_xinfo" => value.is_some_and(|v| !is_reserved_name(v)),
        "data_version" | "page_size" => value.is_none(),
        "case_sensitive_like"
        | "foreign_keys"
        | "defer_foreign_keys"
        | "ignore_check_constraints"
        | "legacy_alter_table"
        | "recursive_triggers"
        | "reverse_unordered_selects" => value.is_none_or(is_boolean_word),
        "foreign_key_check" => value.is_none_or(|v| !is_reserved_name(v)),
        "foreign_key_list" | "index_info" | "index_list" | "index_xinfo" => {
            value.is_some_and(|v| !is_reserved_name(v))
        }
        "quick_check" => value.is_none_or(|v| !is_reserved_name(v)),
        "optimize" => value.is_none_or(|v| v.trim().parse::<i32>().is_ok()),
        _ => false,
    }
}

fn authorize(guard: &Guard, context: AuthContext<'_>) -> Authorization {
    let refuse_with = |message: &str| {
        let mut refusal = guard.refusal.lock().unwrap_or_else(|p| p.into_inner());
        *refusal = Some(message.to_owned());
        Authorization::Deny
    };
    match context.action {
        AuthAction::Transaction { .. } | AuthAction::Savepoint { .. } => {
            if guard.internal.load(Ordering::Relaxed) {
                Authorization::Allow
            } else {
                refuse_with(TRANSACTION_MESSAGE)
            }
        }
        AuthAction::Attach { .. } | AuthAction::Detach { .. } => Authorization::Deny,
        AuthAction::CreateTempIndex { .. }
        | AuthAction::CreateTempTable { .. }
        | AuthAction::CreateTempTrigger { .. }
        | AuthAction::CreateTempView { .. }
        | AuthAction::DropTempIndex { .. }
        | AuthAction::DropTempTable { .. }
        | AuthAction::DropTempTrigger { .. }
        | AuthAction::DropTempView { .. } => Authorization::Deny,
        AuthAction::Pragma {
            pragma_name,
            pragma_value,
        } => {
            if guard.internal.load(Ordering::Relaxed) || pragma_allowed(pragma_name, pragma_value) {
                Authorization::Allow
            } else {
                Authorization::Deny
            }
        }
        AuthAction::CreateIndex {
            index_name,
            table_name,
        }
        | AuthAction::DropIndex {
            index_name,
            table_name,
        } if is_reserved_name(index_name) || is_reserved_name(table_name) => Authorization::Deny,
        AuthAction::CreateTable { table_name }
        | AuthAction::DropTable { table_name }
        | AuthAction::Delete { table_name }
        | AuthAction::Insert { table_name }
        | AuthAction::Read { table_name, .. }
        | AuthAction::Update { table_name, .. }
        | AuthAction::AlterTable { table_name, .. }
        | AuthAction::Analyze { table_name }
            if is_reserved_name(table_name) =>
        {
            Authorization::Deny
        }
        AuthAction::CreateTrigger {
            trigger_name,
            table_name,
        }
        | AuthAction::DropTrigger {
            trigger_name,
            table_name,
        } if is_reserved_name(trigger_name) || is_reserved_name(table_name) => Authorization::Deny,
        AuthAction::CreateView { view_name } | AuthAction::DropView { view_name }
            if is_reserved_name(view_name) =>
        {
            Authorization::Deny
        }
        AuthAction::CreateVtable { table_name, .. } | AuthAction::DropVtable { table_name, .. }
            if is_reserved_name(table_name) =>
        {
            Authorization::Deny
        }
        _ => Authorization::Allow,
    }
}

fn code_name(code: i32) -> &'static str {
    match code {
        ffi::SQLITE_ERROR => "SQLITE_ERROR",
        ffi::SQLITE_INTERNAL => "SQLITE_INTERNAL",
        ffi::SQLITE_PERM => "SQLITE_PERM",
        ffi::SQLITE_ABORT => "SQLITE_ABORT",
        ffi::SQLITE_BUSY => "SQLITE_BUSY",
        ffi::SQLITE_LOCKED => "SQLITE_LOCKED",
        ffi::SQLITE_NOMEM => "SQLITE_NOMEM",
        ffi::SQLITE_READONLY => "SQLITE_READONLY",
        ffi::SQLITE_INTERRUPT => "SQLITE_INTERRUPT",
        ffi::SQLITE_IOERR => "SQLITE_IOERR",
        ffi::SQLITE_CORRUPT => "SQLITE_CORRUPT",
        ffi::SQLITE_NOTFOUND => "SQLITE_NOTFOUND",
        ffi::SQLITE_FULL => "SQLITE_FULL",
        ffi::SQLITE_CANTOPEN => "SQLITE_CANTOPEN",
        ffi::SQLITE_PROTOCOL => "SQLITE_PROTOCOL",
        ffi::SQLITE_SCHEMA => "SQLITE_SCHEMA",
        ffi::SQLITE_TOOBIG => "SQLITE_TOOBIG",
        ffi::SQLITE_CONSTRAINT => "SQLITE_CONSTRAINT",
        ffi::SQLITE_MISMATCH => "SQLITE_MISMATCH",
        ffi::SQLITE_MISUSE => "SQLITE_MISUSE",
        ffi::SQLITE_AUTH => "SQLITE_AUTH",
        ffi::SQLITE_RANGE => "SQLITE_RANGE",
        _ => "SQLITE_ERROR",
    }
}

fn extended_name(code: i32) -> Option<&'static str> {
    Some(match code {
        ffi::SQLITE_CONSTRAINT_CHECK => "SQLITE_CONSTRAINT_CHECK",
        ffi::SQLITE_CONSTRAINT_FOREIGNKEY => "SQLITE_CONSTRAINT_FOREIGNKEY",
        ffi::SQLITE_CONSTRAINT_NOTNULL => "SQLITE_CONSTRAINT_NOTNULL",
        ffi::SQLITE_CONSTRAINT_PRIMARYKEY => "SQLITE_CONSTRAINT_PRIMARYKEY",
        ffi::SQLITE_CONSTRAINT_UNIQUE => "SQLITE_CONSTRAINT_UNIQUE",
        ffi::SQLITE_CONSTRAINT_TRIGGER => "SQLITE_CONSTRAINT_TRIGGER",
        ffi::SQLITE_CONSTRAINT_DATATYPE => "SQLITE_CONSTRAINT_DATATYPE",
        ffi::SQLITE_CONSTRAINT_ROWID => "SQLITE_CONSTRAINT_ROWID",
        _ => return None,
    })
}

impl SqlDatabase {
    /// The database of object `id`; the connection opens on first use.
    pub fn open(store: Arc<dyn ObjectStore>, id: [u8; 32]) -> Result<SqlDatabase, SqlError> {
        let pages = PageFile::open(store, id)?;
        Ok(SqlDatabase {
            pages: Arc::new(Mutex::new(pages)),
            conn: None,
            guard: Arc::new(Guard::default()),
            savepoint_depth: 0,
        })
    }

    pub fn pages(&self) -> &SharedPageFile {
        &self.pages
    }

    /// Writes not yet taken into a batch.
    pub fn has_dirty(&self) -> bool {
        vfs::lock(&self.pages).has_dirty()
    }

    fn connection(&mut self) -> Result<&Connection, SqlError> {
        if self.conn.is_none() {
            self.conn = Some(self.connect()?);
        }
        self.conn
            .as_ref()
            .ok_or_else(|| SqlError::Message("SQL database is not open".into()))
    }

    fn connect(&self) -> Result<Connection, SqlError> {
        if !vfs::register() {
            return Err(SqlError::Message(
                "SQL storage is unavailable: SQLite refused Kiln's VFS".into(),
            ));
        }
        let name = next_file_name();
        vfs::open_pending(&name, Arc::clone(&self.pages));
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let opened = Connection::open_with_flags_and_vfs(&name, flags, vfs::VFS_NAME);
        vfs::take_pending(&name);
        let conn =
            opened.map_err(|err| SqlError::Message(format!("cannot open SQL database: {err}")))?;
        let setup = format!(
            "PRAGMA page_size = {PAGE_BYTES}; PRAGMA locking_mode = EXCLUSIVE; \
             PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF; \
             PRAGMA temp_store = MEMORY; PRAGMA cache_size = -{CACHE_KIB}; \
             PRAGMA foreign_keys = ON;"
        );
        conn.execute_batch(&setup)
            .map_err(|err| SqlError::Message(format!("cannot set up SQL database: {err}")))?;
        for (limit, value) in [
            (Limit::SQLITE_LIMIT_SQL_LENGTH, STATEMENT_BYTES_MAX),
            (Limit::SQLITE_LIMIT_VARIABLE_NUMBER, BOUND_PARAMETERS_MAX),
            (Limit::SQLITE_LIMIT_COLUMN, COLUMNS_MAX),
            (Limit::SQLITE_LIMIT_LENGTH, VALUE_BYTES_MAX),
            (Limit::SQLITE_LIMIT_FUNCTION_ARG, FUNCTION_ARGS_MAX),
            (
                Limit::SQLITE_LIMIT_LIKE_PATTERN_LENGTH,
                LIKE_PATTERN_BYTES_MAX,
            ),
            (Limit::SQLITE_LIMIT_ATTACHED, 0),
        ] {
            conn.set_limit(limit, value)
                .map_err(|err| SqlError::Message(format!("cannot limit SQL database: {err}")))?;
        }
        let guard = Arc::clone(&self.guard);
        conn.authorizer(Some(move |context: AuthContext<'_>| {
            authorize(&guard, context)
        }));
        let guard = Arc::clone(&self.guard);
        conn.progress_handler(
            PROGRESS_STEPS,
            Some(move || {
                let deadline = *guard.deadline.lock().unwrap_or_else(|p| p.into_inner());
                let late = deadline.is_some_and(|(began, budget)| {
                    thread_cpu_now().saturating_sub(began) >= budget
                });
                if late {
                    guard.stopped_by_deadline.store(true, Ordering::Relaxed);
                }
                late
            }),
        );
        Ok(conn)
    }

    /// Whether a connection (and its page cache) is open.
    pub fn connected(&self) -> bool {
        self.conn.is_some()
    }

    /// Closes the connection to free its page cache; the next call reopens it from the page
    /// file, which keeps every write (no transaction is open between calls).
    pub fn disconnect(&mut self) {
        if self.savepoint_depth == 0 {
            self.conn = None;
        }
    }

    /// Forgets the connection (its page cache); the next call reopens it from the page file.
    fn reconnect(&mut self) {
        self.conn = None;
        self.savepoint_depth = 0;
    }

    /// `deleteAll()`: the database becomes empty, in the batch that deletes the keys.
    pub fn wipe(&mut self) {
        self.reconnect();
        vfs::lock(&self.pages).wipe();
    }

    /// The object was aborted: writes not yet in a batch are dropped.
    pub fn discard(&mut self) {
        self.reconnect();
        vfs::lock(&self.pages).discard();
    }

    fn error(&self, err: rusqlite::Error) -> SqlError {
        if self
            .guard
            .stopped_by_deadline
            .swap(false, Ordering::Relaxed)
        {
            return SqlError::CpuLimit;
        }
        let refusal = self
            .guard
            .refusal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        match err {
            rusqlite::Error::SqliteFailure(failure, message) => {
                if failure.code == rusqlite::ErrorCode::AuthorizationForStatementDenied {
                    if let Some(refusal) = refusal {
                        return SqlError::Message(refusal);
                    }
                }
                let code = failure.extended_code;
                let mut text = message.unwrap_or_else(|| failure.to_string());
                if let Some(conn) = &self.conn {
                    // SAFETY: the handle is the live connection's; the call only reads its state.
                    let offset = unsafe { ffi::sqlite3_error_offset(conn.handle()) };
                    if offset >= 0 {
                        text.push_str(&format!(" at offset {offset}"));
                    }
                }
                text.push_str(": ");
                text.push_str(code_name(code & 0xff));
                if let Some(extended) = extended_name(code) {
                    text.push_str(&format!(" (extended: {extended})"));
                }
                SqlError::Message(text)
            }
            rusqlite::Error::SqlInputError {
                error, msg, offset, ..
            } => {
                let mut text = format!(
                    "{msg} at offset {offset}: {}",
                    code_name(error.extended_code & 0xff)
                );
                if let Some(extended) = extended_name(error.extended_code) {
                    text.push_str(&format!(" (extended: {extended})"));
                }
                SqlError::Message(text)
            }
            other => SqlError::Message(other.to_string()),
        }
    }

    /// Runs every statement of `query`; the last one gets `bindings` and gives the rows. SQL
    /// stops once it used `cpu_budget` of this thread's CPU.
    pub fn exec(
        &mut self,
        query: &str,
        bindings: &[SqlValue],
        cpu_budget: Option<Duration>,
    ) -> Result<ExecResult, SqlError> {
        *self
            .guard
            .deadline
            .lock()
            .unwrap_or_else(|p| p.into_inner()) =
            cpu_budget.map(|budget| (thread_cpu_now(), budget));
        self.guard
            .stopped_by_deadline
            .store(false, Ordering::Relaxed);
        self.connection()?;
        let outcome = self.run(query, bindings);
        outcome.map_err(|err| match err {
            Failure::Sql(err) => self.error(err),
            Failure::Kiln(err) => err,
        })
    }

    fn run(&self, query: &str, bindings: &[SqlValue]) -> Result<ExecResult, Failure> {
        let conn = self
            .conn
            .as_ref()
            .ok_or_else(|| Failure::Kiln(SqlError::Message("SQL database is not open".into())))?;
        let changes_before = conn.total_changes();
        let mut result = ExecResult::default();
        let mut rest = query;
        let mut ran_any = false;
        loop {
            rest = rest.trim_start();
            if rest.is_empty() {
                break;
            }
            // The extent of the next statement, found by preparing it alone; a statement is
            // prepared only once the ones before it ran (it may name a table they created).
            let Some(extent) = statement_extent(conn, rest) else {
                // Preparing fails: rusqlite reports the same failure with its message.
                return Err(Failure::Sql(
                    conn.prepare(rest)
                        .err()
                        .unwrap_or(rusqlite::Error::InvalidQuery),
                ));
            };
            let (text, following) = rest.split_at(extent);
            rest = following;
            if is_blank(text) {
                // Only a comment or a lone semicolon: nothing to run.
                continue;
            }
            let last = is_blank(following);
            let mut current = conn.prepare(text).map_err(Failure::Sql)?;
            ran_any = true;
            if !last && current.parameter_count() > 0 {
                return Err(Failure::Kiln(SqlError::Message(
                    "When executing multiple SQL statements in a single call, only the last statement can have parameters.".into(),
                )));
            }
            if last {
                if current.parameter_count() != bindings.len() {
                    return Err(Failure::Kiln(SqlError::Message(
                        "Wrong number of parameter bindings for SQL query.".into(),
                    )));
                }
                for (i, value) in bindings.iter().enumerate() {
                    let bound = match value {
                        SqlValue::Null => current.raw_bind_parameter(i + 1, rusqlite::types::Null),
                        SqlValue::Number(n) => current.raw_bind_parameter(i + 1, *n),
                        SqlValue::Text(t) => current.raw_bind_parameter(i + 1, t.as_str()),
                        SqlValue::Blob(b) => current.raw_bind_parameter(i + 1, b.as_slice()),
                    };
                    bound.map_err(Failure::Sql)?;
                }
                result.columns = current
                    .column_names()
                    .into_iter()
                    .map(str::to_owned)
                    .collect();
            }
            let columns = current.column_count();
            let mut returned = 0u64;
            let mut bytes = 0usize;
            {
                let mut rows = current.raw_query();
                while let Some(row) = rows.next().map_err(Failure::Sql)? {
                    returned += 1;
                    if !last {
                        continue;
                    }
                    for column in 0..columns {
                        let value = match row.get_ref(column).map_err(Failure::Sql)? {
                            ValueRef::Null => SqlValue::Null,
                            ValueRef::Integer(i) => SqlValue::Number(i as f64),
                            ValueRef::Real(r) => SqlValue::Number(r),
                            ValueRef::Text(t) => {
                                bytes += t.len();
                                SqlValue::Text(String::from_utf8_lossy(t).into_owned())
                            }
                            ValueRef::Blob(b) => {
                                bytes += b.len();
                                SqlValue::Blob(b.to_vec())
                            }
                        };
                        bytes += 16;
                        result.values.push(value);
                    }
                    if bytes > RESULT_BYTES_MAX {
                        return Err(Failure::Kiln(SqlError::Message(
                            "SQL query result set is too large to fit in memory. Use a streaming iterator (e.g. `for (const row of cursor)` or `cursor.raw()`) or add a LIMIT clause instead of calling toArray() on a very large result set.".into(),
                        )));
                    }
                }
            }
            let scanned = current.get_status(rusqlite::StatementStatus::FullscanStep);
            result.rows_read += returned.max(u64::try_from(scanned).unwrap_or(0));
        }
        if !ran_any {
            return Err(Failure::Kiln(SqlError::Message(
                "SQL code did not contain a statement.".into(),
            )));
        }
        result.rows_written = conn.total_changes().saturating_sub(changes_before);
        Ok(result)
    }

    /// Opens a savepoint for `transactionSync`.
    pub fn begin_savepoint(&mut self) -> Result<u32, SqlError> {
        let depth = self.savepoint_depth;
        self.internal(&format!("SAVEPOINT _cf_sync_savepoint_{depth}"))?;
        self.savepoint_depth += 1;
        Ok(depth)
    }

    /// Ends the savepoint `depth`, keeping its writes or (`rollback`) undoing them.
    pub fn end_savepoint(&mut self, depth: u32, rollback: bool) -> Result<(), SqlError> {
        if rollback {
            self.internal(&format!("ROLLBACK TO _cf_sync_savepoint_{depth}"))?;
        }
        self.internal(&format!("RELEASE _cf_sync_savepoint_{depth}"))?;
        self.savepoint_depth = depth;
        Ok(())
    }

    fn internal(&mut self, sql: &str) -> Result<(), SqlError> {
        self.connection()?;
        self.guard.internal.store(true, Ordering::Relaxed);
        let outcome = match &self.conn {
            Some(conn) => conn.execute_batch(sql),
            None => Ok(()),
        };
        self.guard.internal.store(false, Ordering::Relaxed);
        outcome.map_err(|err| self.error(err))
    }

    /// `sql.databaseSize`: bytes in use (pages not on the free list).
    pub fn size(&mut self) -> Result<f64, SqlError> {
        self.connection()?;
        let Some(conn) = &self.conn else {
            return Ok(0.0);
        };
        self.guard.internal.store(true, Ordering::Relaxed);
        let counted = conn.query_row(
            "SELECT page_count, freelist_count FROM pragma_page_count(), pragma_freelist_count()",
            [],
            |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)),
        );
        self.guard.internal.store(false, Ordering::Relaxed);
        let (pages, free) = counted.map_err(|err| SqlError::Message(err.to_string()))?;
        Ok(((pages - free).max(0) as f64) * PAGE_BYTES as f64)
    }
}

/// Bytes of `sql` its first statement takes (through its semicolon), or `None` when it does not
/// prepare.
fn statement_extent(conn: &Connection, sql: &str) -> Option<usize> {
    let len = std::ffi::c_int::try_from(sql.len()).ok()?;
    let mut statement = std::ptr::null_mut();
    let mut tail = std::ptr::null();
    // SAFETY: the handle is the live connection's; `sql` outlives the call and its length is
    // given, so SQLite reads no further; the statement is finalized before returning.
    unsafe {
        let rc = ffi::sqlite3_prepare_v2(
            conn.handle(),
            sql.as_ptr().cast(),
            len,
            &mut statement,
            &mut tail,
        );
        ffi::sqlite3_finalize(statement);
        if rc != ffi::SQLITE_OK || tail.is_null() {
            return None;
        }
        let used = tail.cast::<u8>().offset_from(sql.as_ptr());
        let used = usize::try_from(used).ok()?;
        (used > 0 && used <= sql.len()).then_some(used)
    }
}

/// Only comments, whitespace and semicolons.
fn is_blank(sql: &str) -> bool {
    let mut rest = sql.trim_start_matches(|c: char| c.is_whitespace() || c == ';');
    while !rest.is_empty() {
        if let Some(line) = rest.strip_prefix("--") {
            rest = line.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(block) = rest.strip_prefix("/*") {
            rest = block.split_once("*/").map_or("", |(_, after)| after);
        } else {
            return false;
        }
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ';');
    }
    true
}

enum Failure {
    Sql(rusqlite::Error),
    Kiln(SqlError),
}
