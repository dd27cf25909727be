//! The Raft type configuration of the shard groups: what an entry carries (one coalesced
//! object batch) and the aliases the rest of `cluster/` uses.

use std::fmt;

use serde::{Deserialize, Serialize};

pub type NodeId = u64;
/// A Raft group: the shard number.
pub type GroupId = u32;

/// One Raft entry's command: a Durable Object turn's batch (`kiln.storage.Batch`, encoded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    pub batch: Vec<u8>,
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "batch of {} bytes", self.batch.len())
    }
}

openraft::declare_raft_types!(
    /// The shard groups' Raft types: entries carry [`Command`]s and answer nothing.
    pub TypeConfig:
        D = Command,
        R = (),
        NodeId = NodeId,
        Node = openraft::BasicNode,
);

/// A snapshot: a shard tree exported whole ([`kiln_storage::ShardTree::export`]).
pub type SnapshotData = std::io::Cursor<Vec<u8>>;

pub type LogId = openraft::alias::LogIdOf<TypeConfig>;
pub type Vote = openraft::alias::VoteOf<TypeConfig>;
pub type Entry = openraft::alias::EntryOf<TypeConfig>;
pub type StoredMembership = openraft::alias::StoredMembershipOf<TypeConfig>;
pub type SnapshotMeta = openraft::alias::SnapshotMetaOf<TypeConfig>;
pub type Snapshot = openraft::alias::SnapshotOf<TypeConfig, SnapshotData>;
