// fetch(): the request is built in JavaScript and sent by Rust (hyper); the response body
// streams back in as a source.
// A request body for Rust: bytes, a Rust body id, or null; a JavaScript stream is read whole.
async function requestBodyForRust(request) {
  const body = bodyForRust(request[kBody]);
  if (body === null || typeof body !== "object" || typeof body.next !== "function") return body;
  const chunks = [];
  for (let chunk; (chunk = await body.next()) !== undefined;) chunks.push(chunk);
  return concatBytes(chunks);
}

async function fetch(input, init = undefined) {
  const request = new Request(input, init);
  const signal = request.signal;
  signal.throwIfAborted();
  const url = new URL(request.url);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`Fetch API cannot load: ${request.url}`);
  }
  const body = await requestBodyForRust(request);
  // The output gate: a subrequest leaves only after the writes before it are durable.
  await waitForOutputGates();
  const sent = ops.op_fetch_send(request.method, request.url, headersToList(request.headers), body, request.redirect);
  const result = await (signal.aborted ? Promise.reject(signal.reason) : new Promise((resolve, reject) => {
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    sent.then(resolve, reject);
  }));
  const [status, statusText, headerList, bodyId, finalUrl, redirected, socketId] = result;
  return responseFromFetch(status, statusText, headerList, bodyId, finalUrl, redirected, socketId);
}

Object.defineProperty(globalThis, "fetch", { value: fetch, writable: true, configurable: true, enumerable: false });
