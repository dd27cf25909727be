//! The shard groups of this node: one Raft group per shard, each with its log store and its
//! state machine on the node's sled database, all sending through one router.
//!
//! The leader of a shard owns its objects. A leader serves objects only once it is *ready*: it
//! has confirmed its leadership with a quorum and applied everything committed before its term
//! (openraft's read index), so nothing it reads is older than what a former owner acknowledged.
//! Guarantees: a proposal resolves `Ok` only once its entry committed on a majority (each
//! member fsynced it) and applied here; a proposal on a node that is not the ready leader fails
//! without being written.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kiln_proto::storage::Batch;
use kiln_proto::Message;
use kiln_storage::{AlarmEntry, AlarmIndex, ObjectDb, ShardTree};
use openraft::async_runtime::WatchReceiver;
use openraft::{BasicNode, Config, Raft, ReadPolicy, ServerState, SnapshotPolicy};

use super::log_store::LogStore;
use super::network::{NetworkFactory, Router};
use super::node_config::NodeConfig;
use super::peers::Peers;
use super::state_machine::ShardMachine;
use super::types::{Command, GroupId, NodeId, TypeConfig};

pub type ShardRaft = Raft<TypeConfig, ShardMachine>;

/// Replicas per shard (the node count when smaller).
pub const REPLICATION_FACTOR: usize = 3;
/// Raft timing: heartbeats, and the election timeout range (the leader lease is its maximum).
pub const HEARTBEAT_MS: u64 = 100;
pub const ELECTION_TIMEOUT_MIN_MS: u64 = 300;
pub const ELECTION_TIMEOUT_MAX_MS: u64 = 600;
/// Entries between snapshots of a shard.
pub const SNAPSHOT_EVERY_ENTRIES: u64 = 5000;
/// How long a proposal may wait for its commit before the caller is told the outcome is unknown.
pub const PROPOSAL_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a proposal did not commit.
#[derive(Debug, thiserror::Error)]
pub enum ProposeError {
    #[error("this node does not own shard {shard}; its leader is {leader:?}")]
    NotLeader { shard: u32, leader: Option<NodeId> },
    #[error("the write's outcome is unknown: {0}")]
    Unknown(String),
}

pub struct ShardGroups {
    me: NodeId,
    shards: u32,
    rafts: Vec<ShardRaft>,
    trees: Vec<ShardTree>,
    /// Per shard: the term in which this node became the ready leader (0: not ready).
    ready: Vec<AtomicU64>,
    members: BTreeMap<NodeId, BasicNode>,
    /// Every alarm of every shard this node replicates.
    alarms: Arc<AlarmIndex>,
    /// Called with a shard as soon as this node stops owning it (fencing).
    on_lost: std::sync::OnceLock<Box<dyn Fn(u32) + Send + Sync>>,
}

/// Entries between snapshots: [`SNAPSHOT_EVERY_ENTRIES`], or `KILN_SNAPSHOT_EVERY` (at least
/// 10), with which tests make a lagging node catch up by installing a snapshot. A fifth of it
/// (at most 1,000 entries) stays in the log after a snapshot.
fn snapshot_every() -> u64 {
    std::env::var("KILN_SNAPSHOT_EVERY")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(SNAPSHOT_EVERY_ENTRIES, |n| n.max(10))
}

impl ShardGroups {
    /// Opens (or creates) every shard group of this node.
    pub async fn open(config: &NodeConfig, peers: Arc<Peers>) -> anyhow::Result<Arc<ShardGroups>> {
        let raft_config = Arc::new(
            Config {
                cluster_name: format!("kiln-{}", config.cluster_fingerprint()),
                heartbeat_interval: HEARTBEAT_MS,
                election_timeout_min: ELECTION_TIMEOUT_MIN_MS,
                election_timeout_max: ELECTION_TIMEOUT_MAX_MS,
                snapshot_policy: SnapshotPolicy::LogsSinceLast(snapshot_every()),
                max_in_snapshot_log_to_keep: (snapshot_every() / 5).min(1000),
                ..Default::default()
            }
            .validate()?,
        );
        let db = ObjectDb::open(&config.data_dir.join("objects"))?;
        let alarms = Arc::new(AlarmIndex::default());
        let router = Router::new(peers);
        let mut rafts = Vec::with_capacity(config.shards as usize);
        let mut trees = Vec::with_capacity(config.shards as usize);
        for shard in 0..config.shards {
            let tree = db.tree(&format!("shard-{shard:04}"))?;
            for alarm in tree.alarms()? {
                alarms.set(alarm.id, &alarm.namespace, Some(alarm.time_ms));
            }
            let machine = ShardMachine::new(
                shard,
                config.shards,
                tree.clone(),
                db.clone(),
                Arc::clone(&alarms),
            );
            let log = LogStore::open(
                &config
                    .data_dir
                    .join("raft")
                    .join(format!("shard-{shard:04}")),
            )?;
            let network = NetworkFactory::new(router.clone(), shard as GroupId);
            let raft = Raft::new(
                config.node_id,
                Arc::clone(&raft_config),
                network,
                log,
                machine,
            )
            .await
            .map_err(|err| anyhow::anyhow!("starting the Raft group of shard {shard}: {err}"))?;
            rafts.push(raft);
            trees.push(tree);
        }
        let members = config
            .peers
            .iter()
            .map(|(id, address)| (*id, BasicNode::new(address.to_string())))
            .collect();
        let groups = Arc::new(ShardGroups {
            me: config.node_id,
            shards: config.shards,
            rafts,
            trees,
            ready: (0..config.shards).map(|_| AtomicU64::new(0)).collect(),
            members,
            alarms,
            on_lost: std::sync::OnceLock::new(),
        });
        for shard in 0..config.shards {
            tokio::spawn(watch_readiness(Arc::clone(&groups), shard));
        }
        tokio::spawn(balance_leaders(Arc::clone(&groups)));
        Ok(groups)
    }

    /// Sets what happens when this node stops owning a shard (the runtime fences its objects).
    pub fn on_ownership_lost(&self, fence: Box<dyn Fn(u32) + Send + Sync>) {
        let _ = self.on_lost.set(fence);
    }

    pub fn node_id(&self) -> NodeId {
        self.me
    }

    pub fn shard_count(&self) -> u32 {
        self.shards
    }

    pub fn raft(&self, shard: u32) -> Option<&ShardRaft> {
        self.rafts.get(shard as usize)
    }

    pub fn tree(&self, shard: u32) -> Option<&ShardTree> {
        self.trees.get(shard as usize)
    }

    /// The shard an object belongs to.
    pub fn shard_of(&self, id: &[u8; 32]) -> u32 {
        kiln_router::shard_of(id, self.shards)
    }

    /// The shard's replicas when the cluster is first formed: `REPLICATION_FACTOR` nodes, the
    /// starting node rotating with the shard so leaders spread.
    pub fn initial_replicas(&self, shard: u32) -> BTreeMap<NodeId, BasicNode> {
        rotation(&self.members, shard)
    }

    /// Every node this node knows of: the configured peers and every node a shard group's
    /// membership names (nodes that joined later).
    pub fn nodes(&self) -> BTreeMap<NodeId, BasicNode> {
        let mut nodes = self.members.clone();
        for raft in &self.rafts {
            let metrics = raft.metrics().borrow_watched().clone();
            for (id, node) in metrics.membership_config.membership().nodes() {
                nodes.insert(*id, node.clone());
            }
        }
        nodes
    }

    /// The nodes that are voters of at least one shard: the cluster's members now.
    pub fn voting_nodes(&self) -> BTreeMap<NodeId, BasicNode> {
        let known = self.nodes();
        let mut voting = BTreeMap::new();
        for shard in 0..self.shards {
            for id in self.voters(shard) {
                if let Some(node) = known.get(&id) {
                    voting.insert(id, node.clone());
                }
            }
        }
        voting
    }

    /// The node that should lead `shard` when it is healthy: its first replica in the rotation
    /// over the cluster's voting nodes, so leaderships (and so objects) spread evenly.
    pub fn preferred_leader(&self, shard: u32) -> Option<NodeId> {
        let nodes: Vec<NodeId> = self.voting_nodes().keys().copied().collect();
        if nodes.is_empty() {
            return None;
        }
        nodes.get(shard as usize % nodes.len()).copied()
    }

    /// Makes `voters` the voters of `shard`; only its leader can. New voters join as learners
    /// first and are promoted once they caught up (joint consensus). Returns whether anything
    /// changed.
    pub async fn change_voters(
        &self,
        shard: u32,
        voters: BTreeSet<NodeId>,
        addresses: &BTreeMap<NodeId, String>,
    ) -> Result<bool, ProposeError> {
        let raft = self
            .raft(shard)
            .ok_or_else(|| ProposeError::Unknown(format!("no shard {shard}")))?;
        if !self.is_ready_leader(shard) {
            return Err(ProposeError::NotLeader {
                shard,
                leader: self.leader(shard),
            });
        }
        let current = self.voters(shard);
        if current == voters {
            return Ok(false);
        }
        for id in voters.difference(&current) {
            let address = addresses
                .get(id)
                .ok_or_else(|| ProposeError::Unknown(format!("no address for node {id}")))?;
            tokio::time::timeout(
                MEMBERSHIP_STEP_TIMEOUT,
                raft.add_learner(*id, BasicNode::new(address.clone()), true),
            )
            .await
            .map_err(|_| ProposeError::Unknown(format!("node {id} did not catch up in time")))?
            .map_err(|err| ProposeError::Unknown(err.to_string()))?;
        }
        tokio::time::timeout(
            MEMBERSHIP_STEP_TIMEOUT,
            raft.change_membership(voters, false),
        )
        .await
        .map_err(|_| ProposeError::Unknown("the membership change did not commit in time".into()))?
        .map_err(|err| ProposeError::Unknown(err.to_string()))?;
        Ok(true)
    }

    /// The node this node believes leads `shard`.
    pub fn leader(&self, shard: u32) -> Option<NodeId> {
        self.raft(shard)?.metrics().borrow_watched().current_leader
    }

    /// This node's current Raft term for `shard`.
    pub fn current_term(&self, shard: u32) -> Option<u64> {
        Some(self.raft(shard)?.metrics().borrow_watched().current_term)
    }

    /// Whether this node leads `shard` and has caught up to serve its objects.
    pub fn is_ready_leader(&self, shard: u32) -> bool {
        let Some(raft) = self.raft(shard) else {
            return false;
        };
        let metrics = raft.metrics().borrow_watched().clone();
        metrics.state == ServerState::Leader
            && metrics.current_leader == Some(self.me)
            && self
                .ready
                .get(shard as usize)
                .is_some_and(|ready| ready.load(Ordering::Acquire) == metrics.current_term)
    }

    /// Replicates one object batch through its shard's log; resolves once committed and
    /// applied, with the entry's log index.
    pub async fn propose(&self, batch: Batch) -> Result<u64, ProposeError> {
        let id: [u8; 32] = batch
            .object_id
            .as_slice()
            .try_into()
            .map_err(|_| ProposeError::Unknown("malformed object id".into()))?;
        let shard = self.shard_of(&id);
        let raft = self
            .raft(shard)
            .ok_or_else(|| ProposeError::Unknown(format!("no shard {shard}")))?;
        if !self.is_ready_leader(shard) {
            return Err(ProposeError::NotLeader {
                shard,
                leader: self.leader(shard),
            });
        }
        let command = Command {
            batch: batch.encode_to_vec(),
        };
        match tokio::time::timeout(PROPOSAL_TIMEOUT, raft.client_write(command)).await {
            Ok(Ok(written)) => Ok(written.log_id.index),
            Ok(Err(err)) => Err(ProposeError::Unknown(err.to_string())),
            Err(_) => Err(ProposeError::Unknown(format!(
                "not committed within {PROPOSAL_TIMEOUT:?}"
            ))),
        }
    }

    /// Initializes the given shards (all when empty) on this node, where it is their first
    /// replica; returns the shards another node must initialize, by node.
    pub async fn initialize(
        &self,
        shards: &[u32],
    ) -> anyhow::Result<(u32, BTreeMap<NodeId, Vec<u32>>)> {
        let all: Vec<u32> = (0..self.shards).collect();
        let wanted = if shards.is_empty() { &all[..] } else { shards };
        let mut initialized = 0;
        let mut elsewhere: BTreeMap<NodeId, Vec<u32>> = BTreeMap::new();
        for &shard in wanted {
            let raft = self
                .raft(shard)
                .ok_or_else(|| anyhow::anyhow!("no shard {shard}"))?;
            let replicas = self.initial_replicas(shard);
            let first = *replicas
                .keys()
                .next()
                .ok_or_else(|| anyhow::anyhow!("no nodes"))?;
            if first != self.me {
                if shards.is_empty() {
                    elsewhere.entry(first).or_default().push(shard);
                }
                continue;
            }
            if raft.is_initialized().await? {
                continue;
            }
            raft.initialize(replicas).await?;
            initialized += 1;
        }
        Ok((initialized, elsewhere))
    }

    /// Succeeds only while this node is the shard's leader with a quorum behind it: the leader
    /// lease when it is valid (no network), else a read-index round (one heartbeat to a
    /// majority). Output read from the shard is then not stale.
    pub async fn lease_read(&self, shard: u32) -> Result<(), ProposeError> {
        let raft = self
            .raft(shard)
            .ok_or_else(|| ProposeError::Unknown(format!("no shard {shard}")))?;
        if raft
            .ensure_linearizable(ReadPolicy::LeaseRead)
            .await
            .is_ok()
        {
            return Ok(());
        }
        match tokio::time::timeout(
            PROPOSAL_TIMEOUT,
            raft.ensure_linearizable(ReadPolicy::ReadIndex),
        )
        .await
        {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) => {
                tracing::debug!(target: "kiln::raft", shard, %err, "read fence refused");
                Err(ProposeError::NotLeader {
                    shard,
                    leader: self.leader(shard),
                })
            }
            Err(_) => Err(ProposeError::Unknown(format!(
                "leadership of shard {shard} could not be confirmed in time"
            ))),
        }
    }

    /// Waits (at most `timeout`) until this replica of `shard` applied `index`, so a writer
    /// reads its own write here. Returns whether it did.
    pub async fn wait_applied(&self, shard: u32, index: u64, timeout: Duration) -> bool {
        let Some(raft) = self.raft(shard) else {
            return false;
        };
        raft.wait(Some(timeout))
            .applied_index_at_least(Some(index), "read your write")
            .await
            .is_ok()
    }

    /// The voters of a shard as this node knows them.
    pub fn voters(&self, shard: u32) -> BTreeSet<NodeId> {
        self.raft(shard).map_or_else(BTreeSet::new, |raft| {
            raft.metrics()
                .borrow_watched()
                .membership_config
                .membership()
                .voter_ids()
                .collect()
        })
    }

    pub async fn shutdown(&self) {
        for raft in &self.rafts {
            let _ = raft.shutdown().await;
        }
    }
}

/// The alarms this node fires: those of the shards it owns (only the owner fires an alarm; after
/// a failover the new owner fires it, at least once as on Cloudflare).
pub struct OwnedAlarms(pub Arc<ShardGroups>);

/// Alarms looked at when searching for the next one this node owns.
const ALARM_SCAN_MAX: usize = 4096;

impl crate::alarms::AlarmSource for OwnedAlarms {
    fn due(&self, now_ms: i64, max: usize) -> Vec<AlarmEntry> {
        let groups = &self.0;
        groups
            .alarms
            .due(now_ms, ALARM_SCAN_MAX)
            .into_iter()
            .filter(|alarm| groups.is_ready_leader(groups.shard_of(&alarm.id)))
            .take(max)
            .collect()
    }

    fn next_ms(&self) -> Option<i64> {
        let groups = &self.0;
        groups.alarms.next_ms_where(ALARM_SCAN_MAX, |id| {
            groups.is_ready_leader(groups.shard_of(id))
        })
    }

    fn changed(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(self.0.alarms.changed())
    }
}

/// The replicas a shard should have over `nodes`: `REPLICATION_FACTOR` of them (all, when
/// fewer), starting at the shard's position so replicas and leaderships spread.
pub fn rotation(nodes: &BTreeMap<NodeId, BasicNode>, shard: u32) -> BTreeMap<NodeId, BasicNode> {
    let listed: Vec<_> = nodes.iter().collect();
    if listed.is_empty() {
        return BTreeMap::new();
    }
    let count = listed.len().min(REPLICATION_FACTOR);
    (0..count)
        .map(|i| listed[(shard as usize + i) % listed.len()])
        .map(|(id, node)| (*id, node.clone()))
        .collect()
}

/// How long one step of a membership change (a learner catching up, a joint-consensus commit)
/// may take.
pub const MEMBERSHIP_STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// How often a node looks for leaderships to hand to their preferred node.
const BALANCE_EVERY: Duration = Duration::from_secs(1);

/// Hands each shard this node leads to its preferred leader once that node has caught up, at
/// most once per term (so a preferred node that cannot take over does not cause churn).
async fn balance_leaders(groups: Arc<ShardGroups>) {
    let mut tried: Vec<u64> = vec![0; groups.shards as usize];
    loop {
        tokio::time::sleep(BALANCE_EVERY).await;
        for shard in 0..groups.shards {
            let Some(raft) = groups.raft(shard) else {
                continue;
            };
            if !groups.is_ready_leader(shard) {
                continue;
            }
            let Some(preferred) = groups.preferred_leader(shard) else {
                continue;
            };
            let metrics = raft.metrics().borrow_watched().clone();
            if preferred == groups.me || tried[shard as usize] == metrics.current_term {
                continue;
            }
            let last = metrics.last_log_index;
            let caught_up = metrics
                .replication
                .as_ref()
                .and_then(|replication| replication.get(&preferred))
                .is_some_and(|matched| matched.as_ref().map(|id| id.index) == last);
            if !caught_up || !groups.voters(shard).contains(&preferred) {
                continue;
            }
            tried[shard as usize] = metrics.current_term;
            tracing::info!(target: "kiln::raft", shard, to = preferred, "handing the shard to its preferred leader");
            if let Err(err) = raft.trigger().transfer_leader(preferred).await {
                tracing::warn!(target: "kiln::raft", shard, %err, "leadership transfer failed");
            }
        }
    }
}

/// Marks the shard ready once this node, as its leader, has confirmed leadership and applied
/// everything committed before; clears it when leadership goes.
async fn watch_readiness(groups: Arc<ShardGroups>, shard: u32) {
    let Some(raft) = groups.raft(shard).cloned() else {
        return;
    };
    let mut metrics = raft.metrics();
    loop {
        let (state, term, leader) = {
            let m = metrics.borrow_watched();
            (m.state, m.current_term, m.current_leader)
        };
        let ready = &groups.ready[shard as usize];
        if state == ServerState::Leader && leader == Some(groups.me) {
            if ready.load(Ordering::Acquire) != term {
                match raft.ensure_linearizable(ReadPolicy::ReadIndex).await {
                    Ok(_) => {
                        ready.store(term, Ordering::Release);
                        tracing::info!(target: "kiln::raft", shard, term, "this node owns the shard");
                    }
                    Err(err) => {
                        tracing::debug!(target: "kiln::raft", shard, %err, "not ready to own the shard yet");
                        tokio::time::sleep(Duration::from_millis(HEARTBEAT_MS)).await;
                        continue;
                    }
                }
            }
        } else if ready.swap(0, Ordering::AcqRel) != 0 {
            tracing::info!(target: "kiln::raft", shard, term, "this node no longer owns the shard");
            if let Some(fence) = groups.on_lost.get() {
                fence(shard);
            }
        }
        if metrics.changed().await.is_err() {
            return;
        }
    }
}
