//! The `kiln` binary: the command line, and the glue between configuration, the runtime and
//! the HTTP edge.

mod admin;
mod admin_client;
mod alarms;
mod cluster;
mod config;
mod cron;
mod d1_cli;
mod deploy;
mod deployments;
#[cfg(test)]
mod fuzz_mutator;
#[cfg(test)]
mod fuzz_targets;
mod kv_api;
mod kv_cli;
mod metrics;
mod object_store;
mod queues;
mod serve;
mod server;
mod tail;
mod upload_api;
mod websocket;

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
    /// List, inspect and delete Durable Objects of a running node (its admin API).
    Objects(ObjectsArgs),
    /// Upload a wrangler project to a running node (served at <name>.<host>), or into a dispatch namespace.
    Deploy(deploy::DeployArgs),
    /// Run SQL and migrations on a running node's D1 databases, as `wrangler d1` does.
    D1(d1_cli::D1Args),
    /// Read and write a running node's Workers KV namespaces (its KV REST API).
    Kv(kv_cli::KvArgs),
    /// Print a script's invocations live (outcome, request, console logs, exceptions) as JSON.
    Tail(tail::TailArgs),
    /// Run one node of a cluster (see `kiln.toml`): Durable Objects replicated with Raft.
    Serve(serve::ServeArgs),
    /// Form a cluster, or show what a node knows of it.
    Cluster(serve::ClusterArgs),
}

#[derive(clap::Args)]
struct ObjectsArgs {
    #[command(subcommand)]
    action: ObjectsAction,
    #[command(flatten)]
    node: admin_client::NodeArgs,
}

#[derive(Subcommand)]
enum ObjectsAction {
    /// The objects of NAMESPACE (a class or binding name) that hold data or an alarm.
    List { namespace: String },
    /// One object's keys, values and alarm, as JSON.
    Get { namespace: String, object: String },
    /// Delete one object's data and alarm.
    Delete { namespace: String, object: String },
}

#[derive(clap::Args)]
struct DevArgs {
    /// The worker's directory; more directories run more workers beside it, reachable from
    /// the first through service bindings (as `wrangler dev -c a -c b` does).
    #[arg(default_value = ".")]
    dirs: Vec<PathBuf>,
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
    /// Token for the admin API (default: a random one, written to the state directory).
    #[arg(long, env = "KILN_ADMIN_TOKEN")]
    admin_token: Option<String>,
    /// Use the config's `[env.NAME]` environment, as `wrangler dev --env NAME` does.
    #[arg(long = "env", short = 'e', value_name = "NAME")]
    environment: Option<String>,
}

fn main() -> std::process::ExitCode {
    // Workers see UTC as their local time zone, as on Cloudflare. Set before any thread starts
    // (JavaScript's local-time functions read it through libc).
    std::env::set_var("TZ", "UTC");
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,kiln::worker=debug")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Dev(args) => dev(args),
        Command::Objects(args) => objects(args),
        Command::Serve(args) => serve::serve(args),
        Command::Deploy(args) => deploy::deploy(args),
        Command::Kv(args) => kv_cli::run(args),
        Command::D1(args) => d1_cli::run(args),
        Command::Tail(args) => tail::run(args),
        Command::Cluster(args) => serve::cluster(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Reads one worker's config, secrets and cron triggers from `dir`.
/// A worker's classes: name -> (storage namespace, has SQL).
type ObjectClasses = BTreeMap<String, (String, bool)>;
/// A worker loaded from its directory: its script, cron triggers and classes.
type LoadedWorker = (
    kiln_runtime::WorkerScript,
    Vec<(String, croner::Cron)>,
    ObjectClasses,
);

fn load_worker(
    dir: &std::path::Path,
    vars: &[String],
    environment: Option<&str>,
) -> anyhow::Result<LoadedWorker> {
    let loaded = config::load_env(dir, environment)?;
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    let mut secrets = BTreeMap::new();
    // As wrangler: `.dev.vars` when it exists, else `.env` overridden by `.env.local`.
    let dev_vars = match environment {
        Some(env) if dir.join(format!(".dev.vars.{env}")).is_file() => format!(".dev.vars.{env}"),
        _ => ".dev.vars".to_owned(),
    };
    let dot_env: Vec<String> = match environment {
        Some(env) => vec![
            ".env".into(),
            format!(".env.{env}"),
            ".env.local".into(),
            format!(".env.{env}.local"),
        ],
        None => vec![".env".into(), ".env.local".into()],
    };
    let files = if dir.join(&dev_vars).is_file() {
        vec![dev_vars]
    } else {
        dot_env
    };
    for file in &files {
        let path = dir.join(file);
        if path.is_file() {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            secrets.extend(config::parse_dev_vars(&text));
        }
    }
    for var in vars {
        let (key, value) = var
            .split_once(':')
            .with_context(|| format!("--var {var:?}: expected KEY:VALUE"))?;
        secrets.insert(key.to_owned(), value.to_owned());
    }
    let script = config::worker_script(&loaded, &secrets)?;
    let crons = cron::parse(&loaded.config.triggers.crons).map_err(anyhow::Error::msg)?;
    let classes = config::object_classes(&loaded.config).map_err(anyhow::Error::msg)?;
    Ok((script, crons, classes))
}

/// Points bindings with a `script_name` at the class of the worker they name: its namespace
/// and SQL flag, and a hidden binding in that worker if it does not bind the class itself (so
/// its isolates can run the objects).
fn link_script_bindings(loaded: &mut [LoadedWorker]) -> anyhow::Result<()> {
    let mut hidden = Vec::new();
    let names: Vec<String> = loaded
        .iter()
        .map(|(script, _, _)| script.name.clone())
        .collect();
    let classes: Vec<ObjectClasses> = loaded.iter().map(|(_, _, c)| c.clone()).collect();
    for (script, _, _) in loaded.iter_mut() {
        for binding in &mut script.durable_objects {
            let Some(other) = binding.script.clone() else {
                continue;
            };
            if binding.class_name == kiln_runtime::D1_CLASS {
                // Resolved when the workers were loaded: the owner binds the database itself.
                continue;
            }
            let Some(at) = names.iter().position(|name| *name == other) else {
                if binding
                    .class_name
                    .starts_with(kiln_runtime::WORKFLOW_CLASS_PREFIX)
                {
                    anyhow::bail!(
                        "{}: workflows binding {:?} names the worker {other:?} (script_name), which is not running; pass its directory too: kiln dev {} <dir of {other}>",
                        script.name,
                        binding.binding,
                        script.name
                    );
                }
                anyhow::bail!(
                    "{}: durable_objects binding {:?} names the worker {other:?} (script_name), which is not running; pass its directory too: kiln dev {} <dir of {other}>",
                    script.name,
                    binding.binding,
                    script.name
                );
            };
            if binding
                .class_name
                .starts_with(kiln_runtime::WORKFLOW_CLASS_PREFIX)
            {
                // The other worker runs the instances (its class), whether or not it binds the
                // workflow itself.
                hidden.push((
                    at,
                    binding.class_name.clone(),
                    binding.namespace.clone(),
                    true,
                ));
                continue;
            }
            let Some((namespace, sql)) = classes[at].get(&binding.class_name) else {
                anyhow::bail!(
                    "{}: durable_objects binding {:?}: worker {other:?} has no migration that creates the class {:?}",
                    script.name,
                    binding.binding,
                    binding.class_name
                );
            };
            binding.namespace = namespace.clone();
            binding.sql = *sql;
            hidden.push((at, binding.class_name.clone(), namespace.clone(), *sql));
        }
    }
    for (at, class_name, namespace, sql) in hidden {
        let owner = &mut loaded[at].0;
        let bound = owner
            .durable_objects
            .iter()
            .any(|b| b.script.is_none() && b.namespace == namespace);
        if !bound {
            owner
                .durable_objects
                .push(kiln_runtime::DurableObjectBinding {
                    binding: String::new(),
                    class_name,
                    namespace,
                    key: [0; 32],
                    sql,
                    script: None,
                });
        }
    }
    Ok(())
}

fn dev(args: DevArgs) -> anyhow::Result<()> {
    let primary_dir = args
        .dirs
        .first()
        .cloned()
        .unwrap_or_else(|| PathBuf::from("."));
    let persist = args
        .persist_to
        .clone()
        .unwrap_or_else(|| primary_dir.join(".kiln"));
    let mut loaded = Vec::new();
    let mut classes: BTreeMap<String, String> = BTreeMap::new();
    for dir in &args.dirs {
        let (mut script, crons, defined) =
            load_worker(dir, &args.vars, args.environment.as_deref())?;
        // A D1 database bound by several workers lives in the first one's isolate; the others
        // reach it as a `script_name` binding would.
        for binding in &mut script.durable_objects {
            if binding.class_name == kiln_runtime::D1_CLASS {
                if let Some(owner) = classes.get(&binding.namespace) {
                    binding.script = Some(owner.clone());
                }
            }
        }
        if loaded
            .iter()
            .any(|(other, _, _): &LoadedWorker| other.name == script.name)
        {
            anyhow::bail!("two workers are named {:?}; names must differ", script.name);
        }
        for binding in script.durable_objects.iter().filter(|b| b.script.is_none()) {
            if let Some(owner) = classes.insert(binding.namespace.clone(), script.name.clone()) {
                if owner != script.name {
                    anyhow::bail!(
                        "workers {owner:?} and {:?} both define the Durable Object class {:?}",
                        script.name,
                        binding.namespace
                    );
                }
            }
        }
        loaded.push((script, crons, defined));
    }
    link_script_bindings(&mut loaded)?;
    let store = kiln_storage::Store::open(kiln_storage::StoreOptions {
        dir: persist.clone(),
        flush_delay: std::time::Duration::from_millis(args.test_slow_flush_ms),
    })
    .with_context(|| format!("opening Durable Object storage in {}", persist.display()))?;
    let mut workers = Vec::new();
    let mut crons = Vec::new();
    for (mut script, worker_crons, _) in loaded {
        for binding in &mut script.durable_objects {
            binding.key = store
                .namespace_key(&binding.namespace)
                .with_context(|| format!("creating the key of namespace {}", binding.namespace))?;
        }
        script.limits.object_idle_evict_ms = args.object_idle_evict_ms.max(1);
        let worker = Worker::new(script)?;
        for (text, cron) in worker_crons {
            crons.push((Arc::clone(&worker), text, cron));
        }
        workers.push(worker);
    }
    let worker = Arc::clone(workers.first().context("no worker to run")?);
    let admin_token = match &args.admin_token {
        Some(token) => token.clone(),
        None => write_admin_token(&persist)?,
    };

    let threads = args
        .threads
        .unwrap_or_else(|| RuntimeOptions::default().threads);
    let runtime = Runtime::new(RuntimeOptions {
        threads,
        store: Some(Arc::new(object_store::NodeStore(store.clone()))),
        placement: None,
        ..RuntimeOptions::default()
    });
    let io = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.clamp(1, 4))
        .enable_all()
        .build()
        .context("starting the I/O runtime")?;
    io.block_on(async move {
        for each in &workers {
            runtime.register(each);
            runtime
                .load(each)
                .await
                .map_err(|err| anyhow::anyhow!("{}: {err}", each.name()))?;
        }
        let address = SocketAddr::new(args.ip, args.port);
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("binding {address}"))?;
        let bound = listener.local_addr()?;
        tracing::info!(worker = worker.name(), "Ready on http://{bound}");
        tokio::spawn(alarms::run(
            Arc::new(store.clone()),
            runtime.clone(),
            workers.clone(),
        ));
        for (owner, text, cron) in crons {
            tokio::spawn(cron::run(runtime.clone(), owner, text, cron));
        }
        for each in &workers {
            for consumer in &each.script().queue_consumers {
                tokio::spawn(queues::run(
                    runtime.clone(),
                    Arc::new(object_store::NodeStore(store.clone())),
                    Arc::clone(each),
                    consumer.clone(),
                    Arc::new(|_: &[u8; 32]| true),
                ));
            }
        }
        let metrics = metrics::Metrics::new();
        metrics.shards.set(1);
        metrics.shards_led.set(1);
        let sockets = runtime.sockets();
        let counted = runtime.clone();
        metrics.probe(Box::new(move |m| {
            m.websockets_open.set(sockets.len() as i64);
            m.sync_scripts(counted.stats());
        }));
        let keys = store.clone();
        let deployments = deployments::Deployments::new(
            runtime.clone(),
            Arc::new(object_store::NodeStore(store.clone())),
            Box::new(move |namespace| {
                keys.namespace_key(namespace)
                    .map_err(|err| format!("creating the key of namespace {namespace}: {err}"))
            }),
            workers.iter().map(|w| w.name().to_owned()),
        );
        // Uploads kept from before a restart are served from the first request on.
        if let Err(err) = deployments.sync() {
            tracing::debug!(%err, "reading uploaded scripts at startup");
        }
        tokio::spawn(Arc::clone(&deployments).run());
        let site = Arc::new(server::Site {
            metrics,
            runtime: runtime.clone(),
            worker,
            test_scheduled: args.test_scheduled,
            dev_handlers: true,
            uploads: Some(upload_api::UploadApi {
                token: admin_token.clone(),
                store: Arc::new(object_store::NodeStore(store.clone())),
                runtime: runtime.clone(),
                deployments: Arc::clone(&deployments),
            }),
            deployments: Some(deployments),
            admin: Some(admin::Admin {
                token: admin_token,
                store,
            }),
        });
        tokio::select! {
            _ = server::serve(listener, site) => {}
            _ = tokio::signal::ctrl_c() => tracing::info!("shutting down"),
        }
        Ok(())
    })
}

/// A fresh random admin token, saved (readable by the owner only) for `kiln objects`.
fn write_admin_token(dir: &std::path::Path) -> anyhow::Result<String> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|err| anyhow::anyhow!("no random source: {err}"))?;
    let token = kiln_runtime::object::to_hex(&bytes);
    let path = dir.join("admin-token");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    std::io::Write::write_all(&mut file, token.as_bytes())?;
    Ok(token)
}

fn objects(args: ObjectsArgs) -> anyhow::Result<()> {
    let (base, token) = args.node.resolve()?;
    let escape =
        |text: &str| url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
    let (method, path) = match &args.action {
        ObjectsAction::List { namespace } => ("GET", format!("objects/{}", escape(namespace))),
        ObjectsAction::Get { namespace, object } => (
            "GET",
            format!("objects/{}/{}", escape(namespace), escape(object)),
        ),
        ObjectsAction::Delete { namespace, object } => (
            "DELETE",
            format!("objects/{}/{}", escape(namespace), escape(object)),
        ),
    };
    let path = format!("{}{path}", admin::PREFIX);
    let (status, body) =
        admin_client::exchange(&base, method, &path, &token, "application/json", b"")?;
    let body = String::from_utf8_lossy(&body);
    let pretty = serde_json::from_str::<serde_json::Value>(&body)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| body.clone().into_owned());
    if status != 200 {
        anyhow::bail!("admin API answered {status}: {pretty}");
    }
    #[allow(clippy::print_stdout)]
    {
        println!("{pretty}");
    }
    Ok(())
}
