// Queues: the producer binding (`env.QUEUE.send`, `sendBatch`; runtime/src/queue) and the
// consumer's `queue(batch, env, ctx)` event, whose per-message outcome (ack or retry, with a
// delay) goes back to the node's consumer loop.
const QUEUE_CONTENT_TYPES = ["text", "bytes", "json", "v8"];

function queueBody(body, contentType = "json") {
  if (!QUEUE_CONTENT_TYPES.includes(contentType)) {
    throw new TypeError(`Unknown content type "${contentType}"; use one of ${QUEUE_CONTENT_TYPES.join(", ")}.`);
  }
  if (contentType === "text" && typeof body !== "string") throw new TypeError("Content Type \"text\" is only supported with string bodies.");
  if (contentType === "bytes" && !(body instanceof ArrayBuffer || ArrayBuffer.isView(body))) {
    throw new TypeError("Content Type \"bytes\" is only supported with ArrayBuffer or ArrayBufferView bodies.");
  }
  if (contentType === "json") JSON.stringify(body);
  return serializeValue(body);
}

function queueDelay(options) {
  const delay = options?.delaySeconds;
  if (delay === undefined) return null;
  if (typeof delay !== "number" || !Number.isFinite(delay) || delay < 0 || delay > 43200) {
    throw new RangeError("delaySeconds must be a number between 0 and 43200.");
  }
  return delay;
}

class WorkerQueue {
  #index;
  constructor(index) { this.#index = index; }
  async send(body, options = {}) {
    if (arguments.length === 0) throw new TypeError("Queue.send: 1 argument required.");
    await ops.op_queue_send(this.#index, JSON.stringify([[queueBody(body, options?.contentType), options?.contentType ?? "json", queueDelay(options)]]));
  }
  async sendBatch(messages, options = {}) {
    const list = [...messages];
    if (list.length === 0) throw new TypeError("Queue.sendBatch: the batch has no messages.");
    const batchDelay = queueDelay(options);
    await ops.op_queue_send(this.#index, JSON.stringify(list.map((m) => {
      const delay = queueDelay(m);
      return [queueBody(m.body, m.contentType), m.contentType ?? "json", delay ?? batchDelay];
    })));
  }
}

function installQueueBindings(env, names) {
  names.forEach((name, index) => {
    Object.defineProperty(env, name, { value: new WorkerQueue(index), enumerable: true, configurable: true, writable: true });
  });
}

// A consumer's `queue(batch, env, ctx)`: the outcome of each message as JSON, in order: ["ack"] or
// ["retry", delay seconds or null]. An explicit ack() or retry() of a message wins over ackAll()
// and retryAll(); without either, messages are acked when the handler returns and retried when
// it throws.
async function dispatchQueue(exports, env, queueName, messagesJson) {
  const ctx = new ExecutionContext(undefined, exports);
  const stored = JSON.parse(messagesJson);
  const outcomes = new Map();
  let all = null;
  const messages = stored.map((m) => Object.freeze({
    id: m.id,
    timestamp: new Date(m.timestamp),
    body: deserializeValue(m.body),
    attempts: m.attempts,
    ack() { if (!outcomes.has(m.id)) outcomes.set(m.id, ["ack"]); },
    retry(options = {}) { if (!outcomes.has(m.id)) outcomes.set(m.id, ["retry", queueDelay(options)]); },
  }));
  const batch = Object.freeze({
    queue: queueName,
    messages,
    ackAll() { if (all === null) all = ["ack"]; },
    retryAll(options = {}) { if (all === null) all = ["retry", queueDelay(options)]; },
  });
  const handler = handlerFor(exports, null, env, ctx, "queue");
  if (!handler) throw new Error("Handler does not export a queue() function.");
  let failed = false;
  try {
    await handler(batch);
  } catch (err) {
    failed = true;
    reportError(err);
  }
  await drainWaitUntil(ctx);
  return JSON.stringify(stored.map((m) => outcomes.get(m.id) ?? all ?? (failed ? ["retry", null] : ["ack"])));
}

export { dispatchQueue, installQueueBindings };
