// The built-in `cloudflare:sockets` module: `connect()` opens a TCP (or TLS) connection
// (web/connect/35_connect.js).
import { tcpConnect } from "kiln:internal";

export function connect(address, options) {
  return tcpConnect(address, options);
}

export default { connect };
