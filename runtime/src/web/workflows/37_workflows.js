// Workflows: `env.MY_WORKFLOW` of a `workflows` binding, and the engine that runs its instances.
//
// An instance is one SQLite-backed object of Kiln's own class (WorkflowEngine, below; the actor
// builds it for class names starting with WORKFLOW_CLASS_PREFIX), named by the instance id, in
// the namespace `workflow:<workflow name>`. So an instance's state is durable, goes through the
// output gate and is replicated like any object's, and it runs on its object's owner.
//
// The engine runs the worker's WorkflowEntrypoint `run(event, step)` inside the object's alarm
// handler. A step's outcome (its value, or its error once retries are spent) is stored before
// the step returns, so a run replayed from the top after a restart, a sleep or a retry delay
// gets the stored outcomes back without running their callbacks again. Whenever a run has to
// wait (a sleep, a retry delay, an event not yet sent) it suspends: the engine stores its
// status, sets the object's alarm for when to go on, and drops the run (its promise never
// settles; the next alarm replays it). The alarm is set before anything is acknowledged, so an
// instance survives kill -9 of its node: the alarm fires again and the run replays.
const WORKFLOW_CLASS_PREFIX = "__kiln_workflow:"; // object/mod.rs WORKFLOW_CLASS_PREFIX
const WORKFLOW_INSTANCE_ID_LENGTH_MAX = 100;
const WORKFLOW_INSTANCE_ID_PATTERN = /^[a-zA-Z0-9_][a-zA-Z0-9-_]*$/;
const WORKFLOW_STEP_NAME_LENGTH_MAX = 256;
const WORKFLOW_STEPS_MAX = 1024; // steps one run may take (Cloudflare's default limit)
const WORKFLOW_BATCH_MAX = 100; // instances one createBatch() may create
const WORKFLOW_INBOX_MAX = 1000; // events sent to an instance and not yet waited for
const WORKFLOW_RESUMES_MAX = 16; // immediate re-runs (an event arrived while suspending) per alarm
const WORKFLOW_STEP_DEFAULTS = { retries: { limit: 5, delay: 1000, backoff: "exponential" }, timeout: "10 minutes" };
const WORKFLOW_EVENT_TIMEOUT_DEFAULT = "24 hours";
const WORKFLOW_FINISHED = new Set(["complete", "errored", "terminated"]);

function workflowError(message, name = "WorkflowError") {
  const err = new Error(message);
  err.name = name;
  return err;
}

// Milliseconds from a number or a duration such as "10 seconds", "1 minute", "2 hours", "1 day".
const WORKFLOW_DURATION_UNITS = new Map([
  ["ms", 1], ["millisecond", 1], ["milliseconds", 1],
  ["s", 1000], ["sec", 1000], ["secs", 1000], ["second", 1000], ["seconds", 1000],
  ["m", 60000], ["min", 60000], ["mins", 60000], ["minute", 60000], ["minutes", 60000],
  ["h", 3600000], ["hr", 3600000], ["hrs", 3600000], ["hour", 3600000], ["hours", 3600000],
  ["d", 86400000], ["day", 86400000], ["days", 86400000],
  ["w", 604800000], ["week", 604800000], ["weeks", 604800000],
  ["month", 2592000000], ["months", 2592000000],
  ["y", 31536000000], ["year", 31536000000], ["years", 31536000000],
]);
function workflowDuration(value, what) {
  if (typeof value === "number" && Number.isFinite(value) && value >= 0) return value;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(String(value));
  const unit = match && WORKFLOW_DURATION_UNITS.get(match[2].toLowerCase() || "ms");
  if (!unit) throw new TypeError(`${what}: invalid duration ${JSON.stringify(value)}`);
  return Number(match[1]) * unit;
}

function workflowErrorShape(err) {
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: "Error", message: String(err) };
}

// The `error` of an errored instance's status(), as Cloudflare's engine reports it: a step
// that gave up with NonRetryableError ends the instance with a WorkflowFatalError, and a
// timeout is reported as an Error naming WorkflowTimeoutError.
function workflowFailure(err) {
  const shape = workflowErrorShape(err);
  if (shape.name === "NonRetryableError") {
    return { name: "WorkflowFatalError", message: "The execution of the Workflow instance was terminated, as a step threw an NonRetryableError and it was not handled" };
  }
  if (shape.name === "WorkflowTimeoutError") return { name: "Error", message: `WorkflowTimeoutError: ${shape.message}` };
  return shape;
}

function workflowErrorFrom(shape) {
  return workflowError(shape.message, shape.name);
}

// What a step gets when its run has been dropped: a promise that never settles, so the dropped
// run stops where it is.
const workflowNever = () => new Promise(() => {});

// The `step` argument of one run.
class WorkflowStep {
  #engine;
  #generation;
  #counts = new Map();
  #steps = 0;
  constructor(engine, generation) {
    this.#engine = engine;
    this.#generation = generation;
  }
  #live() { return this.#engine.isLive(this.#generation); }
  // A step's storage key: its kind, its name and which occurrence of that name in the run it is.
  #key(kind, name) {
    if (typeof name !== "string") throw new TypeError("A step's name must be a string.");
    // eslint-disable-next-line no-control-regex
    if (name.length > WORKFLOW_STEP_NAME_LENGTH_MAX || /[\x00-\x1f]/.test(name)) {
      throw workflowError(`Step name "${name}" exceeds max length (${WORKFLOW_STEP_NAME_LENGTH_MAX} chars) or invalid characters found`, "WorkflowFatalError");
    }
    if (++this.#steps > WORKFLOW_STEPS_MAX) {
      throw workflowError(`The limit of ${WORKFLOW_STEPS_MAX} steps has been reached.`, "WorkflowFatalError");
    }
    const counted = `${kind}:${name}`;
    const count = (this.#counts.get(counted) ?? 0) + 1;
    this.#counts.set(counted, count);
    return `${kind}:${count}:${name}`;
  }

  // The outcome stored for step `key` as `{ value }` (its error is thrown), undefined when it
  // has none yet; `{ value: never }` once the run was dropped.
  async #recorded(key) {
    if (!this.#live()) return { value: workflowNever() };
    const stored = await this.#engine.storage.get(`s:${key}`);
    if (!this.#live()) return { value: workflowNever() };
    if (stored === undefined) return undefined;
    if (stored.e !== undefined) throw workflowErrorFrom(stored.e);
    return { value: stored.v };
  }

  async do(name, configOrCallback, maybeCallback) {
    const callback = typeof maybeCallback === "function" ? maybeCallback : configOrCallback;
    const given = typeof maybeCallback === "function" ? (configOrCallback ?? {}) : {};
    if (typeof callback !== "function") throw new TypeError("step.do() needs a callback.");
    const key = this.#key("do", name);
    const recorded = await this.#recorded(key);
    if (recorded !== undefined) return recorded.value;
    const engine = this.#engine;
    const storage = engine.storage;
    if (engine.pauseRequested) return engine.suspend(this.#generation, { pause: true });
    const config = {
      ...WORKFLOW_STEP_DEFAULTS,
      ...given,
      retries: { ...WORKFLOW_STEP_DEFAULTS.retries, ...(given.retries ?? {}) },
    };
    const attemptsKey = `a:${key}`;
    const attempts = (await storage.get(attemptsKey)) ?? { count: 0, next: 0 };
    if (attempts.next > Date.now()) return engine.suspend(this.#generation, { until: attempts.next });
    attempts.count += 1;
    attempts.next = 0;
    await storage.put(attemptsKey, attempts);
    const timeoutMs = workflowDuration(config.timeout, "step timeout");
    let timer;
    let result;
    try {
      const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(workflowError(`Execution timed out after ${timeoutMs}ms`, "WorkflowTimeoutError")), timeoutMs);
      });
      result = await Promise.race([Promise.resolve().then(() => callback({ attempt: attempts.count })), timeout]);
    } catch (err) {
      clearTimeout(timer);
      if (!this.#live()) return workflowNever();
      const name = err instanceof Error ? err.name : "";
      const nonRetryable = name === "NonRetryableError" || String(err?.message ?? "").startsWith("NonRetryableError");
      const limit = Number(config.retries.limit);
      if (!nonRetryable && attempts.count <= limit) {
        const delay = workflowDuration(config.retries.delay, "step retry delay");
        const factor = config.retries.backoff === "linear" ? attempts.count
          : config.retries.backoff === "constant" ? 1
          : 2 ** (attempts.count - 1);
        attempts.next = Date.now() + delay * factor;
        await storage.put(attemptsKey, attempts);
        return engine.suspend(this.#generation, { until: attempts.next });
      }
      await storage.put(`s:${key}`, { e: workflowErrorShape(err) });
      throw err;
    }
    clearTimeout(timer);
    if (!this.#live()) return workflowNever();
    try {
      await storage.put(`s:${key}`, { v: result });
    } catch (err) {
      return engine.fail(this.#generation, workflowError(`The execution of the Workflow instance was terminated, as the step "${name}" returned a value which is not serialisable`, "WorkflowFatalError"));
    }
    return result;
  }

  async sleep(name, duration) {
    const ms = workflowDuration(duration, "step.sleep()");
    return this.#sleepUntil(this.#key("sleep", name), () => Date.now() + ms);
  }

  async sleepUntil(name, timestamp) {
    const at = timestamp instanceof Date ? timestamp.getTime() : Number(timestamp);
    if (!Number.isFinite(at)) throw new TypeError("step.sleepUntil() needs a Date or a number of milliseconds.");
    return this.#sleepUntil(this.#key("sleep", name), () => at);
  }

  async #sleepUntil(key, wakeAt) {
    if (!this.#live()) return workflowNever();
    const engine = this.#engine;
    const wakeKey = `w:${key}`;
    let wake = await engine.storage.get(wakeKey);
    if (!this.#live()) return workflowNever();
    if (wake === undefined) {
      wake = wakeAt();
      await engine.storage.put(wakeKey, wake);
    }
    if (Date.now() >= wake) return undefined;
    if (engine.pauseRequested) return engine.suspend(this.#generation, { pause: true });
    return engine.suspend(this.#generation, { until: wake, waiting: true });
  }

  async waitForEvent(name, options = {}) {
    const type = options?.type;
    if (typeof type !== "string" || type === "") throw new TypeError("step.waitForEvent() needs an event type.");
    const timeoutMs = workflowDuration(options.timeout ?? WORKFLOW_EVENT_TIMEOUT_DEFAULT, "step.waitForEvent() timeout");
    const key = this.#key("event", name);
    const recorded = await this.#recorded(key);
    if (recorded !== undefined) return recorded.value;
    const engine = this.#engine;
    const storage = engine.storage;
    const inbox = (await storage.get("events")) ?? [];
    const at = inbox.findIndex((event) => event.type === type);
    if (at >= 0) {
      const [event] = inbox.splice(at, 1);
      const value = { payload: event.payload, timestamp: new Date(event.timestamp), type: event.type };
      // One batch: the event leaves the inbox exactly when the step records it.
      await storage.put({ [`s:${key}`]: { v: value }, events: inbox });
      return value;
    }
    const deadlineKey = `t:${key}`;
    let deadline = await storage.get(deadlineKey);
    if (!this.#live()) return workflowNever();
    if (deadline === undefined) {
      deadline = Date.now() + timeoutMs;
      await storage.put(deadlineKey, deadline);
    }
    if (Date.now() >= deadline) {
      const err = workflowError(`Execution timed out after ${timeoutMs}ms`, "WorkflowTimeoutError");
      await storage.put(`s:${key}`, { e: workflowErrorShape(err) });
      throw err;
    }
    if (engine.pauseRequested) return engine.suspend(this.#generation, { pause: true });
    return engine.suspend(this.#generation, { until: deadline, waiting: true, event: true });
  }
}

// The object behind one workflow instance. Its RPC methods are what the binding calls.
class WorkflowEngine {
  #state;
  #env;
  #exports;
  #className;
  #generation = 0; // bumped whenever the current run is dropped (suspended, terminated, restarted)
  #suspend = null; // resolves the current run's race with a suspension
  #running = false;
  #inboxChanged = false;
  pauseRequested = false;
  constructor(state, env, exports, className) {
    this.#state = state;
    this.#env = env;
    this.#exports = exports;
    this.#className = className;
  }
  get storage() { return this.#state.storage; }
  isLive(generation) { return generation === this.#generation && this.#suspend !== null; }

  // Ends the current run where it stands: the engine records `how` once the run's race sees it.
  suspend(generation, how) {
    if (this.isLive(generation)) {
      const resolve = this.#suspend;
      this.#suspend = null;
      resolve({ suspended: how });
    }
    return workflowNever();
  }

  fail(generation, err) {
    if (this.isLive(generation)) {
      const resolve = this.#suspend;
      this.#suspend = null;
      resolve({ error: err });
    }
    return workflowNever();
  }

  async #meta() {
    const meta = await this.storage.get("meta");
    if (meta === undefined) throw new Error("instance.not_found");
    return meta;
  }

  async create(id, params) {
    if ((await this.storage.get("meta")) !== undefined) throw workflowError(`Workflow instance "${id}" already exists`);
    await this.storage.put("meta", { id, params, created: Date.now(), status: "queued", output: null, error: null });
    await this.storage.setAlarm(Date.now());
  }

  async getStatus() {
    const meta = await this.#meta();
    const status = { status: meta.status, output: meta.output ?? null };
    if (meta.error) status.error = meta.error;
    return status;
  }

  async pause() {
    const meta = await this.#meta();
    if (WORKFLOW_FINISHED.has(meta.status) || meta.status === "paused") return;
    if (this.#running) {
      this.pauseRequested = true;
      meta.status = "waitingForPause";
    } else {
      meta.status = "paused";
      await this.storage.deleteAlarm();
    }
    await this.storage.put("meta", meta);
  }

  async resume() {
    const meta = await this.#meta();
    if (meta.status !== "paused" && meta.status !== "waitingForPause") return;
    this.pauseRequested = false;
    meta.status = this.#running ? "running" : "queued";
    await this.storage.put("meta", meta);
    if (!this.#running) await this.storage.setAlarm(Date.now());
  }

  async terminate() {
    const meta = await this.#meta();
    if (WORKFLOW_FINISHED.has(meta.status)) {
      throw workflowError(`Cannot terminate instance since its status is ${meta.status}`);
    }
    this.#drop();
    meta.status = "terminated";
    await this.storage.put("meta", meta);
    await this.storage.deleteAlarm();
  }

  async restart() {
    const meta = await this.#meta();
    this.#drop();
    this.pauseRequested = false;
    const keys = [...(await this.storage.list()).keys()].filter((key) => key !== "meta");
    for (let i = 0; i < keys.length; i += 128) await this.storage.delete(keys.slice(i, i + 128));
    Object.assign(meta, { status: "queued", output: null, error: null });
    await this.storage.put("meta", meta);
    await this.storage.setAlarm(Date.now());
  }

  async sendEvent(type, payload) {
    if (typeof type !== "string" || type === "") throw new TypeError("sendEvent() needs an event type.");
    const meta = await this.#meta();
    if (WORKFLOW_FINISHED.has(meta.status)) return;
    const inbox = (await this.storage.get("events")) ?? [];
    if (inbox.length >= WORKFLOW_INBOX_MAX) throw workflowError(`too many events waiting (at most ${WORKFLOW_INBOX_MAX})`);
    inbox.push({ type, payload, timestamp: Date.now() });
    await this.storage.put("events", inbox);
    if (this.#running) {
      this.#inboxChanged = true;
    } else if (meta.status === "waiting") {
      await this.storage.setAlarm(Date.now());
    }
  }

  // Drops the current run, if any: its steps never settle and it records nothing more.
  #drop() {
    this.#generation++;
    const resolve = this.#suspend;
    this.#suspend = null;
    if (resolve !== null) resolve({ dropped: true });
  }

  async alarm() {
    if (this.#running) return;
    this.#running = true;
    try {
      for (let round = 0; round < WORKFLOW_RESUMES_MAX; round++) {
        if (!(await this.#runOnce())) return;
      }
      await this.storage.setAlarm(Date.now());
    } catch (err) {
      // Never rethrown: the alarm's own retries would replay the run on top of this one.
      console.error(`workflow ${this.#className}: ${err?.stack ?? err}`);
    } finally {
      // Checked in the same synchronous stretch that ends the run: an event sent while it ran
      // either saw it running (and left this flag) or sees it stopped (and sets the alarm).
      this.#running = false;
      if (this.#inboxChanged) {
        this.#inboxChanged = false;
        await this.storage.setAlarm(Date.now());
      }
    }
  }

  // One run from the top. Returns true when it should run again at once (an event it suspended
  // for arrived meanwhile).
  async #runOnce() {
    const meta = await this.storage.get("meta");
    if (meta === undefined || !["queued", "running", "waiting"].includes(meta.status)) {
      if (meta?.status === "waitingForPause") {
        meta.status = "paused";
        await this.storage.put("meta", meta);
      }
      return false;
    }
    if (meta.status !== "running") {
      meta.status = "running";
      await this.storage.put("meta", meta);
    }
    const generation = ++this.#generation;
    this.#inboxChanged = false;
    const suspended = new Promise((resolve) => { this.#suspend = resolve; });
    const event = { payload: meta.params, timestamp: new Date(meta.created), instanceId: meta.id };
    const step = new WorkflowStep(this, generation);
    const run = Promise.resolve().then(() => {
      const cls = this.#exports[this.#className];
      if (typeof cls !== "function") throw new TypeError(`Workflow class "${this.#className}" is not exported by the worker.`);
      const instance = new cls(workflowExecutionContext(this.#state, this.#exports), this.#env);
      return instance.run(event, step);
    });
    const outcome = await Promise.race([
      run.then((value) => ({ value }), (error) => ({ error })),
      suspended,
    ]);
    if (generation !== this.#generation || outcome.dropped) return false;
    this.#generation++; // whatever the run does next is ignored
    this.#suspend = null;
    const current = await this.storage.get("meta");
    if (current === undefined) return false;
    if (outcome.suspended !== undefined) {
      const how = outcome.suspended;
      if (how.pause) {
        current.status = "paused";
        this.pauseRequested = false;
        await this.storage.put("meta", current);
        return false;
      }
      if (how.event && this.#inboxChanged) return true;
      current.status = this.pauseRequested ? "paused" : how.waiting ? "waiting" : "running";
      await this.storage.put("meta", current);
      if (this.pauseRequested) {
        this.pauseRequested = false;
        return false;
      }
      await this.storage.setAlarm(how.until);
      return false;
    }
    if (outcome.error !== undefined) {
      current.status = "errored";
      current.error = workflowFailure(outcome.error);
      console.error(`workflow ${this.#className} instance ${current.id} errored: ${current.error.name}: ${current.error.message}`);
    } else {
      current.status = "complete";
      current.output = outcome.value ?? null;
    }
    try {
      await this.storage.put("meta", current);
    } catch (err) {
      current.status = "errored";
      current.output = null;
      current.error = { name: "WorkflowFatalError", message: "The output of the Workflow instance is not serialisable" };
      await this.storage.put("meta", current);
    }
    this.pauseRequested = false;
    return false;
  }
}

// The `ctx` a WorkflowEntrypoint is constructed with.
function workflowExecutionContext(state, exports) {
  return {
    waitUntil(promise) { state.waitUntil(promise); },
    passThroughOnException() {},
    get exports() { return selfExports(exports); },
    props: {},
  };
}

// One instance as the binding hands it out.
class WorkflowInstance {
  #stub;
  constructor(id, stub) {
    this.id = id;
    this.#stub = stub;
  }
  pause() { return this.#stub.pause(); }
  resume() { return this.#stub.resume(); }
  terminate() { return this.#stub.terminate(); }
  restart() { return this.#stub.restart(); }
  status() { return this.#stub.getStatus(); }
  async sendEvent(event = {}) {
    await this.#stub.sendEvent(event?.type, event?.payload);
  }
}

// `env.MY_WORKFLOW`.
class Workflow {
  #index;
  #namespace = null;
  constructor(index) {
    this.#index = index;
  }
  #stub(id) {
    if (this.#namespace === null) this.#namespace = new DurableObjectNamespace(this.#index);
    return this.#namespace.get(this.#namespace.idFromName(id));
  }
  async create(options = {}) {
    const id = options?.id ?? crypto.randomUUID();
    if (typeof id !== "string" || id.length > WORKFLOW_INSTANCE_ID_LENGTH_MAX || !WORKFLOW_INSTANCE_ID_PATTERN.test(id)) {
      throw workflowError("Workflow instance has invalid id");
    }
    const stub = this.#stub(id);
    await stub.create(id, options?.params ?? {});
    return new WorkflowInstance(id, stub);
  }
  async createBatch(batch) {
    if (!Array.isArray(batch) || batch.length === 0) throw workflowError("createBatch() needs at least one instance");
    if (batch.length > WORKFLOW_BATCH_MAX) throw workflowError(`createBatch() creates at most ${WORKFLOW_BATCH_MAX} instances`);
    return Promise.all(batch.map((options) => this.create(options)));
  }
  async get(id) {
    if (typeof id !== "string" || id === "") throw workflowError("instance.not_found");
    const stub = this.#stub(id);
    await stub.getStatus();
    return new WorkflowInstance(id, stub);
  }
}
