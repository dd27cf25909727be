# workerd's config for the Durable Object benchmark worker (Kiln's is wrangler.jsonc beside it).
# bench/bench.py overrides the socket address (`--socket-addr http=127.0.0.1:PORT`) and the
# storage directory (`--directory-path do-storage=DIR`).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "do-storage", disk = (path = "/tmp/kiln-bench-do-storage", writable = true)),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "main") ],
);

const worker :Workerd.Worker = (
  modules = [ (name = "index.js", esModule = embed "index.js") ],
  compatibilityDate = "2025-01-01",
  durableObjectNamespaces = [
    (className = "Counter", uniqueKey = "kiln-bench-counter"),
    (className = "Room", uniqueKey = "kiln-bench-room"),
  ],
  durableObjectStorage = (localDisk = "do-storage"),
  bindings = [
    (name = "COUNTER", durableObjectNamespace = "Counter"),
    (name = "ROOMS", durableObjectNamespace = "Room"),
  ],
);
