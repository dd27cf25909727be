// node:diagnostics_channel: named channels that libraries publish to and tools subscribe to.
const diagnosticChannels = new Map();
const DIAGNOSTIC_CHANNELS_MAX = 1024;

class Channel {
  #subscribers = [];
  constructor(name) { this.name = name; }
  get hasSubscribers() { return this.#subscribers.length > 0; }
  subscribe(fn) { this.#subscribers.push(fn); }
  unsubscribe(fn) {
    const at = this.#subscribers.indexOf(fn);
    if (at < 0) return false;
    this.#subscribers.splice(at, 1);
    return true;
  }
  publish(message) {
    for (const fn of [...this.#subscribers]) {
      try { fn(message, this.name); } catch (err) { queueMicrotask(() => { throw err; }); }
    }
  }
  bindStore() {}
  unbindStore() { return false; }
  runStores(message, fn, thisArg, ...args) { this.publish(message); return fn.apply(thisArg, args); }
}

function diagnosticChannel(name) {
  let channel = diagnosticChannels.get(name);
  if (channel === undefined) {
    channel = new Channel(name);
    if (diagnosticChannels.size < DIAGNOSTIC_CHANNELS_MAX) diagnosticChannels.set(name, channel);
  }
  return channel;
}

function tracingChannel(nameOrChannels) {
  const names = ["start", "end", "asyncStart", "asyncEnd", "error"];
  const channels = {};
  for (const event of names) {
    channels[event] = typeof nameOrChannels === "string" ? diagnosticChannel(`tracing:${nameOrChannels}:${event}`) : nameOrChannels[event];
  }
  return {
    ...channels,
    get hasSubscribers() { return names.some((event) => channels[event].hasSubscribers); },
    subscribe(handlers) { for (const event of names) if (handlers[event]) channels[event].subscribe(handlers[event]); },
    unsubscribe(handlers) { for (const event of names) if (handlers[event]) channels[event].unsubscribe(handlers[event]); return true; },
    traceSync(fn, context = {}, thisArg, ...args) {
      channels.start.publish(context);
      try { context.result = fn.apply(thisArg, args); return context.result; } catch (error) { context.error = error; channels.error.publish(context); throw error; } finally { channels.end.publish(context); }
    },
    tracePromise(fn, context = {}, thisArg, ...args) {
      channels.start.publish(context);
      return Promise.resolve(fn.apply(thisArg, args)).then(
        (result) => { context.result = result; channels.asyncEnd.publish(context); return result; },
        (error) => { context.error = error; channels.error.publish(context); throw error; },
      ).finally(() => channels.end.publish(context));
    },
  };
}

const nodeDiagnosticsChannel = {
  channel: diagnosticChannel,
  hasSubscribers: (name) => diagnosticChannels.get(name)?.hasSubscribers ?? false,
  subscribe: (name, fn) => diagnosticChannel(name).subscribe(fn),
  unsubscribe: (name, fn) => diagnosticChannel(name).unsubscribe(fn),
  tracingChannel,
  Channel,
};
