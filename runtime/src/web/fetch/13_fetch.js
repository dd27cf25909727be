// fetch(): the request is built in JavaScript and sent by Rust (hyper); the response body
// streams back in as a source.
// A request body for Rust: bytes, a Rust body id, null, or a JavaScript stream's pump (sent
// as it is read: the response may arrive while the body is still being written).
async function requestBodyForRust(request) {
  return bodyForRust(request[kBody]);
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
