// Durable Object namespaces, ids and stubs as a worker's env sees them. A stub's fetch() and
// RPC methods are calls into Rust, which routes them to the thread that runs the object.
class DurableObjectId {
  #hex;
  #name;
  constructor(hex, name) {
    this.#hex = hex;
    this.#name = name ?? undefined;
  }
  toString() { return this.#hex; }
  toJSON() { return this.#hex; }
  equals(other) { return other instanceof DurableObjectId && other.#hex === this.#hex; }
  get name() { return this.#name; }
  get jurisdiction() { return undefined; }
}

// Names whose ids a namespace remembers (a keyed hash each, in Rust); longer names are hashed
// every time.
const NAME_IDS_MAX = 1024;
const NAME_ID_CACHED_LENGTH_MAX = 256;

class DurableObjectNamespace {
  #index;
  #nameIds = new Map();
  constructor(index) {
    this.#index = index;
  }
  idFromName(name) {
    name = String(name);
    let hex = this.#nameIds.get(name);
    if (hex === undefined) {
      hex = ops.op_do_id_from_name(this.#index, name);
      if (name.length <= NAME_ID_CACHED_LENGTH_MAX) {
        if (this.#nameIds.size >= NAME_IDS_MAX) this.#nameIds.clear();
        this.#nameIds.set(name, hex);
      }
    }
    return new DurableObjectId(hex, name);
  }
  idFromString(id) {
    return new DurableObjectId(ops.op_do_id_from_string(this.#index, String(id)), undefined);
  }
  newUniqueId(options = {}) {
    return new DurableObjectId(ops.op_do_new_unique_id(this.#index), undefined);
  }
  get(id, options = {}) {
    if (!(id instanceof DurableObjectId)) {
      throw new TypeError("Failed to execute 'get' on 'DurableObjectNamespace': parameter 1 is not of type 'DurableObjectId'.");
    }
    return durableObjectStub(this.#index, id);
  }
  getByName(name, options = {}) {
    return this.get(this.idFromName(name), options);
  }
  jurisdiction(name) {
    return this;
  }
  // The binding index of a namespace, or undefined for anything else.
  static indexOf(value) { return value instanceof DurableObjectNamespace ? value.#index : undefined; }
}

async function stubFetch(index, id, input, init) {
  // A Request passed as is goes as is (its body is taken below); anything else is built first.
  const request = input instanceof Request && init === undefined ? input : new Request(input, init);
  if (request === input && bodyUsed(request[kBody])) {
    throw new TypeError("Cannot reconstruct a Request with a used body.");
  }
  const body = await requestBodyForRust(request);
  await waitForOutputGates();
  const result = await ops.op_do_fetch(index, id.toString(), id.name, [request.method, request.url, headersToList(request.headers), body, request[kCfWire]()]);
  return responseFromFetch(result[0], result[1], result[2], result[3], request.url, false, result[6]);
}

async function stubCall(index, id, method, args) {
  const message = await serializeRpc(args);
  await waitForOutputGates();
  const [ok, value] = deserializeRpc(await ops.op_do_call(index, id.toString(), id.name, method, message));
  if (ok) return value;
  throw value;
}

function durableObjectStub(index, id) {
  const target = {
    id,
    name: id.name,
    fetch: (input, init) => stubFetch(index, id, input, init),
  };
  const stub = new Proxy(target, {
    get(object, property) {
      if (Object.prototype.hasOwnProperty.call(object, property)) return object[property];
      if (typeof property === "symbol" || property === "then" || property === "toJSON") return undefined;
      if (property === "dup") return () => stub;
      if (RESERVED_RPC_METHODS.has(property) || property.startsWith("__kiln")) return undefined;
      return rpcStubMember((method, args) => stubCall(index, id, method, args), property);
    },
  });
  rpcStubs.add(stub);
  return stub;
}

// The worker's own Durable Object classes by name: the binding index their namespace uses
// (for `ctx.exports` and `exports` of cloudflare:workers).
const ownObjectClasses = new Map();
const ownObjectNamespaces = new Map();

function ownObjectNamespace(className) {
  const index = ownObjectClasses.get(className);
  if (index === undefined) return undefined;
  let namespace = ownObjectNamespaces.get(className);
  if (namespace === undefined) {
    namespace = new DurableObjectNamespace(index);
    ownObjectNamespaces.set(className, namespace);
  }
  return namespace;
}

// Called once per isolate: puts the worker's Durable Object namespaces into env.
function installBindings(env, namespaces, idleEvictMs) {
  for (const [binding, index, ownClass, className] of namespaces) {
    if (binding !== "") {
      const value = className === D1_CLASS ? new D1Database(index)
        : className.startsWith(WORKFLOW_CLASS_PREFIX) ? new Workflow(index)
        : new DurableObjectNamespace(index);
      Object.defineProperty(env, binding, { value, enumerable: true, configurable: true, writable: true });
    }
    const kilns = ownClass === D1_CLASS || String(ownClass).startsWith(WORKFLOW_CLASS_PREFIX);
    if (ownClass !== null && ownClass !== undefined && !kilns && !ownObjectClasses.has(ownClass)) ownObjectClasses.set(ownClass, index);
  }
  if (idleEvictMs > 0) objectIdleEvictMs = idleEvictMs;
}

export { installBindings };
