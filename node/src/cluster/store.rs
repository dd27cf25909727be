//! The runtime's storage seam in a cluster: reads from this node's replica of the object's
//! shard, writes proposed to the shard's Raft group. The runtime runs an object only where its
//! shard's ready leader is, so reads see every acknowledged write.

use std::sync::Arc;

use kiln_runtime::object::store::{Batch, CommitFuture, Entry};
use kiln_runtime::{ObjectStore, StoreError};
use kiln_storage::{ListRange, ShardTree};

use std::time::{Duration, Instant};

use kiln_proto::cluster::{call_error, CommitReply, CommitRequest};

/// How long a forwarded write waits for this node's replica to apply it.
const READ_YOUR_WRITE_WAIT: Duration = Duration::from_secs(2);
use kiln_proto::Message;

use super::groups::ShardGroups;
use super::peers::Peers;
use super::placement::CALL_DEADLINE;
use crate::object_store::error;

pub struct ClusterStore {
    pub groups: Arc<ShardGroups>,
    pub peers: Arc<Peers>,
}

impl ClusterStore {
    fn tree(&self, id: &[u8; 32]) -> Result<&ShardTree, StoreError> {
        let shard = self.groups.shard_of(id);
        self.groups
            .tree(shard)
            .ok_or_else(|| StoreError(format!("no shard {shard}")))
    }
}

impl ObjectStore for ClusterStore {
    fn get(&self, id: &[u8; 32], key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.tree(id)?.get(id, key).map_err(error)
    }

    fn list(
        &self,
        id: &[u8; 32],
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        reverse: bool,
        limit: Option<usize>,
    ) -> Result<Vec<Entry>, StoreError> {
        let range = ListRange::new(start, end, reverse, limit);
        self.tree(id)?.list(id, &range).map_err(error)
    }

    fn get_alarm(&self, id: &[u8; 32]) -> Result<Option<i64>, StoreError> {
        self.tree(id)?.alarm(id).map_err(error)
    }

    fn reply(&self, id: &[u8; 32], request_id: &[u8]) -> Result<Option<String>, StoreError> {
        self.tree(id)?.reply(id, request_id).map_err(error)
    }

    fn commit(&self, batch: Batch) -> CommitFuture {
        let groups = Arc::clone(&self.groups);
        Box::pin(async move {
            groups
                .propose(batch)
                .await
                .map(|_| ())
                .map_err(|err| StoreError(err.to_string()))
        })
    }

    /// Checks the leader lease of the object's shard (no network when it is valid).
    fn read_fence(&self, id: &[u8; 32]) -> CommitFuture {
        let groups = Arc::clone(&self.groups);
        let shard = groups.shard_of(id);
        let id = *id;
        Box::pin(async move {
            groups
                .lease_read(shard)
                .await
                .map_err(|err| StoreError(err.to_string()))?;
            if let Some(term) = groups.current_term(shard) {
                super::ownership_log::record(&id, shard, term);
            }
            Ok(())
        })
    }

    /// Proposes here when this node owns the batch's shard, else on the owner (found as calls
    /// find objects: the leader this node knows, a hint, backoff until [`CALL_DEADLINE`]).
    fn commit_anywhere(&self, batch: Batch) -> CommitFuture {
        let groups = Arc::clone(&self.groups);
        let peers = Arc::clone(&self.peers);
        Box::pin(async move {
            let id: [u8; 32] = batch
                .object_id
                .as_slice()
                .try_into()
                .map_err(|_| StoreError("malformed object id".into()))?;
            let shard = groups.shard_of(&id);
            let encoded = batch.encode_to_vec();
            let deadline = Instant::now() + CALL_DEADLINE;
            let mut backoff = Duration::from_millis(20);
            let mut hint = None;
            loop {
                let leader = hint.take().or_else(|| groups.leader(shard));
                match leader {
                    _ if groups.is_ready_leader(shard) => {
                        return groups
                            .propose(batch)
                            .await
                            .map(|_| ())
                            .map_err(|err| StoreError(err.to_string()));
                    }
                    Some(node) if node != groups.node_id() => {
                        if let Some(mut client) = peers.objects(node) {
                            let request = CommitRequest {
                                batch: encoded.clone(),
                            };
                            match client.commit(request).await {
                                Ok(reply) => match reply.into_inner() {
                                    CommitReply { error: None, index } => {
                                        // Read-your-writes on this node: wait (briefly) for the
                                        // local replica to apply the write.
                                        groups
                                            .wait_applied(shard, index, READ_YOUR_WRITE_WAIT)
                                            .await;
                                        return Ok(());
                                    }
                                    CommitReply {
                                        error: Some(err), ..
                                    } => match err {
                                        err if err.kind == call_error::Kind::NotLeader as i32 => {
                                            hint = err.leader_hint.filter(|n| *n != node);
                                        }
                                        err => return Err(StoreError(err.message)),
                                    },
                                },
                                Err(status) if status.code() == tonic::Code::Unavailable => {}
                                Err(status) => {
                                    return Err(StoreError(format!(
                                        "the write's outcome is unknown: {}",
                                        status.message()
                                    )))
                                }
                            }
                        }
                    }
                    _ => {}
                }
                if Instant::now() >= deadline {
                    return Err(StoreError(format!(
                        "shard {shard} has no reachable owner (retried for {CALL_DEADLINE:?})"
                    )));
                }
                if hint.is_none() {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_millis(300));
                }
            }
        })
    }
}
