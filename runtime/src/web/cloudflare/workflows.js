// The built-in `cloudflare:workflows` module: the error a Workflow step throws to stop retries.
// Kiln does not run Workflows yet; the class exists so code that imports it starts.
export class NonRetryableError extends Error {
  constructor(message, name = "NonRetryableError") {
    super(message);
    this.name = name;
  }
}

export default { NonRetryableError };
