//! The `kiln` binary: the command line, and the glue between configuration, the runtime and
//! the HTTP edge.

mod alarms;
mod config;
mod cron;
mod object_store;
mod server;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use kiln_runtime::{Runtime, RuntimeOptions, Worker};

#[derive(Parser)]
#[command(
    name = "kiln",
    version,
    about = "A self-hosted, clustered runtime for Cloudflare Workers and Durable Objects"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the worker in DIR (its wrangler.jsonc, wrangler.json or wrangler.toml) locally.
    Dev(DevArgs),
}

#[derive(clap::Args)]
struct DevArgs {
    /// The worker's directory.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Port to listen on.
    #[arg(long, default_value_t = 8787, env = "KILN_PORT")]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1", env = "KILN_IP")]
    ip: IpAddr,
    /// A variable for `env`, as KEY:VALUE (repeatable); overrides `vars` and `.dev.vars`.
    #[arg(long = "var", value_name = "KEY:VALUE")]
    vars: Vec<String>,
    /// JS threads (default: one per core).
    #[arg(long, env = "KILN_THREADS")]
    threads: Option<usize>,
    /// Serve /__scheduled?cron=... to trigger the scheduled handler.
    #[arg(long)]
    test_scheduled: bool,
    /// Where Durable Object state lives (default: DIR/.kiln).
    #[arg(long, value_name = "PATH", env = "KILN_PERSIST_TO")]
    persist_to: Option<PathBuf>,
    /// Evict Durable Objects after this long without events (milliseconds).
    #[arg(long, hide = true, default_value_t = kiln_runtime::limits::OBJECT_IDLE_EVICT_MS_DEFAULT)]
    object_idle_evict_ms: u64,
    /// Test hook: delay every storage fsync by this long (milliseconds).
    #[arg(long, hide = true, default_value_t = 0)]
    test_slow_flush_ms: u64,
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Dev(args) => dev(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn dev(args: DevArgs) -> anyhow::Result<()> {
    let loaded = config::load(&args.dir)?;
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    let mut secrets = BTreeMap::new();
    let dev_vars = args.dir.join(".dev.vars");
    if dev_vars.is_file() {
        let text = std::fs::read_to_string(&dev_vars)
            .with_context(|| format!("reading {}", dev_vars.display()))?;
        secrets.extend(config::parse_dev_vars(&text));
    }
    for var in &args.vars {
        let (key, value) = var
            .split_once(':')
            .with_context(|| format!("--var {var:?}: expected KEY:VALUE"))?;
        secrets.insert(key.to_owned(), value.to_owned());
    }
    let mut script = config::worker_script(&loaded, &secrets)?;
    let crons = cron::parse(&loaded.config.triggers.crons).map_err(anyhow::Error::msg)?;
    let persist = args
        .persist_to
        .clone()
        .unwrap_or_else(|| args.dir.join(".kiln"));
    let store = kiln_storage::Store::open(kiln_storage::StoreOptions {
        dir: persist.clone(),
        flush_delay: std::time::Duration::from_millis(args.test_slow_flush_ms),
    })
    .with_context(|| format!("opening Durable Object storage in {}", persist.display()))?;
    for binding in &mut script.durable_objects {
        binding.key = store
            .namespace_key(&binding.namespace)
            .with_context(|| format!("creating the key of namespace {}", binding.namespace))?;
    }
    script.limits.object_idle_evict_ms = args.object_idle_evict_ms.max(1);
    let worker = Worker::new(script)?;

    let threads = args
        .threads
        .unwrap_or_else(|| RuntimeOptions::default().threads);
    let runtime = Runtime::new(RuntimeOptions {
        threads,
        store: Some(Arc::new(object_store::NodeStore(store.clone()))),
    });
    let io = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.clamp(1, 4))
        .enable_all()
        .build()
        .context("starting the I/O runtime")?;
    io.block_on(async move {
        runtime
            .load(&worker)
            .await
            .map_err(|err| anyhow::anyhow!("{}: {err}", worker.name()))?;
        let address = SocketAddr::new(args.ip, args.port);
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("binding {address}"))?;
        let bound = listener.local_addr()?;
        tracing::info!(worker = worker.name(), "Ready on http://{bound}");
        tokio::spawn(alarms::run(
            store.clone(),
            runtime.clone(),
            Arc::clone(&worker),
        ));
        for (text, cron) in crons {
            tokio::spawn(cron::run(runtime.clone(), Arc::clone(&worker), text, cron));
        }
        let site = Arc::new(server::Site {
            runtime,
            worker,
            test_scheduled: args.test_scheduled,
        });
        tokio::select! {
            _ = server::serve(listener, site) => {}
            _ = tokio::signal::ctrl_c() => tracing::info!("shutting down"),
        }
        Ok(())
    })
}
