// env.ASSETS (wrangler's `assets.binding`): a Fetcher whose fetch() answers from the worker's
// static assets (runtime/src/assets), as the edge would for the same path.
function assetsFetcher() {
  const fetcher = {
    async fetch(input, init) {
      const request = new Request(input, init);
      const result = await ops.op_assets_fetch([request.method, request.url, headersToList(request.headers), null]);
      return responseFromFetch(result[0], result[1], result[2], result[3], request.url, false, result[6]);
    },
    connect() {
      throw new Error("connect() is not available on an assets binding.");
    },
  };
  rpcStubs.add(fetcher);
  return fetcher;
}

function installAssetsBinding(env, name) {
  Object.defineProperty(env, name, { value: assetsFetcher(), enumerable: true, configurable: true, writable: true });
}

export { installAssetsBinding };
