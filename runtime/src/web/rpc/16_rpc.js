// JS RPC beyond plain values: RpcTarget instances, functions and stubs travel by reference,
// and calls return RpcPromises that can be pipelined (`stub.getCounter().increment()`).
//
// A message leaving an isolate keeps each such object in this isolate's export table and
// carries its route (Rust: service/targets.rs) instead; the receiving isolate makes a stub
// whose calls travel back along the route to dispatchTargetCall here. A target exported while
// a Durable Object answered a call is called through that object's mailbox and output gate.
class RpcTarget {}

// Exports kept per isolate; past it the oldest is released (its stubs then fail).
const RPC_EXPORTS_MAX = 10000;
const rpcExports = new Map(); // export number -> { value, actor }
let nextRpcExport = 1;
// Every stub this isolate made (Durable Object, service, Dynamic Worker and target stubs):
// passed on by RPC, a stub is exported like a target, so calls go through this isolate.
const rpcStubs = new WeakSet();

// A call whose method name starts with this reads the member instead (`await stub.prop`).
const RPC_GET_PREFIX = "\u0001";

// A stub's member: called, `invoke(name, args)` makes the call; awaited, `invoke` reads it.
function rpcStubMember(invoke, property) {
  return rpcMember((args) => rpcPromise(invoke(property, args)), () => invoke(RPC_GET_PREFIX + property, []));
}

// Runs an incoming call (or member read) of `method` on `instance`. Members in `reserved`,
// Object.prototype's, and (`ownHidden`) an instance's own fields are not reachable.
async function invokeRpcMember(instance, method, args, reserved, ownHidden = true) {
  const getter = method.startsWith(RPC_GET_PREFIX);
  const name = getter ? method.slice(RPC_GET_PREFIX.length) : method;
  const reachable = instance !== null && instance !== undefined
    && !reserved.has(name)
    && !Object.prototype.hasOwnProperty.call(Object.prototype, name)
    && !(ownHidden && Object.prototype.hasOwnProperty.call(instance, name));
  const member = reachable ? instance[name] : undefined;
  if (getter ? !reachable || !(name in Object(instance)) : typeof member !== "function") {
    throw new TypeError(`The RPC receiver does not implement the method "${name}".`);
  }
  return getter ? await member : await Reflect.apply(member, instance, args);
}

// Values found in a message beyond this many are not looked into for bodies.
const RPC_WALK_NODES_MAX = 100000;

// Request, Response, ReadableStream and Blob values inside `value` (a bounded walk of arrays,
// Maps, Sets and plain objects), or null. Streams (and bodies not in memory) cross RPC by
// reference, read as the receiver reads them; Blobs and in-memory bodies cross whole.
function bodyCarriers(value) {
  let found = null;
  let budget = RPC_WALK_NODES_MAX;
  const seen = new Set();
  const walk = (v) => {
    if (v === null || typeof v !== "object" || budget-- <= 0 || seen.has(v)) return;
    seen.add(v);
    if (rpcStubs.has(v) || v instanceof RpcTarget || v instanceof ArrayBuffer || ArrayBuffer.isView(v)) return;
    if (v instanceof Request || v instanceof Response || v instanceof ReadableStream || v instanceof Blob) {
      (found ??= []).push(v);
      return;
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) walk(v[i]);
    } else if (v instanceof Map) {
      v.forEach((item, key) => { walk(key); walk(item); });
    } else if (v instanceof Set) {
      v.forEach(walk);
    } else {
      const proto = Object.getPrototypeOf(v);
      if (proto === Object.prototype || proto === null) for (const key of Object.keys(v)) walk(v[key]);
    }
  };
  walk(value);
  return found;
}

const bytesText = (buffer) => bytesToBase64(new Uint8Array(buffer));

// A stream crosses RPC by reference: the receiver's stream pulls each chunk from the sender's
// with a call on an exported function ("r" reads one chunk, null at the end; "c" cancels).
// Only byte chunks cross, as on Cloudflare.
function exportStream(stream) {
  const reader = stream.getReader();
  const pull = async (command, reason) => {
    if (command === "c") {
      await reader.cancel(reason);
      return null;
    }
    const { done, value } = await reader.read();
    if (done) return null;
    if (value instanceof Uint8Array) return value;
    if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    if (value instanceof ArrayBuffer) return new Uint8Array(value);
    const err = new TypeError("This ReadableStream did not return bytes.");
    reader.cancel(err).catch(() => {});
    throw err;
  };
  // Not tied to an actor: reading a stream an object returned does not wait for its input gate.
  return ["Q", exportTarget(pull, undefined)[1]];
}

function importStream(route) {
  const pull = targetStub(route, "f");
  let released = false;
  const release = () => {
    if (!released) {
      released = true;
      pull[Symbol.dispose]();
    }
  };
  return new ReadableStream({
    type: "bytes",
    async pull(controller) {
      let chunk;
      try {
        chunk = await pull("r");
      } catch (err) {
        release();
        throw err;
      }
      if (chunk === null) {
        release();
        controller.close();
      } else if (chunk.byteLength > 0) {
        controller.enqueue(chunk);
      }
    },
    async cancel(reason) {
      try { await pull("c", reason instanceof Error ? reason.message : reason); } catch {}
      release();
    },
  }, { highWaterMark: 0 });
}

// A Request's or Response's body: bytes inline when they are in memory, otherwise a stream.
async function encodeBody(v) {
  const state = v[kBody];
  if (state === undefined || state.kind === "none") return null;
  if (state.kind === "bytes") return bytesText(await v.arrayBuffer());
  if (v.bodyUsed) throw new TypeError("Body has already been used. It can only be used once. Use tee() first if you need to read it twice.");
  return exportStream(v.body);
}

const decodeBody = (body) => (body === null ? null : typeof body === "string" ? base64ToBytes(body) : importStream(body[1]));

// The tagged form of a Request, Response, stream or Blob.
async function encodeCarrier(v) {
  if (v instanceof ReadableStream) return exportStream(v);
  if (v instanceof Blob) return ["F", v.type, bytesText(await v.arrayBuffer())];
  const body = await encodeBody(v);
  if (v instanceof Request) return ["R", v.method, v.url, headersToList(v.headers).slice(), body];
  return ["P", v.status, v.statusText, headersToList(v.headers).slice(), body];
}

function decodeCarrier(x) {
  switch (x[0]) {
    case "Q": return importStream(x[1]);
    case "S": return new Response(base64ToBytes(x[1])).body;
    case "F": return new Blob([base64ToBytes(x[2])], { type: x[1] });
    case "R": return new Request(x[2], { method: x[1], headers: headersFromList(x[3]), body: decodeBody(x[4]), duplex: "half" });
    case "P": return new Response(decodeBody(x[4]), { status: x[1], statusText: x[2], headers: headersFromList(x[3]) });
  }
  throw new TypeError("Corrupt serialized value.");
}

function exportTarget(value, actor) {
  const id = nextRpcExport++;
  rpcExports.set(id, { value, actor });
  if (rpcExports.size > RPC_EXPORTS_MAX) rpcExports.delete(rpcExports.keys().next().value);
  const callable = typeof value === "function" && !rpcStubs.has(value);
  return ["x", ops.op_rpc_route(id), callable ? "f" : "o"];
}

function rpcExporter(actor, carriers, usage) {
  return (value) => {
    if (carriers !== null && carriers.has(value)) return carriers.get(value);
    if (typeof value === "function" || value instanceof RpcTarget || rpcStubs.has(value)) {
      if (usage !== undefined) usage.references = true;
      return exportTarget(value, actor);
    }
    return undefined;
  };
}

// Serializes an RPC message; `actor` is the Durable Object answering, if any. A string, or a
// promise of one when bodies must be read first. `usage.references` is set when the message
// refers to things that live in this isolate (stubs, callbacks, streams): it is only good once.
function serializeRpc(value, actor = undefined, usage = undefined) {
  const found = bodyCarriers(value);
  if (found === null) return serializeValue(value, rpcExporter(actor, null, usage));
  if (usage !== undefined) usage.references = true;
  return Promise.all(found.map(encodeCarrier)).then((encoded) => {
    const carriers = new Map();
    found.forEach((v, i) => carriers.set(v, encoded[i]));
    return serializeValue(value, rpcExporter(actor, carriers, usage));
  });
}

function deserializeRpc(text) {
  return deserializeValue(text, (x) => (x[0] === "x" ? targetStub(x[1], x[2]) : decodeCarrier(x)));
}

// The thenable an RPC call returns: awaiting it gives the result; a property of it or a method
// call on it applies to the result once it arrives.
function rpcPromise(promise) {
  return rpcMember(() => {
    throw new TypeError("An RPC result is not a function.");
  }, () => promise);
}

// A member of a stub or of a pending result: called, it is a method call; awaited, its value.
function rpcMember(call, get) {
  return new Proxy(function rpcMember() {}, {
    apply(_, __, args) {
      return call(args);
    },
    get(_, property) {
      if (property === "then" || property === "catch" || property === "finally") {
        const value = get();
        return value[property].bind(value);
      }
      if (typeof property === "symbol") return undefined;
      return rpcMember(
        (args) => rpcPromise(get().then((value) => value[property](...args))),
        () => get().then((value) => value[property]),
      );
    },
  });
}

// A stub of a target another isolate exported. `kind` "f": the target is a function.
// `shared.refs` counts the live duplicates (`dup()`) of one reference: the target is released
// when the last is disposed.
function targetStub(route, kind, shared = { refs: 1 }) {
  const call = (op, args) => rpcPromise((async () => {
    const message = await serializeRpc(args);
    await waitForOutputGates();
    const [ok, value] = deserializeRpc(await ops.op_rpc_target_call(route, op, message));
    if (ok) return value;
    throw value;
  })());
  let disposed = false;
  const dispose = () => {
    if (disposed) return;
    disposed = true;
    if (--shared.refs > 0) return;
    ops.op_rpc_target_call(route, "d", "[]").catch(() => {});
  };
  const dup = () => {
    shared.refs++;
    return targetStub(route, kind, shared);
  };
  const stub = new Proxy(function rpcStub() {}, {
    apply(_, __, args) {
      if (kind !== "f") throw new TypeError("This RPC stub is not a function.");
      return call("f", args);
    },
    get(_, property) {
      if (property === Symbol.dispose) return dispose;
      if (typeof property === "symbol" || property === "then" || property === "toJSON") return undefined;
      if (property === "dup") return dup;
      if (property === "constructor") return undefined;
      return rpcMember((args) => call("c" + property, args), () => call("g" + property, []));
    },
  });
  rpcStubs.add(stub);
  return stub;
}

// What a target may not be asked for: RpcTargets reserve only these (any other method,
// `fetch` included, is callable); stubs passed on answer for themselves.
const RPC_TARGET_RESERVED = new Set(["constructor", "dup"]);

// A call on one of this isolate's exports. `op`: "f" calls a function target, "c<name>" a
// method, "g<name>" reads a property, "d" releases the export.
async function dispatchTargetCall(id, op, packed) {
  const entry = rpcExports.get(id);
  const run = async () => {
    if (entry === undefined) throw new Error("RPC stub is disconnected: its target was released.");
    if (op === "d") {
      rpcExports.delete(id);
      return undefined;
    }
    const args = deserializeRpc(packed);
    const target = entry.value;
    if (op === "f") {
      if (typeof target !== "function") throw new TypeError("This RPC stub is not a function.");
      return await target(...args);
    }
    const name = op.slice(1);
    // Only prototype methods and getters of an RpcTarget are exposed, never its own fields.
    const method = op[0] === "g" ? RPC_GET_PREFIX + name : name;
    return await invokeRpcMember(target, method, args, RPC_TARGET_RESERVED, target instanceof RpcTarget);
  };
  const settle = async () => {
    let outcome;
    try {
      outcome = [true, await run()];
    } catch (err) {
      outcome = [false, err];
    }
    if (entry?.actor !== undefined) await entry.actor.outputGate();
    try {
      return await serializeRpc(outcome, entry?.actor);
    } catch (err) {
      return await serializeRpc([false, err]);
    }
  };
  return entry?.actor !== undefined ? entry.actor.deliver(settle) : settle();
}

export { RpcTarget, dispatchTargetCall };
