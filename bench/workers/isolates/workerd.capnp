# workerd's config for the isolate benchmarks, f and g (Kiln's is wrangler.jsonc beside it).
# bench/bench.py overrides the socket address with `--socket-addr http=127.0.0.1:PORT`.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "main") ],
);

const worker :Workerd.Worker = (
  modules = [ (name = "index.js", esModule = embed "index.js") ],
  compatibilityDate = "2025-01-01",
  bindings = [ (name = "LOADER", workerLoader = ()) ],
);
