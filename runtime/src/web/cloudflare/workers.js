// The built-in `cloudflare:workers` module.
import { env, RpcTarget, workerExports as exports } from "kiln:internal";

export class WorkerEntrypoint {
  constructor(ctx, env) {
    this.ctx = ctx;
    this.env = env;
  }
}

export class DurableObject {
  constructor(ctx, env) {
    this.ctx = ctx;
    this.env = env;
  }
}

export class WorkflowEntrypoint {
  constructor(ctx, env) {
    this.ctx = ctx;
    this.env = env;
  }
}

export { RpcTarget };

export class RpcStub {
  constructor() {
    throw new TypeError("RpcStub is not supported by Kiln yet.");
  }
}

export { env, exports };

// Kiln keeps isolates alive between requests, so the promise runs to its end whichever request
// is in flight; its failure is logged like an unhandled rejection.
export function waitUntil(promise) {
  Promise.resolve(promise).catch((err) => console.error(err));
}

export default { WorkerEntrypoint, DurableObject, WorkflowEntrypoint, RpcTarget, RpcStub, env, exports, waitUntil };
