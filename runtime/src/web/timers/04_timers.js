// setTimeout, setInterval, clearTimeout, clearInterval, queueMicrotask, performance, navigator,
// scheduler.wait.
// A timer's callback runs in the async context (AsyncLocalStorage's stores) it was set in.
function timerCallback(callback, args) {
  const frame = ops.op_async_context_get();
  if (frame === undefined) return args.length ? () => callback(...args) : callback;
  return () => {
    ops.op_async_context_set(frame);
    try {
      callback(...args);
    } finally {
      ops.op_async_context_set(undefined);
    }
  };
}
function setTimeout(callback, delay = 0, ...args) {
  if (typeof callback !== "function") throw new TypeError("Failed to execute 'setTimeout' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'function'.");
  return ops.op_timers_set(timerCallback(callback, args), Number(delay) || 0, false);
}
function setInterval(callback, delay = 0, ...args) {
  if (typeof callback !== "function") throw new TypeError("Failed to execute 'setInterval' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'function'.");
  return ops.op_timers_set(timerCallback(callback, args), Number(delay) || 0, true);
}
function clearTimeout(id) {
  if (typeof id === "number" && id > 0) ops.op_timers_clear(id);
}
function queueMicrotask(callback) {
  if (typeof callback !== "function") throw new TypeError("Failed to execute 'queueMicrotask': parameter 1 is not of type 'Function'.");
  Promise.resolve().then(() => callback()).catch((err) => reportError(err));
}

const performance = {
  timeOrigin: ops.op_timers_time_origin(),
  now: () => ops.op_timers_now(),
  toJSON() { return { timeOrigin: this.timeOrigin }; },
};

const navigator = {
  userAgent: "Cloudflare-Workers", language: "en", languages: ["en"], hardwareConcurrency: 1,
  // Queues a POST of `data` to `url` and does not wait for it (its failure is not reported).
  sendBeacon(url, data = null) {
    globalThis.fetch(url, { method: "POST", body: data }).then((response) => response.body?.cancel(), () => {});
    return true;
  },
};

const scheduler = { wait: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };

for (const [name, value] of Object.entries({ setTimeout, setInterval, clearTimeout, clearInterval: clearTimeout, queueMicrotask, performance, navigator, scheduler })) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}
