//! A shard group's state machine: object data in the shard's sled tree, with the Raft state it
//! covers (last applied log id, membership) written in the same atomic sled batch.
//!
//! Guarantees: applying an entry twice is harmless (the tree records the index it covers);
//! sled is not fsynced per entry — the fsynced Raft log is the truth, and a restarted node
//! replays it past what sled kept — but a snapshot is built only after sled is fsynced, so the
//! log is never purged past what is on disk.

use std::io;
use std::sync::{Arc, Mutex};

use futures_util::{Stream, TryStreamExt};
use kiln_proto::storage::Batch;
use kiln_proto::Message;
use kiln_storage::{AlarmIndex, ObjectDb, ShardTree};
use openraft::storage::{EntryResponder, RaftStateMachine};
use openraft::{EntryPayload, OptionalSend, RaftSnapshotBuilder};
use serde::{Deserialize, Serialize};

use super::types::{LogId, Snapshot, SnapshotData, SnapshotMeta, StoredMembership, TypeConfig};

/// What the tree records of the log, beside the index.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Applied {
    last_applied: Option<LogId>,
    membership: StoredMembership,
}

/// The latest snapshot built or installed, kept for peers that need it.
type StoredSnapshot = (SnapshotMeta, Vec<u8>);

/// One shard's state machine (cheap to clone; clones share the tree).
#[derive(Clone)]
pub struct ShardMachine {
    shard: u32,
    tree: ShardTree,
    /// Synced before a snapshot is taken.
    db: ObjectDb,
    /// The node's alarm index, kept in step with what this shard applies.
    alarms: Arc<AlarmIndex>,
    shards: u32,
    applied: Arc<Mutex<Option<Applied>>>,
    snapshot: Arc<Mutex<Option<StoredSnapshot>>>,
}

impl ShardMachine {
    pub fn new(
        shard: u32,
        shards: u32,
        tree: ShardTree,
        db: ObjectDb,
        alarms: Arc<AlarmIndex>,
    ) -> ShardMachine {
        ShardMachine {
            shard,
            tree,
            db,
            alarms,
            shards,
            applied: Arc::default(),
            snapshot: Arc::default(),
        }
    }

    fn applied(&self) -> io::Result<Applied> {
        let mut cached = self.applied.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(applied) = cached.as_ref() {
            return Ok(applied.clone());
        }
        let applied = match self.tree.meta().map_err(io::Error::other)? {
            Some(bytes) => serde_json::from_slice(&bytes).map_err(io::Error::other)?,
            None => Applied::default(),
        };
        *cached = Some(applied.clone());
        Ok(applied)
    }

    fn record(&self, applied: Applied) {
        *self.applied.lock().unwrap_or_else(|p| p.into_inner()) = Some(applied);
    }
}

impl RaftSnapshotBuilder<TypeConfig> for ShardMachine {
    type SnapshotData = SnapshotData;

    async fn build_snapshot(&mut self) -> Result<Snapshot, io::Error> {
        // Durable first: the log behind this snapshot may be purged once it exists.
        self.db.sync().map_err(io::Error::other)?;
        let applied = self.applied()?;
        let bytes = self.tree.export().map_err(io::Error::other)?;
        let meta = SnapshotMeta {
            last_log_id: applied.last_applied,
            last_membership: applied.membership,
        };
        *self.snapshot.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((meta.clone(), bytes.clone()));
        tracing::debug!(target: "kiln::raft", shard = self.shard, bytes = bytes.len(), "built a snapshot");
        Ok(Snapshot {
            meta,
            snapshot: std::io::Cursor::new(bytes),
        })
    }
}

impl RaftStateMachine<TypeConfig> for ShardMachine {
    type SnapshotData = SnapshotData;
    type SnapshotBuilder = Self;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), io::Error> {
        let applied = self.applied()?;
        Ok((applied.last_applied, applied.membership))
    }

    async fn apply<S>(&mut self, mut entries: S) -> Result<(), io::Error>
    where
        S: Stream<Item = Result<EntryResponder<TypeConfig>, io::Error>> + Unpin + OptionalSend,
    {
        let mut applied = self.applied()?;
        while let Some((entry, responder)) = entries.try_next().await? {
            let index = entry.log_id.index;
            applied.last_applied = Some(entry.log_id);
            if let EntryPayload::Membership(membership) = &entry.payload {
                applied.membership = StoredMembership::new(Some(entry.log_id), membership.clone());
            }
            let meta = serde_json::to_vec(&applied).map_err(io::Error::other)?;
            match &entry.payload {
                EntryPayload::Normal(command) => match Batch::decode(command.batch.as_slice()) {
                    Ok(batch) => {
                        let alarm = self
                            .tree
                            .apply(index, &batch, Some(&meta))
                            .map_err(io::Error::other)?;
                        if let (Some(time), Ok(id)) =
                            (alarm, <[u8; 32]>::try_from(batch.object_id.as_slice()))
                        {
                            self.alarms.set(id, &batch.namespace, time);
                        }
                    }
                    Err(err) => {
                        // Leaders encode what they propose, so this is a bug, not input: keep
                        // the replicas in step and say so.
                        tracing::error!(target: "kiln::raft", shard = self.shard, index, %err, "undecodable batch skipped");
                        self.tree
                            .apply_meta(index, Some(&meta))
                            .map_err(io::Error::other)?;
                    }
                },
                EntryPayload::Blank | EntryPayload::Membership(_) => {
                    self.tree
                        .apply_meta(index, Some(&meta))
                        .map_err(io::Error::other)?;
                }
            }
            self.record(applied.clone());
            if let Some(responder) = responder {
                responder.send(());
            }
        }
        Ok(())
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: SnapshotData,
    ) -> Result<(), io::Error> {
        let bytes = snapshot.into_inner();
        self.tree.import(&bytes).map_err(io::Error::other)?;
        let applied = Applied {
            last_applied: meta.last_log_id,
            membership: meta.last_membership.clone(),
        };
        let index = applied.last_applied.as_ref().map_or(0, |id| id.index);
        let encoded = serde_json::to_vec(&applied).map_err(io::Error::other)?;
        self.tree
            .apply_meta(index, Some(&encoded))
            .map_err(io::Error::other)?;
        self.db.sync().map_err(io::Error::other)?;
        self.record(applied);
        let (shard, shards) = (self.shard, self.shards);
        self.alarms
            .remove_where(|id| kiln_router::shard_of(id, shards) == shard);
        for alarm in self.tree.alarms().map_err(io::Error::other)? {
            self.alarms
                .set(alarm.id, &alarm.namespace, Some(alarm.time_ms));
        }
        *self.snapshot.lock().unwrap_or_else(|p| p.into_inner()) = Some((meta.clone(), bytes));
        tracing::info!(target: "kiln::raft", shard = self.shard, index, "installed a snapshot");
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot>, io::Error> {
        let current = self
            .snapshot
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        Ok(current.map(|(meta, bytes)| Snapshot {
            meta,
            snapshot: std::io::Cursor::new(bytes),
        }))
    }
}
