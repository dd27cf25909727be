// ctx.storage.sql (SqlStorage) and its cursors, over the object's SQLite database in Rust
// (runtime/src/sql). exec() runs the whole query at once, as workerd does for writes; the rows
// it returns are then read through the cursor. Writes mark the storage dirty, so they commit
// with the turn's other writes and hold the output gate like them.
const SQL_NOT_BACKED = "Durable Object is not backed by SQL.";

// A JavaScript value as SQLite gets it: workerd binds numbers as REAL, buffers as BLOB, and
// turns anything else into its string.
function sqlBinding(value) {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case "number":
    case "string":
      return value;
    case "bigint":
      throw new TypeError("Cannot convert a BigInt value to a number");
    case "symbol":
      throw new TypeError("Cannot convert a Symbol value to a string");
  }
  if (value instanceof ArrayBuffer) return value;
  if (ArrayBuffer.isView(value)) return value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength);
  return String(value);
}

const IteratorPrototype = globalThis.Iterator?.prototype ?? Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));

class SqlStorageCursor {
  #columns;
  #values;
  #width;
  #rows;
  #next = 0;
  #rowsRead;
  #rowsWritten;

  constructor(result) {
    this.#columns = result[0];
    this.#values = result[1];
    this.#width = this.#columns.length;
    this.#rows = this.#width === 0 ? 0 : this.#values.length / this.#width;
    this.#rowsRead = result[2];
    this.#rowsWritten = result[3];
  }

  get columnNames() { return this.#columns.slice(); }
  get rowsRead() { return this.#rowsRead; }
  get rowsWritten() { return this.#rowsWritten; }

  #take(raw) {
    const base = this.#next * this.#width;
    this.#next++;
    const values = this.#values;
    const columns = this.#columns;
    if (raw) return values.slice(base, base + this.#width);
    const row = {};
    for (let i = 0; i < columns.length; i++) row[columns[i]] = values[base + i];
    return row;
  }

  next() {
    if (this.#next >= this.#rows) return { done: true, value: undefined };
    return { done: false, value: this.#take(false) };
  }

  toArray() {
    const rows = [];
    while (this.#next < this.#rows) rows.push(this.#take(false));
    return rows;
  }

  one() {
    if (this.#next >= this.#rows) {
      throw new Error("Expected exactly one result from SQL query, but got no results.");
    }
    const row = this.#take(false);
    if (this.#next < this.#rows) {
      this.#next = this.#rows;
      throw new Error("Expected exactly one result from SQL query, but got multiple results.");
    }
    return row;
  }

  // An iterator of arrays of values, sharing this cursor's position.
  raw() {
    const cursor = this;
    const iterator = Object.create(IteratorPrototype);
    iterator.next = () => cursor.#next >= cursor.#rows
      ? { done: true, value: undefined }
      : { done: false, value: cursor.#take(true) };
    iterator.toArray = () => {
      const rows = [];
      while (cursor.#next < cursor.#rows) rows.push(cursor.#take(true));
      return rows;
    };
    iterator[Symbol.iterator] = function () { return this; };
    return iterator;
  }

  [Symbol.iterator]() { return this; }
}

class SqlStorage {
  #storage;

  constructor(storage) {
    this.#storage = storage;
  }

  exec(query, ...bindings) {
    const handle = this.#storage.sqlHandle();
    const args = bindings.map(sqlBinding);
    let result;
    try {
      result = ops.op_sql_exec(handle, String(query), args);
    } catch (err) {
      if (ops.op_sql_dirty(handle)) this.#storage.sqlWritten();
      throw err;
    }
    if (result[4]) this.#storage.sqlWritten();
    return new SqlStorageCursor(result);
  }

  get databaseSize() {
    return ops.op_sql_size(this.#storage.sqlHandle());
  }

  get Cursor() { return SqlStorageCursor; }
}

// ctx.storage.kv: the synchronous key-value API of SQLite-backed objects, over the same data
// as the asynchronous one.
class SyncKvStorage {
  #storage;

  constructor(storage) {
    this.#storage = storage;
  }

  get(key) {
    const text = this.#storage.lookup(checkKey(key));
    return text === undefined ? undefined : deserializeValue(text);
  }

  put(key, value) {
    key = checkKey(key);
    this.#storage.write(key, serializeStored(value, this.#storage.valueMax(key)));
  }

  delete(key) {
    key = checkKey(key);
    const existed = this.#storage.lookup(key) !== undefined;
    this.#storage.write(key, null);
    return existed;
  }

  list(options = {}) {
    return this.#storage.listEntries(options, []).entries();
  }
}
