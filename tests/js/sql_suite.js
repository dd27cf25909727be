// SQL storage (ctx.storage.sql, transactionSync, storage.kv) checked from inside objects: each
// check throws on a mismatch, and the worker answers with the list of failures.
import { DurableObject } from "cloudflare:workers";

function eq(actual, expected, what) {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

function throwsWith(fn, message, what, exact = false) {
  try {
    fn();
  } catch (err) {
    const text = String(err.message);
    if (exact ? text !== message : !text.includes(message)) {
      throw new Error(`${what}: threw ${err.name}: ${text}`);
    }
    return;
  }
  throw new Error(`${what}: did not throw`);
}

const TXN = "To execute a transaction, please use the state.storage.transaction() or state.storage.transactionSync() APIs instead of the SQL BEGIN TRANSACTION or SAVEPOINT statements. The JavaScript API is safer because it will automatically roll back on exceptions, and because it interacts correctly with Durable Objects' automatic atomic write coalescing.";

const checks = {
  rows(sql) {
    sql.exec("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age REAL, photo BLOB)");
    const insert = sql.exec("INSERT INTO people (name, age, photo) VALUES (?, ?, ?), (?, ?, ?)",
      "ada", 36, new Uint8Array([1, 2, 3]), "alan", null, null);
    eq(insert.rowsWritten, 2, "rowsWritten of an insert");
    eq(insert.columnNames, [], "an insert has no columns");
    eq(insert.toArray(), [], "an insert has no rows");
    const cursor = sql.exec("SELECT id, name, age FROM people ORDER BY id");
    eq(cursor.columnNames, ["id", "name", "age"], "columnNames");
    eq(cursor.toArray(), [{ id: 1, name: "ada", age: 36 }, { id: 2, name: "alan", age: null }], "rows as objects");
    eq(cursor.rowsRead >= 2, true, "rowsRead counts the rows read");
    eq(sql.exec("SELECT name FROM people ORDER BY id").raw().toArray(), [["ada"], ["alan"]], "raw()");
    eq([...sql.exec("SELECT id FROM people ORDER BY id")], [{ id: 1 }, { id: 2 }], "iterable");
    const names = [];
    for (const row of sql.exec("SELECT name FROM people ORDER BY id DESC")) names.push(row.name);
    eq(names, ["alan", "ada"], "for-of");
    const next = sql.exec("SELECT id FROM people WHERE id = 1");
    eq(next.next(), { done: false, value: { id: 1 } }, "next()");
    eq(next.next().done, true, "next() at the end");
    const photo = sql.exec("SELECT photo FROM people WHERE id = ?", 1).one().photo;
    eq(photo instanceof ArrayBuffer, true, "a BLOB is an ArrayBuffer");
    eq([...new Uint8Array(photo)], [1, 2, 3], "BLOB bytes");
    eq(sql.exec("SELECT typeof(?) AS t", 5).one().t, "real", "numbers bind as REAL");
    eq(sql.exec("SELECT ? AS v", true).one().v, "true", "other values bind as their string");
    eq(sql.exec("SELECT 9007199254740993 AS big").one().big, 9007199254740992, "INTEGER becomes a number");
    eq(sql.exec("SELECT 1 AS a, 2 AS a").toArray(), [{ a: 2 }], "the later duplicate column wins");
    eq(sql.exec("SELECT 1 AS a, 2 AS a").columnNames, ["a", "a"], "columnNames keeps duplicates");
  },
  errors(sql) {
    sql.exec("CREATE TABLE t (id INTEGER PRIMARY KEY)");
    sql.exec("INSERT INTO t VALUES (1), (2)");
    throwsWith(() => sql.exec("SELECT * FROM t").one(), "Expected exactly one result from SQL query, but got multiple results.", "one() of two rows", true);
    throwsWith(() => sql.exec("SELECT * FROM t WHERE id = 3").one(), "Expected exactly one result from SQL query, but got no results.", "one() of no rows", true);
    throwsWith(() => sql.exec("BEGIN TRANSACTION"), TXN, "BEGIN", true);
    throwsWith(() => sql.exec("SAVEPOINT foo"), TXN, "SAVEPOINT", true);
    throwsWith(() => sql.exec("SELECT * FROM nope"), "no such table: nope: SQLITE_ERROR", "missing table", true);
    throwsWith(() => sql.exec("SELEC 1"), "syntax error at offset 0: SQLITE_ERROR", "syntax error");
    let firstLine = "";
    try { sql.exec("SELECT * FROM nope"); } catch (err) { firstLine = err.stack.split("\n")[0]; }
    eq(firstLine, "Error: no such table: nope: SQLITE_ERROR", "an error's stack starts with its message");
    throwsWith(() => sql.exec("INSERT INTO t VALUES (1)"), "UNIQUE constraint failed: t.id: SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_PRIMARYKEY)", "constraint", true);
    throwsWith(() => sql.exec("CREATE TABLE _cf_mine (a)"), "not authorized: SQLITE_AUTH", "_cf_ tables", true);
    throwsWith(() => sql.exec("PRAGMA journal_mode = DELETE"), "not authorized: SQLITE_AUTH", "pragma not allowed", true);
    throwsWith(() => sql.exec("ATTACH DATABASE 'x' AS x"), "SQLITE_AUTH", "attach");
    throwsWith(() => sql.exec("SELECT ?", 1, 2), "Wrong number of parameter bindings for SQL query.", "too many bindings", true);
    throwsWith(() => sql.exec("SELECT 1; SELECT ?", 1) && sql.exec("SELECT ?; SELECT 1", 1), "When executing multiple SQL statements in a single call, only the last statement can have parameters.", "parameters before the last statement", true);
    throwsWith(() => sql.exec("  "), "SQL code did not contain a statement.", "empty query", true);
    throwsWith(() => sql.exec("SELECT ?", 1n), "Cannot convert a BigInt value to a number", "BigInt binding");
    eq(sql.exec("PRAGMA table_info(t)").toArray().map((c) => c.name), ["id"], "table_info is allowed");
    eq(sql.exec("SELECT count(*) AS n FROM t").one().n, 2, "a failed statement changed nothing");
  },
  batches(sql) {
    const last = sql.exec("CREATE TABLE m (x); INSERT INTO m VALUES (1); INSERT INTO m VALUES (2); SELECT sum(x) AS s FROM m");
    eq(last.one().s, 3, "every statement ran; the last one's rows come back");
  },
  transactions(sql, storage) {
    sql.exec("CREATE TABLE acct (n INTEGER)");
    sql.exec("INSERT INTO acct VALUES (10)");
    eq(storage.transactionSync(() => {
      sql.exec("UPDATE acct SET n = n + 1");
      return "kept";
    }), "kept", "transactionSync returns the callback's value");
    throwsWith(() => storage.transactionSync(() => {
      sql.exec("UPDATE acct SET n = 0");
      storage.kv.put("inside", 1);
      throw new Error("boom");
    }), "boom", "a throw propagates");
    eq(sql.exec("SELECT n FROM acct").one().n, 11, "a throw rolls SQL back");
    eq(storage.kv.get("inside"), undefined, "a throw rolls key-value writes back");
    storage.transactionSync(() => {
      sql.exec("UPDATE acct SET n = 20");
      try {
        storage.transactionSync(() => {
          sql.exec("UPDATE acct SET n = 30");
          throw new Error("inner");
        });
      } catch {}
    });
    eq(sql.exec("SELECT n FROM acct").one().n, 20, "an inner rollback keeps the outer writes");
  },
  syncKv(sql, storage) {
    storage.kv.put("k1", { a: 1 });
    storage.kv.put("k2", [2]);
    eq(storage.kv.get("k1"), { a: 1 }, "kv.get");
    eq([...storage.kv.list({ prefix: "k" })], [["k1", { a: 1 }], ["k2", [2]]], "kv.list");
    eq(storage.kv.delete("k2"), true, "kv.delete of a key");
    eq(storage.kv.delete("k2"), false, "kv.delete of a missing key");
    // SQLite-backed objects take a key and value of up to 2 MB together.
    storage.kv.put("large", "x".repeat(1500000));
    eq(storage.kv.get("large").length, 1500000, "a 1.5 MB value");
    let refused = "";
    try {
      storage.kv.put("huge", "x".repeat(2100000));
    } catch (err) {
      refused = `${err.name}: ${err.message}`;
    }
    eq(refused.startsWith("RangeError: Values cannot be larger than"), true, `a 2.1 MB value is refused (${refused})`);
    storage.kv.delete("large");
  },
  size(sql) {
    const before = sql.databaseSize;
    sql.exec("CREATE TABLE grow (x)");
    const after = sql.databaseSize;
    eq(after % 4096, 0, "databaseSize is whole pages");
    eq(after > before, true, "a new table grows the database");
  },
};

export class Notes extends DurableObject {
  async run() {
    const failures = [];
    for (const [name, check] of Object.entries(checks)) {
      try {
        check(this.ctx.storage.sql, this.ctx.storage);
      } catch (err) {
        failures.push(`${name}: ${err.message}`);
      }
    }
    // The SQL pages are not key-value data.
    const keys = [...(await this.ctx.storage.list()).keys()];
    try { eq(keys, ["k1"], "list() shows only key-value keys"); } catch (err) { failures.push(err.message); }
    const reversed = [...(await this.ctx.storage.list({ reverse: true, limit: 1 })).keys()];
    try { eq(reversed, ["k1"], "a reverse list() starts at the last user key"); } catch (err) { failures.push(err.message); }
    return failures;
  }
  add(text) {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, text TEXT)");
    this.ctx.storage.sql.exec("INSERT INTO log (text) VALUES (?)", text);
    return this.ctx.storage.sql.exec("SELECT count(*) AS n FROM log").one().n;
  }
  all() {
    try {
      return this.ctx.storage.sql.exec("SELECT text FROM log ORDER BY id").toArray().map((row) => row.text);
    } catch (err) {
      return String(err.message);
    }
  }
  async wipe() {
    await this.ctx.storage.deleteAll();
    return this.ctx.storage.sql.exec("SELECT name FROM sqlite_master").toArray();
  }
  spin() {
    return this.ctx.storage.sql.exec("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) AS n FROM c").one().n;
  }
}

export class Plain extends DurableObject {
  check() {
    const failures = [];
    const sql = this.ctx.storage.sql;
    for (const [what, fn, message] of [
      ["exec", () => sql.exec("SELECT 1"), "SQL is not enabled for this Durable Object class."],
      ["transactionSync", () => this.ctx.storage.transactionSync(() => 1), "Durable Object is not backed by SQL."],
      ["kv", () => this.ctx.storage.kv.get("a"), "The storage.kv (synchronous KV) API is only available for SQLite-backed Durable Objects"],
    ]) {
      try { throwsWith(fn, message, what); } catch (err) { failures.push(err.message); }
    }
    return failures;
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, kind, name, action] = url.pathname.split("/");
    const json = (value) => Response.json(value);
    if (kind === "plain") return json(await env.PLAIN.getByName(name).check());
    const notes = env.NOTES.getByName(name);
    switch (action) {
      case "run": return json(await notes.run());
      case "add": return json(await notes.add(url.searchParams.get("text")));
      case "all": return json(await notes.all());
      case "wipe": return json(await notes.wipe());
      case "spin":
        try {
          return json(await notes.spin());
        } catch (err) {
          return json({ error: err.message });
        }
    }
    return new Response("not found", { status: 404 });
  },
};
