// Service bindings: `env.SVC` (a Fetcher) reaches another worker's entrypoint with fetch() and
// JS RPC; dispatchEntrypointCall runs an incoming RPC call on a WorkerEntrypoint.
const RPC_NOT_CALLABLE = new Set(["constructor", "fetch", "connect", "dup", "alarm", "webSocketMessage", "webSocketClose", "webSocketError"]);

async function serviceFetch(index, input, init) {
  const request = new Request(input, init);
  const body = await requestBodyForRust(request);
  await waitForOutputGates();
  const result = await ops.op_service_fetch(index, [request.method, request.url, headersToList(request.headers), body, request[kCfWire]()]);
  return responseFromFetch(result[0], result[1], result[2], result[3], request.url, false, result[6]);
}

async function serviceCall(index, method, args) {
  const message = await serializeRpc(args);
  await waitForOutputGates();
  const [ok, value] = deserializeRpc(await ops.op_service_call(index, method, message));
  if (ok) return value;
  throw value;
}

// Which service binding a stub is (for passing it on, as a Dynamic Worker's env does).
const serviceStubIndexes = new WeakMap();

function serviceStub(index) {
  const target = {
    fetch: (input, init) => serviceFetch(index, input, init),
    connect() {
      throw new Error("connect() through a service binding is not supported by Kiln yet.");
    },
  };
  const stub = new Proxy(target, {
    get(object, property) {
      if (Object.prototype.hasOwnProperty.call(object, property)) return object[property];
      if (typeof property === "symbol" || property === "then" || property === "toJSON") return undefined;
      if (property === "dup") return () => stub;
      if (RPC_NOT_CALLABLE.has(property)) return undefined;
      return rpcStubMember((method, args) => serviceCall(index, method, args), property);
    },
  });
  serviceStubIndexes.set(stub, index);
  rpcStubs.add(stub);
  return stub;
}

// An RPC call from another worker: `method` on a new instance of the entrypoint's class.
async function dispatchEntrypointCall(exports, env, entrypoint, props, method, packed) {
  const ctx = new ExecutionContext(props ? JSON.parse(props) : undefined, exports);
  let outcome;
  try {
    const args = deserializeRpc(packed);
    const name = entrypoint ?? "default";
    const target = exports[name];
    if (target === undefined || target === null) {
      throw new TypeError(name === "default" ? "The worker has no default export." : `The worker has no export named "${name}".`);
    }
    const instance = typeof target === "function" ? new target(ctx, env) : null;
    outcome = [true, await invokeRpcMember(instance, method, args, RPC_NOT_CALLABLE)];
  } catch (err) {
    outcome = [false, err];
  }
  // waitUntil() work goes on after the result, as it does after a response.
  drainWaitUntil(ctx).catch((err) => reportError(err));
  try {
    return await serializeRpc(outcome);
  } catch (err) {
    return await serializeRpc([false, err]);
  }
}

// ctx.exports: a stub for each of this worker's entrypoints; calling one with `{props}` gives
// a stub that passes those props (`ctx.exports.Gateway({props})`, as Dynamic Workers' outbound).
const selfStubDescriptors = new WeakMap(); // stub -> [entrypoint, props JSON]

function selfStub(entrypoint, props) {
  const target = function selfEntrypoint(options = undefined) {
    return selfStub(entrypoint, options?.props === undefined ? undefined : JSON.stringify(options.props));
  };
  const methods = {
    async fetch(input, init) {
      const request = new Request(input, init);
      const body = await requestBodyForRust(request);
      await waitForOutputGates();
      const result = await ops.op_self_fetch(entrypoint, props, [request.method, request.url, headersToList(request.headers), body]);
      const [status, statusText, headerList, bodyId, , , socketId] = result;
      return responseFromFetch(status, statusText, headerList, bodyId, request.url, false, socketId);
    },
  };
  const stub = new Proxy(target, {
    get(object, property) {
      if (property === "fetch") return methods.fetch;
      if (typeof property === "symbol" || property === "then" || property === "toJSON") return undefined;
      if (property === "dup") return () => stub;
      if (RPC_NOT_CALLABLE.has(property)) return undefined;
      return rpcStubMember(async (method, args) => {
        const message = await serializeRpc(args);
        await waitForOutputGates();
        const [ok, value] = deserializeRpc(await ops.op_self_call(entrypoint, props, method, message));
        if (ok) return value;
        throw value;
      }, property);
    },
  });
  selfStubDescriptors.set(stub, [entrypoint, props]);
  rpcStubs.add(stub);
  return stub;
}

// ctx.exports: a Durable Object namespace for each of the worker's own object classes, a
// loopback service stub for each other entrypoint. Made once per exports object.
let selfExportsMade = null;
function selfExports(exports) {
  if (selfExportsMade !== null && selfExportsMade[0] === exports) return selfExportsMade[1];
  const result = {};
  for (const name of Object.keys(exports)) {
    const value = exports[name];
    const namespace = typeof value === "function" ? ownObjectNamespace(name) : undefined;
    if (namespace !== undefined) {
      result[name] = namespace;
    } else if (isDurableObjectClass(value)) {
      result[name] = new DurableObjectClass(kAbort, name);
    } else if (typeof value === "function" || (name === "default" && value !== null && typeof value === "object")) {
      result[name] = selfStub(name === "default" ? undefined : name, undefined);
    }
  }
  selfExportsMade = [exports, result];
  return result;
}

// `exports` of cloudflare:workers: ctx.exports without a ctx, read when used (the worker's
// module has been evaluated by then; at its top level it is still empty).
const workerExports = new Proxy({}, {
  get(_, name) {
    const exports = ops.op_worker_exports();
    return exports === undefined ? undefined : selfExports(exports)[name];
  },
  has(_, name) {
    const exports = ops.op_worker_exports();
    return exports !== undefined && name in selfExports(exports);
  },
  ownKeys() {
    const exports = ops.op_worker_exports();
    return exports === undefined ? [] : Reflect.ownKeys(selfExports(exports));
  },
  getOwnPropertyDescriptor(_, name) {
    const exports = ops.op_worker_exports();
    if (exports === undefined) return undefined;
    const made = selfExports(exports);
    return name in made ? { value: made[name], enumerable: true, configurable: true, writable: false } : undefined;
  },
});

function installServiceBindings(env, names) {
  names.forEach((name, index) => {
    Object.defineProperty(env, name, { value: serviceStub(index), enumerable: true, configurable: true, writable: true });
  });
}

export { dispatchEntrypointCall, installServiceBindings, workerExports };
