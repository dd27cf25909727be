// The built-in `cloudflare:workers` module.
import { env } from "kiln:internal";

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

export class RpcTarget {}

export class RpcStub {
  constructor() {
    throw new TypeError("RpcStub is not supported by Kiln yet.");
  }
}

export { env };

export function waitUntil() {
  throw new Error("waitUntil() from cloudflare:workers needs a request context; use ctx.waitUntil().");
}

export default { WorkerEntrypoint, DurableObject, WorkflowEntrypoint, RpcTarget, RpcStub, env, waitUntil };
