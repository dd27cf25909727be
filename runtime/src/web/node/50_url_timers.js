// node:url (the WHATWG URL classes, file URL conversions, and the legacy parse/format over
// them), node:timers and node:timers/promises (the global timers, as Node names them).
function fileURLToPath(url) {
  const parsed = typeof url === "string" ? new URL(url) : url;
  if (parsed.protocol !== "file:") throw new TypeError("The URL must be of scheme file");
  return decodeURIComponent(parsed.pathname);
}

function pathToFileURL(path) {
  const url = new URL("file:///");
  url.pathname = String(path).split("/").map(encodeURIComponent).join("/");
  return url;
}

// url.parse() in the shape Node's legacy API returns, from a WHATWG parse.
function legacyParse(text, parseQuery = false) {
  let url;
  try {
    url = new URL(text);
  } catch {
    url = new URL(text, "http://relative.invalid");
    const query = url.search === "" ? null : url.search.slice(1);
    return { protocol: null, slashes: null, auth: null, host: null, port: null, hostname: null, hash: url.hash || null, search: url.search || null, query: parseQuery ? Object.fromEntries(url.searchParams) : query, pathname: url.pathname, path: url.pathname + url.search, href: text };
  }
  const auth = url.username ? (url.password ? `${url.username}:${url.password}` : url.username) : null;
  const query = url.search === "" ? null : url.search.slice(1);
  return {
    protocol: url.protocol, slashes: true, auth, host: url.host, port: url.port || null, hostname: url.hostname,
    hash: url.hash || null, search: url.search || null, query: parseQuery ? Object.fromEntries(url.searchParams) : query,
    pathname: url.pathname, path: url.pathname + url.search, href: url.href,
  };
}

function legacyFormat(value) {
  if (typeof value === "string") return value;
  if (value instanceof URL) return value.href;
  const protocol = value.protocol ? (value.protocol.endsWith(":") ? value.protocol : `${value.protocol}:`) : "";
  const host = value.host ?? (value.hostname ? `${value.hostname}${value.port ? `:${value.port}` : ""}` : "");
  const auth = value.auth ? `${value.auth}@` : "";
  let search = value.search ?? "";
  if (!search && value.query && typeof value.query === "object") search = `?${new URLSearchParams(value.query)}`;
  else if (!search && typeof value.query === "string" && value.query) search = `?${value.query}`;
  const slashes = protocol && (value.slashes || host) ? "//" : "";
  return `${protocol}${slashes}${auth}${host}${value.pathname ?? ""}${search}${value.hash ?? ""}`;
}

const nodeUrl = {
  URL, URLSearchParams, fileURLToPath, pathToFileURL,
  parse: legacyParse, format: legacyFormat,
  resolve(from, to) { return new URL(to, new URL(from, "resolve://")).href.replace(/^resolve:\/\//, ""); },
  domainToASCII(domain) { try { return new URL(`http://${domain}`).hostname; } catch { return ""; } },
  domainToUnicode(domain) { return String(domain); },
};

const nodeTimersPromises = {
  setTimeout(ms, value, options = undefined) {
    return new Promise((resolve, reject) => {
      const signal = options?.signal;
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(() => resolve(value), ms);
      signal?.addEventListener("abort", () => { clearTimeout(timer); reject(signal.reason); }, { once: true });
    });
  },
  setImmediate(value) { return new Promise((resolve) => setTimeout(() => resolve(value), 0)); },
  async *setInterval(ms, value) {
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, ms));
      yield value;
    }
  },
  scheduler: { wait: (ms) => new Promise((resolve) => setTimeout(resolve, ms)), yield: () => new Promise((resolve) => setTimeout(resolve, 0)) },
};

const nodeTimers = {
  setTimeout: (...args) => globalThis.setTimeout(...args),
  clearTimeout: (id) => globalThis.clearTimeout(id),
  setInterval: (...args) => globalThis.setInterval(...args),
  clearInterval: (id) => globalThis.clearInterval(id),
  setImmediate: (fn, ...args) => globalThis.setTimeout(fn, 0, ...args),
  clearImmediate: (id) => globalThis.clearTimeout(id),
  promises: nodeTimersPromises,
  // Deprecated and gone from Node's docs, but still exported there.
  active: () => {},
  enroll: () => {},
  unenroll: () => {},
};
