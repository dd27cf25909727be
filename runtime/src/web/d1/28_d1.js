// D1: `env.DB` of a `d1_databases` binding. A database is one SQLite-backed object of Kiln's own
// class (D1DatabaseObject, below), so its queries run one at a time in one place, commit with the
// object's output gate (fsynced, and replicated in a cluster) and a batch is one transaction.
// The binding (D1Database, D1PreparedStatement, sessions) turns calls into RPC to that object
// and its answers into D1's result shape; errors carry D1's prefixes (`D1_ERROR: ...`).
const D1_CLASS = "__kiln_d1";
const D1_OBJECT_NAME = "database"; // object/mod.rs D1_OBJECT_NAME
const D1_BOOKMARK_KEY = "__kiln_d1_bookmark";

// A value as D1 binds it: booleans become 1 or 0; undefined, symbols, functions and plain objects
// are refused.
function d1Binding(value) {
  if (value === null) return null;
  switch (typeof value) {
    case "number":
    case "string":
      return value;
    case "boolean":
      return value ? 1 : 0;
    case "bigint":
      if (value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
      break;
  }
  if (value instanceof ArrayBuffer) return value;
  if (ArrayBuffer.isView(value)) return value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength);
  throw new Error(`D1_TYPE_ERROR: Type '${typeof value}' not supported for value '${String(value)}'`);
}

class D1PreparedStatement {
  #database;
  #query;
  #params;
  constructor(database, query, params) {
    this.#database = database;
    this.#query = query;
    this.#params = params;
  }
  get statement() { return this.#query; }
  get params() { return this.#params; }
  bind(...values) {
    return new D1PreparedStatement(this.#database, this.#query, values.map(d1Binding));
  }
  async first(column = undefined) {
    const result = await this.#database._query(this.#query, this.#params, "objects");
    const row = result.results[0];
    if (row === undefined) return null;
    if (column === undefined) return row;
    if (!(column in row)) throw new Error("D1_COLUMN_NOTFOUND: Column not found");
    return row[column];
  }
  all() { return this.#database._query(this.#query, this.#params, "objects"); }
  run() { return this.#database._query(this.#query, this.#params, "objects"); }
  async raw(options = {}) {
    const result = await this.#database._query(this.#query, this.#params, "raw");
    const rows = result.results;
    return options?.columnNames ? [result.columns, ...rows] : rows;
  }
}

function d1Result(answer) {
  return {
    success: true,
    meta: {
      served_by: "kiln",
      served_by_region: "local",
      served_by_primary: true,
      duration: answer.duration,
      changes: answer.changes,
      last_row_id: answer.lastRowId,
      changed_db: answer.changes > 0,
      size_after: answer.sizeAfter,
      rows_read: answer.rowsRead,
      rows_written: answer.rowsWritten,
      timings: { sql_duration_ms: answer.duration },
      total_attempts: 1,
    },
    results: answer.rows,
  };
}

// The database's object, reached through the hidden namespace at `index`.
class D1Database {
  #index;
  #stub = null;
  constructor(index) {
    this.#index = index;
  }
  #object() {
    if (this.#stub === null) {
      const namespace = new DurableObjectNamespace(this.#index);
      this.#stub = namespace.get(namespace.idFromName(D1_OBJECT_NAME));
    }
    return this.#stub;
  }
  prepare(query) {
    if (arguments.length === 0) throw new TypeError("D1Database.prepare: 1 argument required.");
    return new D1PreparedStatement(this, String(query), []);
  }
  async _query(query, params, mode, onBookmark = undefined) {
    const answer = await this.#object().query(query, params, mode);
    onBookmark?.(answer.bookmark);
    const result = d1Result(answer);
    if (mode === "raw") result.columns = answer.columns;
    return result;
  }
  async batch(statements, onBookmark = undefined) {
    if (!Array.isArray(statements)) throw new TypeError("D1Database.batch: statements must be an array.");
    for (const statement of statements) {
      if (!(statement instanceof D1PreparedStatement)) throw new TypeError("D1Database.batch: every statement must be a D1PreparedStatement.");
    }
    const answers = await this.#object().batch(statements.map((s) => [s.statement, s.params]));
    if (answers.length > 0) onBookmark?.(answers[answers.length - 1].bookmark);
    return answers.map(d1Result);
  }
  async exec(query) {
    return this.#object().exec(String(query));
  }
  async dump() {
    throw new Error("D1_DUMP_ERROR: Database dumps are not supported by Kiln.");
  }
  withSession(constraint = "first-unconstrained") {
    return new D1DatabaseSession(this, constraint);
  }
}

// Sessions give read-your-writes; a Kiln database has one copy, so every read sees every write.
// A session's bookmark is the database's after the session's latest query (D1's format).
class D1DatabaseSession {
  #database;
  #bookmark;
  constructor(database, constraint) {
    this.#database = database;
    this.#bookmark = typeof constraint === "string" && !constraint.startsWith("first-") ? constraint : null;
  }
  prepare(query) {
    if (arguments.length === 0) throw new TypeError("D1DatabaseSession.prepare: 1 argument required.");
    return new D1PreparedStatement(this, String(query), []);
  }
  _query(query, params, mode) {
    return this.#database._query(query, params, mode, (bookmark) => { this.#bookmark = bookmark; });
  }
  batch(statements) {
    return this.#database.batch(statements, (bookmark) => { this.#bookmark = bookmark; });
  }
  getBookmark() { return this.#bookmark; }
}

// The object that holds one database. Its methods run inside the actor, one event at a time.
class D1DatabaseObject {
  constructor(ctx) {
    this.ctx = ctx;
  }
  #run(query, params, mode) {
    const sql = this.ctx.storage.sql;
    const started = performance.now();
    let cursor;
    try {
      cursor = sql.exec(query, ...params);
    } catch (err) {
      throw new Error(`D1_ERROR: ${err.message}`, { cause: err });
    }
    const columns = cursor.columnNames;
    const raw = cursor.raw().toArray();
    const toValue = (value) => (value instanceof ArrayBuffer ? Array.from(new Uint8Array(value)) : value);
    const rows = mode === "raw"
      ? raw.map((row) => row.map(toValue))
      : raw.map((row) => {
        const out = {};
        columns.forEach((name, i) => { out[name] = toValue(row[i]); });
        return out;
      });
    const written = cursor.rowsWritten;
    let changes = 0;
    let lastRowId = 0;
    if (written > 0) {
      const info = sql.exec("SELECT changes() AS c, last_insert_rowid() AS id").one();
      changes = info.c;
      lastRowId = info.id;
    }
    // A Sessions API bookmark: D1's shape, counting this database's writes (kept beside its
    // tables, in the object's key-value storage, and committed with them).
    const kv = this.ctx.storage.kv;
    let version = kv.get(D1_BOOKMARK_KEY) ?? 0;
    if (written > 0) kv.put(D1_BOOKMARK_KEY, ++version);
    const bookmark = `00000000-${version.toString(16).padStart(8, "0")}-00000000-${"0".repeat(32)}`;
    return {
      rows, columns, changes, lastRowId, bookmark,
      rowsRead: cursor.rowsRead, rowsWritten: written,
      sizeAfter: sql.databaseSize,
      duration: performance.now() - started,
    };
  }
  query(query, params, mode) {
    return this.#run(query, params, mode);
  }
  batch(statements) {
    return this.ctx.storage.transactionSync(() => statements.map(([query, params]) => this.#run(query, params, "objects")));
  }
  // `kiln d1 execute` and `kiln d1 migrations apply`, through the admin API: the statements of
  // `query` in one transaction, and the last one's rows, as JSON.
  adminQuery(query) {
    const answer = this.ctx.storage.transactionSync(() => this.#run(String(query), [], "objects"));
    return JSON.stringify({ results: answer.rows, meta: { changes: answer.changes, rows_read: answer.rowsRead, rows_written: answer.rowsWritten, size_after: answer.sizeAfter } });
  }
  exec(query) {
    const started = performance.now();
    const statements = String(query).split(/;\s*(?:\n|$)/).map((s) => s.trim()).filter((s) => s.length > 0);
    this.ctx.storage.transactionSync(() => this.#run(String(query), [], "raw"));
    return { count: statements.length, duration: performance.now() - started };
  }
}
