// Durable Object facets (`ctx.facets`): child objects of one Durable Object, each an instance of
// one of the worker's Durable Object classes with its own storage (KV and SQLite), its own
// mailbox and gates, running beside its parent. A facet's storage lives under an id derived
// from the parent's id and the facet's name that keeps the parent's shard and JS thread, so in
// a cluster a facet always lives, and moves, with its parent. `ctx.id` of a facet is its
// parent's id unless the startup options give another.
const FACET_NAME_LENGTH_MAX = 256;
const FACET_DEPTH_MAX = 4;
const FACETS_PER_OBJECT_MAX = 1000;

// What `ctx.exports.Name` gives for a Durable Object class that no binding names, and what a
// Dynamic Worker's `getDurableObjectClass()` gives: something `ctx.facets.get()` accepts as a
// class. `dynamic` (for the latter): `{ loaded, className, props }`, where `loaded()` gives the
// Dynamic Worker's handle.
class DurableObjectClass {
  #name;
  #dynamic;
  constructor(key, name, dynamic = undefined) {
    if (key !== kAbort) throw new TypeError("Illegal constructor");
    this.#name = name;
    this.#dynamic = dynamic;
  }
  static nameOf(value) {
    return value instanceof DurableObjectClass && value.#dynamic === undefined ? value.#name : undefined;
  }
  static dynamicOf(value) { return value instanceof DurableObjectClass ? value.#dynamic : undefined; }
}

// A facet whose class is a Dynamic Worker's: it runs in that worker's isolate (on this node and
// JS thread, as the parent does), with its storage under the facet's id in the parent's
// namespace. Calls go through the loader's facet ops, and through the facet's own mailbox and
// gates there.
class DynamicFacet {
  constructor(parent, idHex, dynamic, publicId) {
    this.parent = parent;
    this.idHex = idHex;
    this.dynamic = dynamic;
    this.broken = null;
    this.reset = undefined; // the reset of the remote instance, once broken
    this.meta = FACET_TARGET_MARKER + JSON.stringify([
      publicId.toString(), publicId.name ?? null, parent.depth + 1, dynamic.props ?? {},
    ]);
  }
  // [handle, class name, parent index, id hex, meta], as the loader's facet ops take it.
  async address() {
    return [await this.dynamic.loaded(), this.dynamic.className, this.parent.index, this.idHex, this.meta];
  }
  async call(method, message) {
    if (this.broken) throw this.broken;
    return ops.op_loader_facet_call(await this.address(), method, message);
  }
  async fetch(request) {
    if (this.broken) throw this.broken;
    const address = await this.address();
    const body = await requestBodyForRust(request);
    const result = await ops.op_loader_facet_fetch(address, [request.method, request.url, headersToList(request.headers), body]);
    return responseFromFetch(result[0], result[1], result[2], result[3], request.url, false, result[6]);
  }
  // Resets the facet's instance in the Dynamic Worker (its unconfirmed writes dropped); resolves
  // once it is reset.
  async abortRemote(err) {
    await ops.op_loader_facet_call(await this.address(), FACET_ABORT, await serializeRpc([err.message]));
  }
  // Resolves once the instance in the Dynamic Worker is reset (at once if it was already).
  breakWith(err) {
    if (this.broken) return this.reset;
    this.broken = err;
    this.reset = this.abortRemote(err).catch(() => {});
    return this.reset;
  }
}

// Whether `facet` (an Actor or a DynamicFacet) still runs.
function facetLive(facet) {
  if (facet === undefined || facet.broken) return false;
  return facet instanceof DynamicFacet || actors.get(facet.key) === facet;
}

// Whether `value` (an export of the worker) is a Durable Object class: it extends
// cloudflare:workers' DurableObject.
function isDurableObjectClass(value) {
  if (typeof value !== "function") return false;
  for (let proto = value; proto !== null && proto !== Function.prototype; proto = Object.getPrototypeOf(proto)) {
    if (proto.name === "DurableObject" && proto !== value) return true;
  }
  return false;
}

function facetName(name) {
  name = String(name);
  if (name.length === 0 || name.length > FACET_NAME_LENGTH_MAX) {
    throw new TypeError(`Facet names must be between 1 and ${FACET_NAME_LENGTH_MAX} characters long.`);
  }
  return name;
}

// The export name of the class a facet's startup options name.
function facetClassName(parent, cls) {
  let name = DurableObjectClass.nameOf(cls);
  if (name === undefined && cls instanceof DurableObjectNamespace) {
    const index = DurableObjectNamespace.indexOf(cls);
    for (const [className, classIndex] of ownObjectClasses) if (classIndex === index) name = className;
  }
  if (name === undefined && typeof cls === "function") {
    for (const [exportName, value] of Object.entries(parent.exports)) if (value === cls) name = exportName;
  }
  if (name === undefined || !isDurableObjectClass(parent.exports[name])) {
    throw new TypeError("The facet's `class` must be one of this worker's Durable Object classes (from ctx.exports).");
  }
  return name;
}

// The hex id a facet's storage lives under: the parent's first 8 bytes (its shard) and last 8
// (its JS thread) around 16 bytes of a hash of the parent's id and the facet's name.
function facetIdHex(parentHex, name) {
  const digest = new Uint8Array(ops.op_crypto_digest("SHA-256", new TextEncoder().encode(`${parentHex}/facet/${name}`)));
  let middle = "";
  for (let i = 0; i < 16; i++) middle += digest[i].toString(16).padStart(2, "0");
  return parentHex.slice(0, 16) + middle + parentHex.slice(48);
}

class DurableObjectFacets {
  #parent;
  constructor(key, parent) {
    if (key !== kAbort) throw new TypeError("Illegal constructor");
    this.#parent = parent;
  }
  get(name, getStartupOptions) {
    name = facetName(name);
    if (typeof getStartupOptions !== "function") {
      throw new TypeError("Failed to execute 'get' on 'DurableObjectFacets': parameter 2 is not a function.");
    }
    if (this.#parent.depth + 1 >= FACET_DEPTH_MAX) {
      throw new Error(`Facets may be nested at most ${FACET_DEPTH_MAX - 1} deep.`);
    }
    return facetStub(this.#parent, name, getStartupOptions);
  }
  abort(name, reason = undefined) {
    const facet = this.#parent.facets.get(facetName(name));
    if (facet === undefined) return;
    const err = reason instanceof Error ? reason : new Error(reason === undefined ? "Facet was aborted." : String(reason));
    if (facet instanceof DynamicFacet) {
      facet.breakWith(err);
      return;
    }
    facet.state.storage.discard();
    facet.breakWith(err);
  }
  async delete(name) {
    name = facetName(name);
    const parent = this.#parent;
    const facet = parent.facets.get(name);
    const err = new Error("Facet was deleted.");
    // A Dynamic Worker's instance of the facet must be gone before its storage is.
    if (facet instanceof DynamicFacet) await facet.breakWith(err);
    this.abort(name, err);
    // Storage alone, without an instance of the facet's class.
    const holder = { idHex: facetIdHex(parent.idHex, name), index: parent.index, storageOps: 0, storageDone() {}, maybeRelease() {} };
    const storage = new DurableObjectStorage(holder);
    storage.deleteAll({ allowConcurrency: true });
    storage.deleteAlarm({ allowConcurrency: true });
    await storage.waitDurable();
    storage.close();
  }
}

// The running facet `name` of `parent`, started (its startup options asked for) if it is not.
async function startFacet(parent, name, getStartupOptions) {
  if (parent.broken) throw parent.broken;
  const running = parent.facets.get(name);
  if (facetLive(running)) return running;
  const options = await getStartupOptions();
  if (parent.broken) throw parent.broken;
  const again = parent.facets.get(name);
  if (again !== running && facetLive(again)) return again;
  const dynamic = DurableObjectClass.dynamicOf(options?.class);
  const className = dynamic === undefined ? facetClassName(parent, options?.class) : undefined;
  let publicId = parent.state.id;
  if (options?.id !== undefined) {
    publicId = options.id instanceof DurableObjectId ? options.id : new DurableObjectId(String(options.id), undefined);
  }
  if (!parent.facets.has(name) && parent.facets.size >= FACETS_PER_OBJECT_MAX) {
    throw new Error(`A Durable Object may have at most ${FACETS_PER_OBJECT_MAX} facets.`);
  }
  const idHex = facetIdHex(parent.idHex, name);
  if (dynamic !== undefined) {
    const facet = new DynamicFacet(parent, idHex, dynamic, publicId);
    parent.facets.set(name, facet);
    return facet;
  }
  const key = `${parent.index}:${idHex}`;
  const facet = new Actor(key, parent.index, className, idHex, undefined, parent.exports, parent.env, { parent, publicId });
  actors.set(key, facet);
  facet.armEviction();
  parent.facets.set(name, facet);
  return facet;
}

// A stub of facet `name`: JS RPC and fetch(), each delivered through the facet's mailbox.
function facetStub(parent, name, getStartupOptions) {
  const start = () => startFacet(parent, name, getStartupOptions);
  const call = (method, args) => rpcPromise((async () => {
    const facet = await start();
    const message = await serializeRpc(args);
    await waitForOutputGates();
    const outcome = facet instanceof DynamicFacet
      ? await facet.call(method, message)
      : await actorCall(facet, method, deserializeRpc(message));
    const [ok, value] = deserializeRpc(outcome);
    if (ok) return value;
    throw value;
  })());
  const fetch = async (input, init = undefined) => {
    const facet = await start();
    const request = new Request(input, init);
    await waitForOutputGates();
    if (facet instanceof DynamicFacet) return facet.fetch(request);
    return facet.deliver(async () => {
      if (typeof facet.instance.fetch !== "function") throw new TypeError("Handler does not export a fetch() function.");
      const response = await facet.instance.fetch(request);
      await facet.outputGate();
      return response;
    });
  };
  const stub = new Proxy(function facetStub() {}, {
    get(_, property) {
      if (typeof property === "symbol" || property === "then" || property === "toJSON") return undefined;
      if (property === "fetch") return fetch;
      if (property === "constructor") return undefined;
      return rpcMember((args) => call(property, args), () => call(RPC_GET_PREFIX + property, []));
    },
  });
  rpcStubs.add(stub);
  return stub;
}
