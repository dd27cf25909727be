// Dynamic Workers: `env.LOADER.get(id, getCode)` / `load(code)` and the WorkerStub whose
// entrypoints are reached with fetch() and JS RPC. The code is described to Rust once per stub,
// on first use; a failing getCode() fails every call on the stub.
const LOADER_MODULE_KINDS = ["js", "cjs", "text", "data", "json", "py", "wasm"];
const NO_INTERNET_MESSAGE = "This worker is not permitted to access the internet via global functions like fetch(). It must use capabilities (such as bindings in 'env') to talk to the outside world.";

function describeModules(modules) {
  if (modules === null || typeof modules !== "object") throw new TypeError("WorkerCode.modules must be an object.");
  const described = [];
  for (const [name, value] of Object.entries(modules)) {
    if (typeof value === "string") {
      if (!name.endsWith(".js") && !name.endsWith(".py")) {
        throw new TypeError(`Module name must end with '.js' or '.py' when its content is a string: "${name}". Give other modules a type ({text}, {data}, {json}, ...), or bundle the code first.`);
      }
      if (name.endsWith(".py")) throw new TypeError("Python Workers are not supported by Kiln.");
      described.push([name, "js", value]);
      continue;
    }
    if (value === null || typeof value !== "object") throw new TypeError(`Module "${name}" must be a string or an object.`);
    const kinds = LOADER_MODULE_KINDS.filter((kind) => kind in value);
    if (kinds.length !== 1) {
      throw new TypeError(`Module "${name}" must have exactly one of ${LOADER_MODULE_KINDS.join(", ")}.`);
    }
    const [kind] = kinds;
    if (kind === "py") throw new TypeError("Python Workers are not supported by Kiln.");
    if (kind === "wasm") throw new TypeError(`Module "${name}": Kiln runs JavaScript on QuickJS, which has no WebAssembly.`);
    let content = value[kind];
    if (kind === "json") content = JSON.stringify(content);
    if (kind === "data") {
      if (!(content instanceof ArrayBuffer) && !ArrayBuffer.isView(content)) throw new TypeError(`Module "${name}": data must be an ArrayBuffer.`);
    } else if (typeof content !== "string") {
      throw new TypeError(`Module "${name}": ${kind} must be a string.`);
    }
    described.push([name, kind, content]);
  }
  return described;
}

// The WorkerCode as op_loader_load reads it.
function describeCode(code) {
  if (code === null || typeof code !== "object") throw new TypeError("The code loader must return a WorkerCode object.");
  if (typeof code.compatibilityDate !== "string") throw new TypeError("WorkerCode.compatibilityDate is required.");
  if (typeof code.mainModule !== "string") throw new TypeError("WorkerCode.mainModule is required.");
  const modules = describeModules(code.modules);
  if (!modules.some(([name]) => name === code.mainModule)) {
    throw new TypeError(`WorkerCode.mainModule "${code.mainModule}" is not among the modules.`);
  }
  const plain = {};
  let references = null;
  const kvNames = [], kvIndexes = [], serviceNames = [], serviceIndexes = [];
  for (const [name, value] of Object.entries(code.env ?? {})) {
    if (value !== null && typeof value === "object" && kvNamespaceIndexes.has(value)) {
      kvNames.push(name);
      kvIndexes.push(kvNamespaceIndexes.get(value));
    } else if (value !== null && typeof value === "object" && serviceStubIndexes.has(value)) {
      serviceNames.push(name);
      serviceIndexes.push(serviceStubIndexes.get(value));
    } else if (rpcStubs.has(value) || value instanceof RpcTarget || typeof value === "function") {
      // Durable Object stubs, ctx.exports stubs, RpcTargets and functions go by reference:
      // the Dynamic Worker's calls come back to this isolate (see 16_rpc.js).
      (references ??= {})[name] = value;
    } else {
      plain[name] = structuredClone(value);
    }
  }
  if (references !== null) plain[RPC_ENV_KEY] = serializeRpc(references);
  let outbound = "inherit";
  if (code.globalOutbound === null) outbound = "blocked";
  else if (code.globalOutbound !== undefined) {
    if (serviceStubIndexes.has(code.globalOutbound)) {
      outbound = serviceStubIndexes.get(code.globalOutbound);
    } else if (selfStubDescriptors.has(code.globalOutbound)) {
      const [entrypoint, props] = selfStubDescriptors.get(code.globalOutbound);
      outbound = JSON.stringify({ entrypoint: entrypoint ?? null, props: props ?? null });
    } else {
      throw new TypeError("WorkerCode.globalOutbound must be null, a service binding, or one of ctx.exports.");
    }
  }
  // tails: Tail Workers, as the parent's service bindings (an index) or its own default export.
  const tails = [];
  for (const tail of code.tails ?? []) {
    if (serviceStubIndexes.has(tail)) tails.push(serviceStubIndexes.get(tail));
    else if (selfStubDescriptors.has(tail)) tails.push(-1);
    else throw new TypeError("WorkerCode.tails must hold service bindings or ctx.exports entrypoints.");
  }
  return {
    tails,
    compatibilityDate: code.compatibilityDate,
    compatibilityFlags: (code.compatibilityFlags ?? []).map(String),
    mainModule: code.mainModule,
    modules,
    env: JSON.stringify(plain),
    kvNames, kvIndexes, serviceNames, serviceIndexes,
    outbound,
    cpuMs: code.limits?.cpuMs,
    subRequests: code.limits?.subRequests,
  };
}

class WorkerStub {
  #id;
  #getCode;
  #handle = null;
  constructor(token, id, getCode) {
    if (token !== kLoaderCreate) throw new TypeError("Illegal constructor");
    this.#id = id;
    this.#getCode = getCode;
  }

  // The built worker's handle, building it on first use.
  #loaded() {
    if (this.#handle === null) {
      // getCode runs only on a cold start: a worker already built under this id is reused.
      const cached = this.#id === null ? null : ops.op_loader_cached(this.#id);
      this.#handle = cached ? Promise.resolve(cached) : Promise.resolve()
        .then(() => this.#getCode())
        .then((code) => ops.op_loader_load(this.#id, describeCode(code)));
      this.#handle.catch(() => {});
    }
    return this.#handle;
  }

  // The built worker's handle, held to `limits` (the lower of the loader's and these wins).
  #limited(limits) {
    if (limits === undefined || limits === null) return () => this.#loaded();
    const cpuMs = limits.cpuMs === undefined ? undefined : Number(limits.cpuMs);
    const subRequests = limits.subRequests === undefined ? undefined : Number(limits.subRequests);
    return () => this.#loaded().then((handle) => ops.op_loader_limited(handle, cpuMs, subRequests));
  }

  getEntrypoint(name = undefined, options = undefined) {
    const entrypoint = name === undefined || name === null ? undefined : String(name);
    const props = options?.props === undefined ? undefined : JSON.stringify(options.props);
    return dynamicFetcher(this.#limited(options?.limits), entrypoint, props);
  }

  // A Durable Object class of the Dynamic Worker, for `ctx.facets.get(name, () => ({class}))`
  // in one of the parent's objects: the facet runs in the Dynamic Worker, its storage is the
  // parent's. `name` is the class's export name (the default export when omitted).
  getDurableObjectClass(name = undefined, options = undefined) {
    const className = name === undefined || name === null ? "default" : String(name);
    const props = options?.props === undefined ? undefined : structuredClone(options.props);
    return new DurableObjectClass(kAbort, className, { loaded: this.#limited(options?.limits), className, props });
  }
}

function dynamicFetcher(loaded, entrypoint, props) {
  const target = {
    async fetch(input, init) {
      const handle = await loaded();
      const request = new Request(input, init);
      const body = await requestBodyForRust(request);
      await waitForOutputGates();
      const result = await ops.op_loader_fetch(handle, entrypoint, props, [request.method, request.url, headersToList(request.headers), body]);
      const [status, statusText, headerList, bodyId, , , socketId] = result;
      return responseFromFetch(status, statusText, headerList, bodyId, request.url, false, socketId);
    },
    connect() {
      throw new Error("connect() to a Dynamic Worker is not supported by Kiln yet.");
    },
  };
  const stub = new Proxy(target, {
    get(object, property) {
      if (Object.prototype.hasOwnProperty.call(object, property)) return object[property];
      if (typeof property === "symbol" || property === "then" || property === "toJSON") return undefined;
      if (property === "dup") return () => stub;
      if (RPC_NOT_CALLABLE.has(property)) return undefined;
      return rpcStubMember(async (method, args) => {
        const handle = await loaded();
        const message = await serializeRpc(args);
        await waitForOutputGates();
        const [ok, value] = deserializeRpc(await ops.op_loader_call(handle, entrypoint, props, method, message));
        if (ok) return value;
        throw value;
      }, property);
    },
  });
  rpcStubs.add(stub);
  return stub;
}

const kLoaderCreate = Symbol("loaderCreate");

class WorkerLoader {
  constructor(token) {
    if (token !== kLoaderCreate) throw new TypeError("Illegal constructor");
  }
  get(id, getCode) {
    if (typeof getCode !== "function") throw new TypeError("WorkerLoader.get() needs a function that returns the code.");
    return new WorkerStub(kLoaderCreate, id === null || id === undefined ? null : String(id), getCode);
  }
  load(code) {
    return this.get(null, () => code);
  }
}

// The env entry that carries a Dynamic Worker's references (an RPC message), and the setup
// that turns it back into stubs in the Dynamic Worker's isolate.
const RPC_ENV_KEY = "__kiln_rpc_env";
function installRpcEnv(env) {
  const message = env[RPC_ENV_KEY];
  if (typeof message !== "string") return;
  delete env[RPC_ENV_KEY];
  for (const [name, value] of Object.entries(deserializeRpc(message))) {
    Object.defineProperty(env, name, { value, enumerable: true, configurable: true, writable: true });
  }
}

function installWorkerLoaders(env, names) {
  for (const name of names) {
    Object.defineProperty(env, name, { value: new WorkerLoader(kLoaderCreate), enumerable: true, configurable: true, writable: true });
  }
}

export { installRpcEnv, installWorkerLoaders };
