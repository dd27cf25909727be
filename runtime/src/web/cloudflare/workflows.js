// The built-in `cloudflare:workflows` module: the error a Workflow step throws to stop retries
// (the engine, web/workflows/37_workflows.js, recognizes it by its name).
export class NonRetryableError extends Error {
  constructor(message, name = "NonRetryableError") {
    super(message);
    this.name = name;
  }
}

export default { NonRetryableError };
