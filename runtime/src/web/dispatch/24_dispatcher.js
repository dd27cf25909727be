// Workers for Platforms: `env.DISPATCHER.get(name, args, {limits, outbound})` returns a Fetcher
// for a script of the dispatch namespace (fetch() and JS RPC), run with the given limits and
// with its fetch() calls sent through the namespace's outbound worker.
const kDispatcherCreate = Symbol("dispatcherCreate");

class DispatchNamespace {
  #index;
  constructor(token, index) {
    if (token !== kDispatcherCreate) throw new TypeError("Illegal constructor");
    this.#index = index;
  }

  get(name, args = undefined, options = undefined) {
    const limits = options?.limits ?? {};
    const cpuMs = limits.cpuMs === undefined ? undefined : Number(limits.cpuMs);
    const subRequests = (limits.subRequests ?? limits.subrequests) === undefined ? undefined : Number(limits.subRequests ?? limits.subrequests);
    const outbound = options?.outbound === undefined ? undefined : JSON.stringify(options.outbound);
    const handle = ops.op_dispatch_get(this.#index, String(name), cpuMs, subRequests, outbound);
    return dynamicFetcher(() => Promise.resolve(handle), undefined, undefined);
  }
}

function installDispatchers(env, names) {
  names.forEach((name, index) => {
    Object.defineProperty(env, name, { value: new DispatchNamespace(kDispatcherCreate, index), enumerable: true, configurable: true, writable: true });
  });
}

export { installDispatchers };
