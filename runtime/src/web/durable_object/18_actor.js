// The Durable Object actor: one live instance per id in this isolate, a mailbox with an input
// gate, the output gate on everything it answers, idle eviction, and `ctx` (DurableObjectState).
//
// Input gate: an event is delivered only while no storage operation is outstanding and no
// blockConcurrencyWhile() callback runs; queued events are released one per turn of the event
// loop. Events may interleave across other awaits (fetch(), calls to other objects), as on
// Cloudflare. Output gate: a response or RPC result leaves only after every write made before
// it is durable; if a commit fails, the object is reset and the held output is dropped.
const MAILBOX_EVENTS_MAX = 1000;
const BLOCK_CONCURRENCY_NESTING_MAX = 64;
const BLOCK_CONCURRENCY_MS_MAX = 30000;
const DURABLE_OBJECT_NAME_BYTES_MAX = 1024;
// A larger RPC result is not recorded for retries (the storage layer's REPLY_BYTES_MAX).
const RECORDED_RESULT_CHARS_MAX = 256 * 1024;
const RESERVED_RPC_METHODS = new Set(["constructor", "fetch", "alarm", "webSocketMessage", "webSocketClose", "webSocketError", "dup", "connect"]);

const ADMIN_DELETE = "__kiln_admin_delete";
const actors = new Map();
let objectIdleEvictMs = 10000;

class DurableObjectState {
  #actor;
  #id;
  #storage;
  constructor(actor) {
    this.#actor = actor;
    // Names over 1 KiB are not handed to the object (Cloudflare keeps only shorter ones).
    const name = actor.name !== undefined && utf8Length(actor.name) <= DURABLE_OBJECT_NAME_BYTES_MAX ? actor.name : undefined;
    this.#id = actor.facet?.publicId ?? new DurableObjectId(actor.idHex, name);
    this.#storage = new DurableObjectStorage(actor);
  }
  get id() { return this.#id; }
  get storage() { return this.#storage; }
  // This object's child objects (18_facets.js).
  get facets() { return (this.#actor.facetsApi ??= new DurableObjectFacets(kAbort, this.#actor)); }
  get props() { return this.#actor.facet?.props ?? {}; }
  // ctx.exports: stubs for the worker's own entrypoints, as a WorkerEntrypoint's ctx has.
  get exports() { return selfExports(this.#actor.exports); }
  waitUntil(promise) {
    Promise.resolve(promise).catch((err) => reportError(err));
  }
  async blockConcurrencyWhile(callback) {
    const actor = this.#actor;
    if (actor.gateLocks >= BLOCK_CONCURRENCY_NESTING_MAX) {
      throw new Error(`blockConcurrencyWhile() calls nested more than ${BLOCK_CONCURRENCY_NESTING_MAX} deep.`);
    }
    actor.gateLocks++;
    let timer;
    try {
      const timeout = new Promise((_, reject) => {
        timer = kilnSetTimeout(() => {
          const err = new Error("A call to blockConcurrencyWhile() in a Durable Object waited for too long. The call was canceled and the Durable Object was reset.");
          actor.breakWith(err);
          reject(err);
        }, BLOCK_CONCURRENCY_MS_MAX);
      });
      return await Promise.race([Promise.resolve().then(callback), timeout]);
    } catch (err) {
      // A failed callback leaves the object in an unknown state: Cloudflare resets it.
      actor.breakWith(err);
      throw err;
    } finally {
      clearTimeout(timer);
      actor.gateLocks--;
      actor.maybeRelease();
    }
  }
  abort(reason) {
    const err = reason instanceof Error ? reason : new Error(reason === undefined ? "Durable Object was aborted." : String(reason));
    this.#storage.discard();
    this.#actor.breakWith(err);
    throw err;
  }
  // The WebSocket hibernation API (web/websocket/20_websocket.js).
  acceptWebSocket(ws, tags = undefined) {
    hibernateSocket(this.#actor, ws, tags);
  }
  getWebSockets(tag = undefined) { return objectSockets(this.#actor, tag); }
  getTags(ws) { return socketTags(ws); }
  setWebSocketAutoResponse(pair = undefined) { setAutoResponse(this.#actor, pair); }
  getWebSocketAutoResponse() { return getAutoResponse(this.#actor); }
  getWebSocketAutoResponseTimestamp(ws) { return autoResponseTimestamp(ws); }
  setHibernatableWebSocketEventTimeout(ms = undefined) { this.#actor.socketEventTimeoutMs = checkEventTimeout(ms); }
  getHibernatableWebSocketEventTimeout() { return this.#actor.socketEventTimeoutMs; }
}

class Actor {
  // `facet`: for a facet (18_facets.js), `{ parent, publicId }`.
  constructor(key, index, className, idHex, name, exports, env, facet = undefined) {
    this.key = key;
    this.env = env;
    this.facet = facet;
    this.depth = facet === undefined ? 0 : facet.parent.depth + 1;
    this.facets = new Map(); // facet name -> its Actor, while it runs
    this.facetsApi = undefined;
    this.index = index;
    this.idHex = idHex;
    this.name = name ?? undefined;
    this.gateLocks = 0;
    this.storageOps = 0;
    this.waiting = [];
    this.running = 0;
    this.broken = null;
    this.lastActive = Date.now();
    this.evictTimer = null;
    this.releaseScheduled = false;
    this.sockets = new Map(); // hibernatable socket id -> its WebSocket in this instance
    this.socketEventTimeoutMs = null;
    // Ends a storage operation (see storageOp): one function per actor, not one per operation.
    this.storageDone = () => {
      this.storageOps--;
      this.maybeRelease();
    };
    this.exports = exports;
    this.state = new DurableObjectState(this);
    if (className.startsWith(WORKFLOW_CLASS_PREFIX)) {
      this.instance = new WorkflowEngine(this.state, env, exports, className.slice(WORKFLOW_CLASS_PREFIX.length));
      return;
    }
    const cls = className === D1_CLASS ? D1DatabaseObject : exports[className];
    if (typeof cls !== "function") {
      throw new TypeError(`Durable Object class "${className}" is not exported by the worker.`);
    }
    this.instance = new cls(this.state, env);
  }

  // Runs `work` as one event: through the mailbox and the input gate.
  async deliver(work) {
    if (this.broken) throw this.broken;
    if (this.gateLocks > 0 || this.storageOps > 0 || this.waiting.length > 0) {
      if (this.waiting.length >= MAILBOX_EVENTS_MAX) {
        throw new Error("Durable Object is overloaded. Too many requests queued.");
      }
      await new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
      if (this.broken) throw this.broken;
    }
    this.running++;
    this.lastActive = Date.now();
    try {
      return await work();
    } finally {
      this.running--;
      this.lastActive = Date.now();
      this.armEviction();
      this.maybeRelease();
    }
  }

  // Lets queued events in while the gate is open. The first waits for a later turn of the event
  // loop (after the microtasks of whatever just released the gate, such as the code awaiting a
  // storage read); each next one follows in a microtask queued after the previous event's
  // synchronous start, so an event that closes the gate again stops the rest.
  maybeRelease() {
    if (this.releaseScheduled || this.waiting.length === 0) return;
    if (this.gateLocks > 0 || this.storageOps > 0) return;
    this.releaseScheduled = true;
    nextTurn(() => {
      this.releaseScheduled = false;
      this.releaseNext();
    });
  }

  releaseNext() {
    if (this.gateLocks > 0 || this.storageOps > 0 || this.waiting.length === 0) return;
    this.waiting.shift().resolve();
    queueMicrotask(() => this.releaseNext());
  }

  // Resets the object: queued events fail, held outputs are dropped, the next event gets a new
  // instance built from durable storage.
  breakWith(err) {
    if (this.broken) return;
    this.broken = err;
    if (actors.get(this.key) === this) actors.delete(this.key);
    this.state.storage.close();
    for (const waiter of this.waiting.splice(0)) waiter.reject(err);
    // A facet does not outlive its parent's reset.
    for (const facet of this.facets.values()) facet.breakWith(err);
    this.facets.clear();
  }

  armEviction() {
    if (this.evictTimer !== null) return;
    this.evictTimer = kilnSetTimeout(() => {
      this.evictTimer = null;
      const idle = Date.now() - this.lastActive;
      if (this.running > 0 || this.waiting.length > 0 || this.gateLocks > 0 || this.state.storage.hasUndurableWrites || hasAcceptedSockets()) {
        this.armEviction();
        return;
      }
      if (idle >= objectIdleEvictMs) {
        if (actors.get(this.key) === this) actors.delete(this.key);
        this.state.storage.close();
      } else {
        this.armEviction();
      }
    }, objectIdleEvictMs);
  }

  // Output gate: undefined when output may leave now (nothing to wait for: the common case of
  // a turn that wrote nothing, answered without a promise), else a promise of that moment.
  // Throws instead of letting output out if the object was reset meanwhile.
  outputGate() {
    if (this.state.storage.hasUndurableWrites) return this.outputGateAfterWrites();
    // A turn that wrote nothing proved no ownership by committing: in a cluster the node must
    // still hold the shard's leader lease, so a cut-off former owner stops answering.
    const fence = ops.op_storage_read_fence(this.idHex);
    if (fence !== undefined) return fence.then(() => { if (this.broken) throw this.broken; });
    if (this.broken) throw this.broken;
    return undefined;
  }

  async outputGateAfterWrites() {
    await this.state.storage.waitDurable();
    const fence = ops.op_storage_read_fence(this.idHex);
    if (fence !== undefined) await fence;
    if (this.broken) throw this.broken;
  }
}

// A facet of another worker's object made from this (Dynamic) worker's class arrives with its
// target's name set to this marker and the JSON of [public id, public name, depth, props]
// (18_facets.js). Only the loader's facet ops make such targets: this worker has no binding of
// its own that could.
const FACET_TARGET_MARKER = "\u0000facet";
const FACET_ABORT = "__kiln_facet_abort";

function facetMeta(name) {
  if (typeof name !== "string" || !name.startsWith(FACET_TARGET_MARKER)) return undefined;
  const [publicHex, publicName, depth, props] = JSON.parse(name.slice(FACET_TARGET_MARKER.length));
  return { parent: { depth: depth - 1 }, publicId: new DurableObjectId(publicHex, publicName ?? undefined), props, foreign: true };
}

// `address`: [binding index, class name, id hex, name].
function actorFor(exports, env, address) {
  const index = address[0], className = address[1], idHex = address[2];
  const facet = facetMeta(address[3]);
  const name = facet === undefined ? address[3] : undefined;
  const key = `${index}:${idHex}`;
  let actor = actors.get(key);
  if (actor === undefined) {
    actor = new Actor(key, index, className, idHex, name, exports, env, facet);
    actors.set(key, actor);
    actor.armEviction();
  } else if (actor.name === undefined && name) {
    actor.name = name;
  }
  return actor;
}

// `parts`: [method, url, headerList, bodyId, urlIsHref].
async function dispatchObjectFetch(exports, env, address, id, parts) {
  const actor = actorFor(exports, env, address);
  return actor.deliver(async () => {
    const request = incomingRequest(parts[0], parts[1], parts[2], parts[3], cfFromWire(parts[5]), undefined, parts[4]);
    if (typeof actor.instance.fetch !== "function") {
      throw new TypeError("Handler does not export a fetch() function.");
    }
    const response = await actor.instance.fetch(request);
    if (!(response instanceof Response)) {
      throw new TypeError("Incorrect type for Promise: the Promise did not resolve to 'Response'.");
    }
    await actor.outputGate();
    return responseForRust(response, () => undefined);
  });
}

// `packed`: the request id in hex (empty for none), the method and the serialized arguments,
// separated by NUL.
async function dispatchObjectCall(exports, env, address, packed) {
  const first = packed.indexOf("\u0000");
  const second = packed.indexOf("\u0000", first + 1);
  const requestId = packed.slice(0, first) || undefined;
  const method = packed.slice(first + 1, second);
  const args = deserializeRpc(packed.slice(second + 1));
  if (method === FACET_ABORT && facetMeta(address[3]) !== undefined) {
    // The parent aborted or deleted this facet: reset it now, without running its code.
    const running = actors.get(`${address[0]}:${address[2]}`);
    if (running !== undefined) {
      running.state.storage.discard();
      running.breakWith(new Error(String(args[0])));
    }
    return serializeValue([true, undefined]);
  }
  const actor = actorFor(exports, env, address);
  if (method === ADMIN_DELETE) {
    // The admin API's delete: through the object, so a live instance is reset, not left stale.
    return actor.deliver(async () => {
      const storage = actor.state.storage;
      storage.deleteAll();
      storage.deleteAlarm();
      await actor.outputGate();
      actor.breakWith(new Error("Durable Object was deleted by an administrator."));
      return serializeValue([true, true]);
    });
  }
  return actorCall(actor, method, args, requestId);
}

// A JS RPC call on `actor`, through its mailbox: the serialized outcome, once its output gate
// opened. A call with a request id runs once per id: a retry while it runs waits for it, and
// a retry after it wrote is answered from the record of its result committed with its writes
// (a call that wrote nothing changed nothing, so running it again is harmless).
function actorCall(actor, method, args, requestId = undefined) {
  if (requestId !== undefined) {
    const running = actor.calls?.get(requestId);
    if (running !== undefined) return running;
  }
  const run = actor.deliver(async () => {
    const storage = actor.state.storage;
    if (requestId !== undefined) {
      const recorded = ops.op_storage_reply(actor.idHex, requestId);
      if (recorded !== undefined && recorded !== null) {
        await actor.outputGate();
        return recorded;
      }
    }
    const writesBefore = storage.writeCount;
    let outcome;
    try {
      outcome = [true, await invokeRpcMember(actor.instance, method, args, RESERVED_RPC_METHODS)];
    } catch (err) {
      outcome = [false, err];
    }
    const usage = { references: false };
    let serialized;
    try {
      serialized = await serializeRpc(outcome, actor, usage);
    } catch (err) {
      usage.references = false;
      serialized = await serializeRpc([false, err], undefined, usage);
    }
    if (requestId !== undefined && !usage.references && storage.writeCount !== writesBefore && serialized.length <= RECORDED_RESULT_CHARS_MAX) {
      storage.recordReply(requestId, serialized);
    }
    await actor.outputGate();
    return serialized;
  });
  if (requestId !== undefined) {
    const calls = (actor.calls ??= new Map());
    calls.set(requestId, run);
    const forget = () => calls.delete(requestId);
    run.then(forget, forget);
  }
  return run;
}

async function dispatchObjectAlarm(exports, env, address, _unused, retryCount) {
  const actor = actorFor(exports, env, address);
  return actor.deliver(async () => {
    const storage = actor.state.storage;
    if (typeof actor.instance.alarm !== "function") {
      storage.beginAlarm();
      storage.endAlarm(true);
      await actor.outputGate();
      return false;
    }
    storage.beginAlarm();
    let succeeded = false;
    try {
      await actor.instance.alarm({ retryCount, isRetry: retryCount > 0 });
      succeeded = true;
    } finally {
      storage.endAlarm(succeeded);
    }
    await actor.outputGate();
    return true;
  });
}

// Fencing: the node no longer owns these objects' shard; reset each live one at once.
function fenceObjects(belongs) {
  for (const actor of [...actors.values()]) {
    if (belongs(actor.idHex)) actor.breakWith(new Error("Durable Object reset: its shard moved to another node."));
  }
}

export { dispatchObjectFetch, dispatchObjectCall, dispatchObjectAlarm, fenceObjects };
