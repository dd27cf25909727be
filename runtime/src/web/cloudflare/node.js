// The built-in `cloudflare:node` module: `httpServerHandler()` turns a node:http server made
// with `createServer()` (and `listen(port)`) into a worker's `fetch` handler
// (web/node/55_http_server.js).
import { nodeBuiltin } from "kiln:internal";

export function httpServerHandler(serverOrOptions) {
  return nodeBuiltin("node:http", false).__kilnHttpServerHandler(serverOrOptions);
}

export default { httpServerHandler };
