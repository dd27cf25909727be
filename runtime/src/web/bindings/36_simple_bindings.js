// Bindings made from their wrangler description alone (WorkerScript::simple_bindings):
// - `version_metadata`: `{ id, tag, timestamp }` of the running version (one per isolate);
// - `analytics_engine_datasets`: `writeDataPoint()` checks the point as Cloudflare does and
//   logs it (Kiln keeps no analytics store);
// - `ratelimits`: `limit({ key })` with the configured `simple.limit` per `simple.period`
//   seconds, a fixed window per key, counted in this isolate;
// - `send_email`: `send(message)` checks the addresses the binding allows and logs the message
//   (Kiln sends no mail, as `wrangler dev` sends none);
// - `ai`, `browser`, `vectorize`: services Kiln does not have; every call rejects saying so.
const RATELIMIT_KEYS_MAX = 10000;

function analyticsDataset(description) {
  return {
    writeDataPoint(point = {}) {
      const blobs = point.blobs ?? [];
      const doubles = point.doubles ?? [];
      const indexes = point.indexes ?? [];
      if (blobs.length > 20) throw new TypeError("writeDataPoint(): at most 20 blobs");
      if (doubles.length > 20) throw new TypeError("writeDataPoint(): at most 20 doubles");
      if (indexes.length > 1) throw new TypeError("writeDataPoint(): at most 1 index");
      console.debug(`analytics ${description.dataset ?? description.name}: ${JSON.stringify({ blobs, doubles, indexes })}`);
    },
  };
}

function rateLimiter(description) {
  const limit = Number(description.simple?.limit ?? 100);
  const periodMs = Number(description.simple?.period ?? 60) * 1000;
  const windows = new Map(); // key -> [window start, count]
  return {
    async limit(options = {}) {
      const key = String(options?.key ?? "");
      const now = Date.now();
      const start = now - (now % periodMs);
      let entry = windows.get(key);
      if (entry === undefined || entry[0] !== start) {
        if (windows.size >= RATELIMIT_KEYS_MAX) windows.clear();
        entry = [start, 0];
        windows.set(key, entry);
      }
      entry[1] += 1;
      return { success: entry[1] <= limit };
    },
  };
}

function emailSender(description) {
  const allowed = description.allowed_destination_addresses ?? (description.destination_address ? [description.destination_address] : null);
  return {
    async send(message) {
      const to = message?.to;
      if (allowed !== null && !allowed.includes(to)) {
        throw new Error(`email to ${to} not allowed`);
      }
      console.log(`send_email ${description.name}: from ${message?.from} to ${to} (Kiln does not send mail)`);
    },
  };
}

function unavailableBinding(description) {
  const fail = () => Promise.reject(new Error(`The ${description.name} binding is not available in Kiln (it reaches a Cloudflare service Kiln does not have).`));
  return new Proxy({}, { get: (_, name) => (name === "then" ? undefined : fail) });
}

function installSimpleBindings(env, descriptionsJson) {
  for (const description of JSON.parse(descriptionsJson)) {
    let value;
    switch (description.type) {
      case "version_metadata":
        value = Object.freeze({ id: crypto.randomUUID(), tag: "", timestamp: new Date().toISOString() });
        break;
      case "analytics_engine": value = analyticsDataset(description); break;
      case "ratelimit": value = rateLimiter(description); break;
      case "send_email": value = emailSender(description); break;
      default: value = unavailableBinding(description);
    }
    Object.defineProperty(env, description.name, { value, enumerable: true, configurable: true, writable: true });
  }
}

export { installSimpleBindings };
