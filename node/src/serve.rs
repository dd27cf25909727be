//! `kiln serve`: one node of a cluster. It opens its shard groups, serves its peers over gRPC
//! and Workers over HTTP, and runs each Durable Object on the node that owns its shard.
//!
//! `kiln cluster init` forms the cluster's first membership; `kiln cluster status` prints what
//! one node knows of every shard.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use hmac::{Hmac, Mac};
use kiln_proto::cluster::{InitRequest, StatusRequest};
use kiln_runtime::{Runtime, RuntimeOptions, Worker};
use sha2::Sha256;

use crate::cluster::groups::{OwnedAlarms, ShardGroups};
use crate::cluster::node_config::{NodeConfig, NodeFlags};
use crate::cluster::peers::{self, Peers};
use crate::cluster::placement::ClusterPlacement;
use crate::cluster::service::{self, Services};
use crate::cluster::store::ClusterStore;
use crate::{config, server};

#[derive(clap::Args)]
pub struct ServeArgs {
    /// The worker's directory (every node serves the same worker).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub node: NodeFlags,
    /// JS threads (default: one per core).
    #[arg(long, env = "KILN_THREADS")]
    pub threads: Option<usize>,
}

#[derive(clap::Args)]
pub struct ClusterArgs {
    #[command(subcommand)]
    pub action: ClusterAction,
    /// A node's peer address (its `listen`).
    #[arg(
        long,
        global = true,
        default_value = "127.0.0.1:7001",
        env = "KILN_NODE"
    )]
    pub node: String,
    /// The cluster key.
    #[arg(long, global = true, env = "KILN_CLUSTER_KEY", hide_env_values = true)]
    pub cluster_key: Option<String>,
}

#[derive(clap::Subcommand)]
pub enum ClusterAction {
    /// Form the cluster: every shard group starts with its first replicas.
    Init,
    /// What the node knows of each shard: leader, term, commit and applied index, voters.
    Status,
    /// Add node ID (reachable by peers at ADDRESS): shards move to it, one at a time.
    Join {
        #[arg(long)]
        id: u64,
        #[arg(long)]
        address: String,
    },
    /// Drain node ID: its shards move to the other nodes; then it can be stopped.
    Leave {
        #[arg(long)]
        id: u64,
    },
}

/// A namespace's id key, the same on every node: derived from the cluster key.
fn namespace_key(cluster_key: &str, namespace: &str) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(cluster_key.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(b"kiln durable object namespace\0");
    mac.update(namespace.as_bytes());
    mac.finalize().into_bytes().into()
}

pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let node = NodeConfig::resolve(&args.node)?;
    node.claim_data_dir()?;
    let loaded = config::load(&args.dir)?;
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    let mut script = config::worker_script(&loaded, &BTreeMap::new())?;
    if let Some(binding) = script.durable_objects.iter().find(|b| b.script.is_some()) {
        anyhow::bail!(
            "durable_objects binding {:?}: script_name names another worker; kiln serve runs one worker, so its classes must be its own",
            binding.binding
        );
    }
    for binding in &mut script.durable_objects {
        binding.key = namespace_key(&node.cluster_key, &binding.namespace);
    }
    let worker = Worker::new(script)?;
    let threads = args
        .threads
        .unwrap_or_else(|| RuntimeOptions::default().threads);
    let io = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.clamp(2, 4))
        .enable_all()
        .build()
        .context("starting the I/O runtime")?;
    io.block_on(async move {
        let peers = Arc::new(Peers::new(&node)?);
        let groups = ShardGroups::open(&node, Arc::clone(&peers)).await?;
        let placement = ClusterPlacement::new(Arc::clone(&groups), Arc::clone(&peers));
        let runtime = Runtime::new(RuntimeOptions {
            threads,
            store: Some(Arc::new(ClusterStore {
                groups: Arc::clone(&groups),
                peers: Arc::clone(&peers),
            })),
            placement: Some(Arc::clone(&placement) as Arc<dyn kiln_runtime::ObjectPlacement>),
            node_id: node.node_id,
            ..RuntimeOptions::default()
        });
        let upload_store: Arc<dyn kiln_runtime::ObjectStore> = Arc::new(ClusterStore {
            groups: Arc::clone(&groups),
            peers: Arc::clone(&peers),
        });
        placement.set_runtime(runtime.clone());
        let fencing = runtime.clone();
        let shards = node.shards;
        groups.on_ownership_lost(Box::new(move |shard| fencing.fence(shard, shards)));
        runtime.register(&worker);
        runtime
            .load(&worker)
            .await
            .map_err(|err| anyhow::anyhow!("{}: {err}", worker.name()))?;
        tokio::spawn(crate::alarms::run(
            Arc::new(OwnedAlarms(Arc::clone(&groups))),
            runtime.clone(),
            vec![Arc::clone(&worker)],
        ));
        for consumer in &worker.script().queue_consumers {
            let owner = Arc::clone(&groups);
            tokio::spawn(crate::queues::run(
                runtime.clone(),
                Arc::clone(&upload_store),
                Arc::clone(&worker),
                consumer.clone(),
                Arc::new(move |id: &[u8; 32]| owner.is_ready_leader(owner.shard_of(id))),
            ));
        }
        let services = Arc::new(Services {
            groups: Arc::clone(&groups),
            peers,
            runtime: runtime.clone(),
            worker: Arc::clone(&worker),
        });
        let listener = tokio::net::TcpListener::bind(node.http)
            .await
            .with_context(|| format!("binding {}", node.http))?;
        let bound = listener.local_addr()?;
        let peer_service = tokio::spawn(service::serve(
            node.listen,
            services,
            peers::peer_token(&node.cluster_key),
        ));
        tracing::info!(
            worker = worker.name(),
            node = node.node_id,
            peers = %node.listen,
            shards = node.shards,
            "Ready on http://{bound}"
        );
        let metrics = crate::metrics::Metrics::new();
        metrics.shards.set(i64::from(node.shards));
        let sockets = runtime.sockets();
        let probed = Arc::clone(&groups);
        let counted = runtime.clone();
        metrics.probe(Box::new(move |m| {
            m.websockets_open.set(sockets.len() as i64);
            m.sync_scripts(counted.stats());
            let led = (0..probed.shard_count())
                .filter(|shard| probed.is_ready_leader(*shard))
                .count();
            m.shards_led.set(led as i64);
        }));
        let cluster_key = node.cluster_key.clone();
        let deployments = crate::deployments::Deployments::new(
            runtime.clone(),
            Arc::clone(&upload_store),
            Box::new(move |namespace| Ok(namespace_key(&cluster_key, namespace))),
            [worker.name().to_owned()],
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
            test_scheduled: false,
            dev_handlers: false,
            admin: None,
            // Scripts uploaded through any node are stored (replicated) like object data.
            uploads: args.node.admin_token.clone().map(|token| crate::upload_api::UploadApi {
                token,
                store: Arc::clone(&upload_store),
                runtime: runtime.clone(),
                deployments: Arc::clone(&deployments),
            }),
            deployments: Some(deployments),
        });
        tokio::select! {
            _ = server::serve(listener, site) => {}
            result = peer_service => {
                match result {
                    Ok(Err(err)) => return Err(err.context(format!("serving peers on {}", node.listen))),
                    Err(err) => return Err(anyhow::anyhow!("the peer service failed: {err}")),
                    Ok(Ok(())) => {}
                }
            }
            _ = tokio::signal::ctrl_c() => tracing::info!("shutting down"),
        }
        groups.shutdown().await;
        Ok(())
    })
}

pub fn cluster(args: ClusterArgs) -> anyhow::Result<()> {
    let key = args
        .cluster_key
        .context("the cluster key is required: --cluster-key or KILN_CLUSTER_KEY")?;
    let io = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    io.block_on(async move {
        let mut client = peers::admin_at(&args.node, &key)?;
        match args.action {
            ClusterAction::Init => {
                let reply = client
                    .init(InitRequest { shards: Vec::new() })
                    .await
                    .map_err(|status| anyhow::anyhow!("{}: {}", args.node, status.message()))?;
                #[allow(clippy::print_stdout)]
                {
                    println!(
                        "initialized {} shard groups",
                        reply.into_inner().initialized
                    );
                }
            }
            ClusterAction::Join { id, address } => {
                let reply = client
                    .join(kiln_proto::cluster::JoinRequest {
                        node_id: id,
                        address,
                    })
                    .await
                    .map_err(|status| anyhow::anyhow!("{}: {}", args.node, status.message()))?;
                #[allow(clippy::print_stdout)]
                {
                    println!(
                        "node {id} joined; {} shard groups changed",
                        reply.into_inner().changed
                    );
                }
            }
            ClusterAction::Leave { id } => {
                let reply = client
                    .leave(kiln_proto::cluster::LeaveRequest { node_id: id })
                    .await
                    .map_err(|status| anyhow::anyhow!("{}: {}", args.node, status.message()))?;
                #[allow(clippy::print_stdout)]
                {
                    println!(
                        "node {id} left; {} shard groups changed",
                        reply.into_inner().changed
                    );
                }
            }
            ClusterAction::Status => {
                let reply = client
                    .status(StatusRequest {})
                    .await
                    .map_err(|status| anyhow::anyhow!("{}: {}", args.node, status.message()))?
                    .into_inner();
                let mut table = format!(
                    "node {}\n{:>5}  {:>6}  {:>5}  {:>8}  {:>8}  voters  data\n",
                    reply.node_id, "shard", "leader", "term", "commit", "applied"
                );
                for shard in reply.shards {
                    let voters: Vec<String> = shard.voters.iter().map(u64::to_string).collect();
                    let voters = if voters.is_empty() {
                        "-".to_owned()
                    } else {
                        voters.join(",")
                    };
                    table.push_str(&format!(
                        "{:>5}  {:>6}  {:>5}  {:>8}  {:>8}  {}  {}\n",
                        shard.shard,
                        shard
                            .leader
                            .map_or_else(|| "-".to_owned(), |l| l.to_string()),
                        shard.term,
                        shard.commit_index,
                        shard.applied_index,
                        voters,
                        shard.data_hash.get(..16).unwrap_or("-")
                    ));
                }
                #[allow(clippy::print_stdout)]
                {
                    print!("{table}");
                }
            }
        }
        Ok(())
    })
}
