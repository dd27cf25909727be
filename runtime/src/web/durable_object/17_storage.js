// ctx.storage: the Durable Object key-value API over an in-memory cache and a write buffer.
//
// Writes land in the buffer and are visible to the next read at once. The buffer is committed
// as one atomic batch at the end of the turn (when JavaScript next yields to the event loop),
// so writes with no await between them commit all or nothing. Batches in flight stay readable
// until they are durable. The output gate: `waitDurable()` resolves once every write made so
// far is durable; responses, RPC results, subrequests and WebSocket frames wait for it.
const STORAGE_KEYS_MAX = 128;
const STORAGE_KEY_BYTES_MAX = 2048;
const STORAGE_VALUE_BYTES_MAX = 128 * 1024;
// SQLite-backed objects: a key and its value together (Cloudflare: 2 MB).
const STORAGE_SQL_ENTRY_BYTES_MAX = 2000000;
const STORAGE_CACHE_ENTRIES_MAX = 10000;
const FACET_ALARM_UNSUPPORTED = "Kiln does not support alarms in facets yet: an alarm belongs to the top-level Durable Object.";
const kilnSetTimeout = globalThis.setTimeout;
// A later turn of the event loop, after this turn's microtasks, without a timer's millisecond.
const nextTurn = (callback) => ops.op_timers_defer(callback);

// Storages with writes not yet durable, for the isolate-wide output gate of subrequests.
const undurableStorages = new Set();
// Batches in flight that hold output gates (not allowUnconfirmed), isolate-wide, oldest first:
// sequence number -> promise.
const heldBatches = new Map();
let batchSeq = 0;

// The output gate of subrequests (fetch(), stub calls): JavaScript cannot tell which object's
// code makes a subrequest once it has awaited something, so one waits for every write made so
// far in the isolate. Returns undefined, not a promise, when none is in flight.
function waitForOutputGates() {
  if (undurableStorages.size === 0) return undefined;
  undurableStorages.forEach((storage) => storage.flush());
  if (heldBatches.size === 0) return undefined;
  return waitBatchesUpTo(batchSeq);
}

// Waits for the newest held batch up to `seq` (durability follows log order, so the older ones
// are usually settled by then), then for any older one still in flight.
async function waitBatchesUpTo(seq) {
  for (;;) {
    let newest = null;
    heldBatches.forEach((promise, at) => {
      if (at <= seq) newest = promise;
    });
    if (newest === null) return;
    await newest;
  }
}

// Code point order, which is UTF-8 byte order (UTF-16 order differs around surrogates).
function compareKeys(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i), y = b.charCodeAt(i);
    if (x !== y) {
      const sx = x >= 0xd800 && x <= 0xdfff, sy = y >= 0xd800 && y <= 0xdfff;
      if (sx !== sy) return sx ? 1 : -1;
      return x - y;
    }
  }
  return a.length - b.length;
}

// Short strings are counted here; longer ones natively (a JavaScript loop over megabytes of
// text costs the interpreter tens of milliseconds).
const UTF8_LENGTH_NATIVE_FROM = 256;
function utf8Length(text) {
  if (text.length >= UTF8_LENGTH_NATIVE_FROM) {
    const bytes = ops.op_text_bytes(text, false)[0];
    if (bytes >= 0) return bytes;
  }
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) { bytes += 4; i++; }
    else bytes += 3;
  }
  return bytes;
}

function checkKey(key) {
  key = String(key);
  // A UTF-16 code unit is at most 3 UTF-8 bytes: short keys need no count.
  if (key.length * 3 <= STORAGE_KEY_BYTES_MAX) return key;
  const size = utf8Length(key);
  if (size > STORAGE_KEY_BYTES_MAX) {
    throw new RangeError(`Keys cannot be larger than ${STORAGE_KEY_BYTES_MAX} bytes. A key of size ${size} was provided.`);
  }
  return key;
}

function checkKeys(keys) {
  if (keys.length > STORAGE_KEYS_MAX) {
    throw new RangeError(`Maximum number of keys in a single operation is ${STORAGE_KEYS_MAX}, but ${keys.length} were provided.`);
  }
  return keys.map(checkKey);
}

// `max`: the largest value the object's backend takes, measured as V8 measures it (its text
// in Kiln's encoding is only a quick upper bound for most values).
function serializeStored(value, max = STORAGE_VALUE_BYTES_MAX) {
  if (value === undefined) throw new TypeError("Cannot store undefined; use delete() instead.");
  const text = serializeValue(value);
  if (text.length * 3 <= max) return text;
  if (utf8Length(text) <= max) return text;
  const size = v8SerializedBytes(value, max);
  if (size > max) {
    throw new RangeError(`Values cannot be larger than ${max} bytes. A value of size ${size} was provided.`);
  }
  return text;
}

function alarmTime(time) {
  const ms = time instanceof Date ? time.getTime() : time;
  if (typeof ms !== "number" || !Number.isFinite(ms)) {
    throw new TypeError("setAlarm() requires a Date or a number of milliseconds since the epoch.");
  }
  return Math.max(0, Math.floor(ms));
}

// Turns a storage method's body (synchronous: reads come from the cache or Rust, writes go to
// the buffer) into a promise, holding the actor's input gate until the microtasks it queued
// have run, so the code awaiting it continues before any other event starts. Queued events
// are let in on a later turn (Actor.maybeRelease). `allowConcurrency: true` leaves the gate
// open, as on Cloudflare.
function storageOp(actor, work, options = undefined) {
  // A reset object's instance may still be running code; nothing it does reaches storage.
  if (actor.broken) return Promise.reject(actor.broken);
  let result;
  try {
    result = Promise.resolve(work());
  } catch (err) {
    result = Promise.reject(err);
  }
  if (options?.allowConcurrency) return result;
  actor.storageOps++;
  result.then(actor.storageDone, actor.storageDone);
  return result;
}

class DurableObjectStorage {
  #actor;
  #cache = new Map(); // key -> serialized value, or undefined when known absent
  #dirty = new Map(); // key -> serialized value, or null for a delete
  #dirtyDeleteAll = false;
  #dirtyAlarm = undefined; // undefined: untouched, null: delete, number: set
  #dirtyConfirmed = false; // a buffered write holds the output gate (not allowUnconfirmed)
  #alarm = undefined; // committed alarm: undefined when not read yet
  #alarmFiring = false;
  #inflight = []; // committing batches, oldest first; the last may be queued (not sent yet)
  #committing = 0; // batches sent and not settled: 0 or 1
  #flushScheduled = false;
  #sqlHandle = 0; // the SQL database's handle once opened
  #sqlDirty = false; // the SQL database has writes not yet in a batch
  #dirtyReplies = []; // [request id hex, serialized result, Unix ms] of calls, with the writes
  #writeCount = 0; // writes made so far (any kind), so a call can tell whether it wrote
  #sql = undefined;
  #kv = undefined;

  constructor(actor) {
    this.#actor = actor;
  }

  // The latest serialized value of `key`, or undefined.
  lookup(key) {
    if (this.#dirty.has(key)) return this.#dirty.get(key) ?? undefined;
    if (this.#dirtyDeleteAll) return undefined;
    for (let i = this.#inflight.length - 1; i >= 0; i--) {
      const batch = this.#inflight[i];
      if (batch.writes.has(key)) return batch.writes.get(key) ?? undefined;
      if (batch.deleteAll) return undefined;
    }
    if (this.#cache.has(key)) return this.#cache.get(key);
    const value = ops.op_storage_get(this.#actor.idHex, key) ?? undefined;
    if (this.#cache.size >= STORAGE_CACHE_ENTRIES_MAX) this.#cache.clear();
    this.#cache.set(key, value);
    return value;
  }

  write(key, text, confirmed = true) {
    this.#dirty.set(key, text);
    this.#scheduleFlush(confirmed);
  }

  get(keys, options = {}) {
    return storageOp(this.#actor, () => {
      if (Array.isArray(keys)) {
        const result = new Map();
        for (const key of checkKeys(keys).sort(compareKeys)) {
          const text = this.lookup(key);
          if (text !== undefined) result.set(key, deserializeValue(text));
        }
        return result;
      }
      const text = this.lookup(checkKey(keys));
      return text === undefined ? undefined : deserializeValue(text);
    }, options);
  }

  put(keyOrEntries, value, options = {}) {
    return storageOp(this.#actor, () => {
      if (keyOrEntries !== null && typeof keyOrEntries === "object") {
        const keys = checkKeys(Object.keys(keyOrEntries));
        const texts = keys.map((key) => serializeStored(keyOrEntries[key], this.valueMax(key)));
        const confirmed = !value?.allowUnconfirmed;
        keys.forEach((key, i) => this.write(key, texts[i], confirmed));
        return;
      }
      const key = checkKey(keyOrEntries);
      this.write(key, serializeStored(value, this.valueMax(key)), !options?.allowUnconfirmed);
    }, keyOrEntries !== null && typeof keyOrEntries === "object" ? value : options);
  }

  delete(keys, options = {}) {
    return storageOp(this.#actor, () => {
      if (Array.isArray(keys)) {
        let count = 0;
        for (const key of checkKeys(keys)) {
          if (this.lookup(key) !== undefined) count++;
          this.write(key, null, !options?.allowUnconfirmed);
        }
        return count;
      }
      const key = checkKey(keys);
      const existed = this.lookup(key) !== undefined;
      this.write(key, null, !options?.allowUnconfirmed);
      return existed;
    }, options);
  }

  deleteAll(options = {}) {
    return storageOp(this.#actor, () => {
      this.#dirty.clear();
      this.#dirtyDeleteAll = true;
      // On a SQLite-backed object the SQL database goes too, as on Cloudflare.
      if (ops.op_sql_enabled(this.#actor.index)) {
        ops.op_sql_wipe(this.sqlHandle());
        this.#sqlDirty = true;
      }
      this.#scheduleFlush(!options?.allowUnconfirmed);
    }, options);
  }

  list(options = {}) {
    return storageOp(this.#actor, () => this.listEntries(options, []), options);
  }

  // `list()` over committed data, then batches in flight, the write buffer and `overlays` (a
  // transaction's writes: {writes, deleteAll}), newest last.
  listEntries(options, overlays) {
    options = options ?? {};
    let { start, startAfter, end, prefix, reverse, limit } = options;
    if (start !== undefined && startAfter !== undefined) {
      throw new TypeError("list() cannot be called with both start and startAfter values.");
    }
    if (limit !== undefined && (typeof limit !== "number" || !(limit > 0))) {
      throw new TypeError("List limit must be positive.");
    }
    start = start === undefined ? undefined : String(start);
    startAfter = startAfter === undefined ? undefined : String(startAfter);
    end = end === undefined ? undefined : String(end);
    prefix = prefix === undefined ? undefined : String(prefix);
    let lower = start ?? startAfter;
    let upper = end;
    if (prefix !== undefined && prefix !== "") {
      if (lower === undefined || compareKeys(lower, prefix) < 0) lower = prefix;
      const cp = prefix.codePointAt(prefix.length - 1);
      const stem = prefix.slice(0, prefix.length - (cp > 0xffff ? 2 : 1));
      const prefixEnd = cp < 0x10ffff ? stem + String.fromCodePoint(cp + 1) : undefined;
      if (prefixEnd !== undefined && (upper === undefined || compareKeys(prefixEnd, upper) < 0)) upper = prefixEnd;
    }
    const inRange = (key) =>
      (lower === undefined || compareKeys(key, lower) >= 0) &&
      (upper === undefined || compareKeys(key, upper) < 0) &&
      (startAfter === undefined || key !== startAfter) &&
      (prefix === undefined || key.startsWith(prefix));
    const layers = [...this.#inflight, { writes: this.#dirty, deleteAll: this.#dirtyDeleteAll }, ...overlays];
    let cleared = false;
    let pending = 0;
    for (const layer of layers) {
      if (layer.deleteAll) cleared = true;
      pending += layer.writes.size;
    }
    const merged = new Map();
    if (!cleared) {
      const extra = pending + (startAfter === undefined ? 0 : 1);
      const fetchLimit = limit === undefined ? undefined : Math.min(limit + extra, 2 ** 31 - 1);
      const flat = ops.op_storage_list(this.#actor.idHex, lower, upper, !!reverse, fetchLimit);
      for (let i = 0; i < flat.length; i += 2) merged.set(flat[i], flat[i + 1]);
    }
    for (const layer of layers) {
      if (layer.deleteAll) merged.clear();
      for (const [key, text] of layer.writes) {
        if (!inRange(key)) continue;
        if (text === null) merged.delete(key);
        else merged.set(key, text);
      }
    }
    const keys = [...merged.keys()].filter(inRange).sort(compareKeys);
    if (reverse) keys.reverse();
    const result = new Map();
    for (const key of keys) {
      if (limit !== undefined && result.size >= limit) break;
      result.set(key, deserializeValue(merged.get(key)));
    }
    return result;
  }

  getAlarm(options = {}) {
    return storageOp(this.#actor, () => this.currentAlarm(), options);
  }

  currentAlarm() {
    if (this.#dirtyAlarm !== undefined) return this.#dirtyAlarm;
    for (let i = this.#inflight.length - 1; i >= 0; i--) {
      if (this.#inflight[i].alarm !== undefined) return this.#inflight[i].alarm;
    }
    if (this.#alarmFiring && !this.#alarmTouched) return null;
    if (this.#alarm === undefined) this.#alarm = ops.op_storage_get_alarm(this.#actor.idHex) ?? null;
    return this.#alarm;
  }

  setAlarm(time, options = {}) {
    // A facet's alarm would wake its parent's class under the facet's id.
    if (this.#actor.facet !== undefined) return Promise.reject(new Error(FACET_ALARM_UNSUPPORTED));
    return storageOp(this.#actor, () => {
      this.#dirtyAlarm = alarmTime(time);
      this.#alarmTouched = true;
      this.#scheduleFlush();
    });
  }

  deleteAlarm(options = {}) {
    return storageOp(this.#actor, () => {
      this.#dirtyAlarm = null;
      this.#alarmTouched = true;
      this.#scheduleFlush();
    });
  }

  // The alarm handler is running: the alarm reads as unset, and unless the handler sets a new
  // one, it is deleted when the handler succeeds.
  // "Sets" counts whatever batch carried it: the write buffer may have been committed before the
  // handler returns (it awaited something), and that alarm must stay.
  beginAlarm() {
    this.#alarmFiring = true;
    this.#alarmTouched = false;
  }
  #alarmTouched = false; // setAlarm()/deleteAlarm() ran since the alarm handler began
  endAlarm(succeeded) {
    this.#alarmFiring = false;
    if (succeeded && !this.#alarmTouched) {
      this.#dirtyAlarm = null;
      this.#scheduleFlush();
    }
  }

  async transaction(closure) {
    const txn = new DurableObjectTransaction(this, this.#actor);
    let result;
    try {
      result = await closure(txn);
    } finally {
      txn.finish();
    }
    if (!txn.rolledBack) txn.applyTo(this);
    return result;
  }

  // Runs `closure` inside a SQL savepoint: if it throws, its SQL and key-value writes are undone.
  transactionSync(closure) {
    if (!ops.op_sql_enabled(this.#actor.index)) throw new Error(SQL_NOT_BACKED);
    const handle = this.sqlHandle();
    const depth = ops.op_sql_savepoint(handle);
    const dirty = new Map(this.#dirty), dirtyDeleteAll = this.#dirtyDeleteAll, dirtyAlarm = this.#dirtyAlarm;
    let result;
    try {
      result = closure();
    } catch (err) {
      this.#dirty = dirty;
      this.#dirtyDeleteAll = dirtyDeleteAll;
      this.#dirtyAlarm = dirtyAlarm;
      if (ops.op_sql_release(handle, depth, true)) this.sqlWritten();
      throw err;
    }
    if (ops.op_sql_release(handle, depth, false)) this.sqlWritten();
    return result;
  }

  // The largest value `key` may hold: 128 KiB on the key-value backend; on SQLite, the key and
  // value together up to 2 MB.
  valueMax(key) {
    if (this.#sqlBacked === undefined) this.#sqlBacked = ops.op_sql_enabled(this.#actor.index);
    return this.#sqlBacked ? STORAGE_SQL_ENTRY_BYTES_MAX - key.length : STORAGE_VALUE_BYTES_MAX;
  }
  #sqlBacked = undefined;

  get sql() {
    if (this.#sql === undefined) this.#sql = new SqlStorage(this);
    return this.#sql;
  }

  get kv() {
    if (!ops.op_sql_enabled(this.#actor.index)) {
      throw new Error("The storage.kv (synchronous KV) API is only available for SQLite-backed Durable Objects, but this object's namespace is not declared to use SQLite. Use `new_sqlite_classes` instead of `new_classes` in the migration that creates the class.");
    }
    if (this.#kv === undefined) this.#kv = new SyncKvStorage(this);
    return this.#kv;
  }

  // The SQL database's handle, opened on first use (throws on a class without SQL).
  sqlHandle() {
    if (this.#sqlHandle === 0) this.#sqlHandle = ops.op_sql_open(this.#actor.index, this.#actor.idHex);
    return this.#sqlHandle;
  }

  // SQL wrote pages: they commit with this turn's batch.
  sqlWritten() {
    this.#sqlDirty = true;
    this.#scheduleFlush(true);
  }

  // The object is gone from this isolate (evicted or reset): its database connection closes.
  close() {
    // A reset object's queued writes are never sent (the batch committing now still settles).
    this.#dropQueued(this.#actor.broken ?? new Error("Durable Object storage was closed."));
    if (this.#sqlHandle !== 0) ops.op_sql_close(this.#sqlHandle);
    this.#sqlHandle = 0;
  }

  // Applies a transaction's writes to the buffer in one step.
  applyBatch(deleteAll, writes, alarm) {
    if (deleteAll) {
      this.#dirty.clear();
      this.#dirtyDeleteAll = true;
    }
    for (const [key, text] of writes) this.#dirty.set(key, text);
    if (alarm !== undefined) {
      this.#dirtyAlarm = alarm;
      this.#alarmTouched = true;
    }
    this.#scheduleFlush();
  }

  sync() {
    const durable = this.waitDurable(true);
    return durable === undefined ? Promise.resolve() : durable.then(() => undefined);
  }

  // Drops the write buffer: the object was aborted, so nothing it did not commit survives.
  discard() {
    this.#dirty.clear();
    this.#dirtyReplies = [];
    this.#dirtyDeleteAll = false;
    this.#dirtyAlarm = undefined;
    if (this.#sqlHandle !== 0) ops.op_sql_discard(this.#sqlHandle);
    this.#sqlDirty = false;
  }

  get hasUndurableWrites() {
    return this.#hasBufferedWrites() || this.#dirtyReplies.length > 0 || this.#inflight.length > 0;
  }

  #hasBufferedWrites() {
    return this.#dirty.size > 0 || this.#dirtyDeleteAll || this.#dirtyAlarm !== undefined || this.#sqlDirty;
  }

  // How many writes were made so far (compare two readings to tell whether any was made).
  get writeCount() {
    return this.#writeCount;
  }

  // Records the result of the call made with `requestId` with the writes it made: in the
  // batch still being buffered (the common case: the call's writes and its result commit
  // together), else in a batch of its own. A retry of the call is then answered from it.
  recordReply(requestId, result) {
    if (this.#actor.broken) return;
    this.#dirtyReplies.push([requestId, result, Date.now()]);
    this.#scheduleFlush(true);
  }

  #scheduleFlush(confirmed = true) {
    this.#writeCount++;
    if (confirmed) this.#dirtyConfirmed = true;
    undurableStorages.add(this);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    nextTurn(() => this.flush());
  }

  // Commits the write buffer as one batch. At most one batch of an object is committing at a
  // time: writes made meanwhile wait in one queued batch (the buffer flushed later merges into
  // it), which is sent once the committing one is durable. So a busy object commits many
  // events' writes in one batch (as workerd's cache does), and each batch still commits
  // atomically and in order. Reads see the queued batch as the newest in-flight layer.
  flush() {
    this.#flushScheduled = false;
    if (!this.#hasBufferedWrites() && this.#dirtyReplies.length === 0) return;
    if (this.#actor.broken) return;
    const last = this.#inflight[this.#inflight.length - 1];
    if (last !== undefined && !last.sent) {
      this.#mergeBuffer(last);
      return;
    }
    const batch = { writes: new Map(), deleteAll: false, alarm: undefined, confirmed: false, replies: [], sent: false, durable: false, seq: 0 };
    batch.promise = new Promise((resolve, reject) => {
      batch.resolve = resolve;
      batch.reject = reject;
    });
    batch.promise.catch(() => {});
    this.#mergeBuffer(batch);
    this.#inflight.push(batch);
    if (this.#committing === 0) this.#send(batch);
  }

  // Moves the write buffer into `batch` (not sent yet): later writes win, a delete-all drops
  // what the batch held before it.
  #mergeBuffer(batch) {
    if (batch.sent) throw new Error("internal error: a batch takes writes only until it is sent");
    if (this.#dirtyDeleteAll) {
      batch.deleteAll = true;
      batch.writes = this.#dirty;
    } else if (batch.writes.size === 0) {
      batch.writes = this.#dirty;
    } else {
      const writes = batch.writes;
      this.#dirty.forEach((text, key) => writes.set(key, text));
    }
    if (this.#dirtyAlarm !== undefined) batch.alarm = this.#dirtyAlarm;
    if (this.#dirtyReplies.length > 0) batch.replies = batch.replies.concat(this.#dirtyReplies);
    if (this.#dirtyConfirmed && !batch.confirmed) {
      batch.confirmed = true;
      batch.seq = ++batchSeq;
      heldBatches.set(batch.seq, batch.promise);
    }
    this.#dirty = new Map();
    this.#dirtyDeleteAll = false;
    this.#dirtyAlarm = undefined;
    this.#dirtyReplies = [];
    this.#dirtyConfirmed = false;
    this.#sqlDirty = false;
  }

  // Sends `batch` to the log. The SQL database's pages written so far go with it, so the
  // key-value writes buffered until now go too (a turn's SQL and key-value writes commit
  // together).
  #send(batch) {
    const actor = this.#actor;
    if (this.#hasBufferedWrites() || this.#dirtyReplies.length > 0) this.#mergeBuffer(batch);
    batch.sent = true;
    this.#committing++;
    const keys = [];
    const values = [];
    batch.writes.forEach((text, key) => {
      keys.push(key);
      values.push(text);
    });
    const replies = batch.replies;
    let committed;
    try {
      committed = ops.op_storage_commit({
        index: actor.index, id: actor.idHex, name: actor.name ?? null,
        deleteAll: batch.deleteAll, keys, values, alarm: batch.alarm,
        sql: this.#sqlHandle === 0 ? undefined : this.#sqlHandle,
        replyIds: replies.length === 0 ? undefined : replies.map((reply) => reply[0]),
        replyResults: replies.length === 0 ? undefined : replies.map((reply) => reply[1]),
        replyTimes: replies.length === 0 ? undefined : replies.map((reply) => reply[2]),
      });
    } catch (err) {
      committed = Promise.reject(err);
    }
    committed.then(() => {
      this.#committing--;
      heldBatches.delete(batch.seq);
      batch.durable = true;
      this.#retireDurable();
      batch.resolve();
      const queued = this.#inflight.find((b) => !b.sent);
      if (queued !== undefined) {
        if (actor.broken) this.#dropQueued(actor.broken);
        else this.#send(queued);
      }
    }, (err) => {
      this.#committing--;
      heldBatches.delete(batch.seq);
      // Nobody may see a write that did not become durable: the object is reset.
      undurableStorages.delete(this);
      actor.breakWith(err);
      batch.reject(err);
      this.#dropQueued(err);
    });
  }

  // Fails the queued batch, if any: its writes were never sent and never will be.
  #dropQueued(err) {
    const queued = this.#inflight.filter((b) => !b.sent);
    if (queued.length === 0) return;
    this.#inflight = this.#inflight.filter((b) => b.sent);
    for (const batch of queued) {
      heldBatches.delete(batch.seq);
      batch.reject(err);
    }
    if (!this.hasUndurableWrites) undurableStorages.delete(this);
  }

  // Moves durable batches into the cache strictly in commit order. Commit results can arrive
  // out of order; applying a newer batch before an older one would leave the older value in the
  // cache once both left the in-flight list.
  #retireDurable() {
    while (this.#inflight.length > 0 && this.#inflight[0].durable) {
      const batch = this.#inflight.shift();
      if (batch.deleteAll) this.#cache.clear();
      const cache = this.#cache;
      batch.writes.forEach((text, key) => cache.set(key, text ?? undefined));
      if (batch.alarm !== undefined) this.#alarm = batch.alarm;
    }
    if (!this.hasUndurableWrites) undurableStorages.delete(this);
  }

  // Resolves once every write made so far is durable (the output gate). Writes made with
  // `allowUnconfirmed` do not hold the gate, unless `all` (sync()). The log commits batches in
  // order, so waiting for a batch waits for every batch before it.
  // Only the batches in flight now are waited for, not ones later events commit meanwhile.
  // Returns undefined when nothing holds the gate.
  waitDurable(all = false) {
    this.flush();
    let held = null;
    const inflight = this.#inflight;
    for (let i = 0; i < inflight.length; i++) {
      const batch = inflight[i];
      if (!all && !batch.confirmed) continue;
      if (held === null) held = batch.promise;
      else if (Array.isArray(held)) held.push(batch.promise);
      else held = [held, batch.promise];
    }
    if (held === null) return undefined;
    return Array.isArray(held) ? Promise.all(held) : held;
  }
}

class DurableObjectTransaction {
  #storage;
  #actor;
  #writes = new Map();
  #deleteAll = false;
  #alarm = undefined;
  #done = false;
  rolledBack = false;

  constructor(storage, actor) {
    this.#storage = storage;
    this.#actor = actor;
  }

  #check() {
    if (this.#done) throw new Error("Transaction has already completed.");
  }

  #lookup(key) {
    if (this.#writes.has(key)) return this.#writes.get(key) ?? undefined;
    if (this.#deleteAll) return undefined;
    return this.#storage.lookup(key);
  }

  get(keys, options = {}) {
    return storageOp(this.#actor, () => {
      this.#check();
      if (Array.isArray(keys)) {
        const result = new Map();
        for (const key of checkKeys(keys).sort(compareKeys)) {
          const text = this.#lookup(key);
          if (text !== undefined) result.set(key, deserializeValue(text));
        }
        return result;
      }
      const text = this.#lookup(checkKey(keys));
      return text === undefined ? undefined : deserializeValue(text);
    });
  }

  put(keyOrEntries, value, options = {}) {
    return storageOp(this.#actor, () => {
      this.#check();
      if (keyOrEntries !== null && typeof keyOrEntries === "object") {
        const keys = checkKeys(Object.keys(keyOrEntries));
        const texts = keys.map((key) => serializeStored(keyOrEntries[key], this.#storage.valueMax(key)));
        keys.forEach((key, i) => this.#writes.set(key, texts[i]));
        return;
      }
      const key = checkKey(keyOrEntries);
      this.#writes.set(key, serializeStored(value, this.#storage.valueMax(key)));
    });
  }

  delete(keys, options = {}) {
    return storageOp(this.#actor, () => {
      this.#check();
      if (Array.isArray(keys)) {
        let count = 0;
        for (const key of checkKeys(keys)) {
          if (this.#lookup(key) !== undefined) count++;
          this.#writes.set(key, null);
        }
        return count;
      }
      const key = checkKey(keys);
      const existed = this.#lookup(key) !== undefined;
      this.#writes.set(key, null);
      return existed;
    });
  }

  deleteAll(options = {}) {
    return storageOp(this.#actor, () => {
      this.#check();
      this.#writes.clear();
      this.#deleteAll = true;
    });
  }

  list(options = {}) {
    return storageOp(this.#actor, () => {
      this.#check();
      return this.#storage.listEntries(options, [{ writes: this.#writes, deleteAll: this.#deleteAll }]);
    });
  }

  getAlarm(options = {}) {
    return storageOp(this.#actor, () => (this.#alarm !== undefined ? this.#alarm : this.#storage.currentAlarm()));
  }

  setAlarm(time, options = {}) {
    if (this.#actor.facet !== undefined) return Promise.reject(new Error(FACET_ALARM_UNSUPPORTED));
    return storageOp(this.#actor, () => {
      this.#check();
      this.#alarm = alarmTime(time);
    });
  }

  deleteAlarm(options = {}) {
    return storageOp(this.#actor, () => {
      this.#check();
      this.#alarm = null;
    });
  }

  rollback() {
    this.#check();
    this.rolledBack = true;
  }

  finish() {
    this.#done = true;
  }

  applyTo(storage) {
    storage.applyBatch(this.#deleteAll, this.#writes, this.#alarm);
  }
}
