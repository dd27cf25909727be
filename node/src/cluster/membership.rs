//! Membership changes: `kiln cluster join` and `kiln cluster leave`. The node that receives the
//! command works out, for every shard, the voters it should have over the cluster after the
//! change (the same rotation the cluster was formed with) and asks each shard's leader to move
//! to them, one shard at a time, each change committed before the next begins.
//!
//! Guarantees: a shard gains a voter only after it caught up as a learner, and a change is
//! joint consensus, so a majority of the old and of the new voters holds every acknowledged
//! write throughout; every step is bounded in time; a request reaching a node that is not the
//! shard's leader is followed to the leader it names.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use kiln_proto::cluster::{call_error, ShardChange};
use openraft::BasicNode;

use super::groups::{rotation, ProposeError, ShardGroups, MEMBERSHIP_STEP_TIMEOUT};
use super::peers::Peers;
use super::types::NodeId;

/// How long one shard may take to reach its new voters.
const SHARD_CHANGE_DEADLINE: Duration = Duration::from_secs(120);
const RETRY_PAUSE: Duration = Duration::from_millis(200);

/// The voting nodes with their peer addresses.
pub fn current_nodes(groups: &ShardGroups) -> BTreeMap<NodeId, String> {
    groups
        .voting_nodes()
        .into_iter()
        .map(|(id, node)| (id, node.addr))
        .collect()
}

/// Moves every shard's voters to the rotation over `nodes`; returns how many shards changed.
pub async fn rebalance(
    groups: &ShardGroups,
    peers: &Peers,
    nodes: &BTreeMap<NodeId, String>,
) -> Result<u32, String> {
    if nodes.is_empty() {
        return Err("a cluster needs at least one node".into());
    }
    for (id, address) in nodes {
        peers.learn(*id, address);
    }
    let basic: BTreeMap<NodeId, BasicNode> = nodes
        .iter()
        .map(|(id, address)| (*id, BasicNode::new(address.clone())))
        .collect();
    let mut changed = 0;
    for shard in 0..groups.shard_count() {
        let target: BTreeSet<NodeId> = rotation(&basic, shard).keys().copied().collect();
        if change_shard(groups, peers, shard, &target, nodes).await? {
            changed += 1;
            tracing::info!(target: "kiln::cluster", shard, voters = ?target, "shard moved");
        }
    }
    Ok(changed)
}

async fn change_shard(
    groups: &ShardGroups,
    peers: &Peers,
    shard: u32,
    target: &BTreeSet<NodeId>,
    addresses: &BTreeMap<NodeId, String>,
) -> Result<bool, String> {
    let deadline = Instant::now() + SHARD_CHANGE_DEADLINE;
    let mut hint: Option<NodeId> = None;
    // A node that is no replica of the shard does not know its leader: ask the nodes in turn,
    // and a replica's NOT_LEADER answer names the leader.
    let candidates: Vec<NodeId> = addresses
        .keys()
        .copied()
        .filter(|id| *id != groups.node_id())
        .collect();
    let mut next_candidate = 0usize;
    loop {
        if Instant::now() > deadline {
            return Err(format!(
                "shard {shard} did not reach its new voters in time"
            ));
        }
        let known = if groups.voters(shard).contains(&groups.node_id()) {
            groups.leader(shard)
        } else {
            None
        };
        let leader = hint.take().or(known).or_else(|| {
            let candidate = candidates
                .get(next_candidate % candidates.len().max(1))
                .copied();
            next_candidate += 1;
            candidate
        });
        match leader {
            Some(node) if node == groups.node_id() => {
                match groups.change_voters(shard, target.clone(), addresses).await {
                    Ok(changed) => return Ok(changed),
                    Err(ProposeError::NotLeader { leader, .. }) => hint = leader,
                    Err(ProposeError::Unknown(message)) => {
                        tracing::warn!(target: "kiln::cluster", shard, message, "shard change failed; retrying");
                    }
                }
            }
            Some(node) => {
                if let Some(mut client) = peers.admin(node) {
                    let request = ShardChange {
                        shard,
                        voters: target.iter().copied().collect(),
                        addresses: addresses
                            .iter()
                            .map(|(id, address)| (*id, address.clone()))
                            .collect(),
                    };
                    let call = client.change_shard(request);
                    match tokio::time::timeout(MEMBERSHIP_STEP_TIMEOUT * 2, call).await {
                        Ok(Ok(reply)) => match reply.into_inner().error {
                            None => return Ok(true),
                            Some(err) if err.kind == call_error::Kind::NotLeader as i32 => {
                                hint = err.leader_hint.filter(|n| *n != node);
                                if hint.is_none() {
                                    // It does not know either: ask the next node.
                                    let candidate = candidates
                                        .get(next_candidate % candidates.len().max(1))
                                        .copied();
                                    next_candidate += 1;
                                    hint = candidate.filter(|n| *n != node);
                                }
                            }
                            Some(err) => {
                                tracing::warn!(target: "kiln::cluster", shard, message = err.message, "shard change failed; retrying");
                            }
                        },
                        Ok(Err(status)) => {
                            tracing::debug!(target: "kiln::cluster", shard, node, %status, "shard change not delivered");
                        }
                        Err(_) => {
                            tracing::warn!(target: "kiln::cluster", shard, node, "shard change timed out; retrying");
                        }
                    }
                }
            }
            None => {}
        }
        if hint.is_none() {
            tokio::time::sleep(RETRY_PAUSE).await;
        }
    }
}
