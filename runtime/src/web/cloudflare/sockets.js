// The built-in `cloudflare:sockets` module. Kiln has no outbound TCP sockets yet: `connect()`
// throws, so code that imports the module starts and fails only where it opens a socket.
export function connect() {
  throw new Error("connect() (cloudflare:sockets) is not supported by Kiln yet.");
}

export default { connect };
