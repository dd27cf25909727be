//! The runtime's storage seam in a cluster: reads from this node's replica of the object's
//! shard, writes proposed to the shard's Raft group. The runtime runs an object only where its
//! shard's ready leader is, so reads see every acknowledged write.

use std::sync::Arc;

use kiln_runtime::object::store::{Batch, CommitFuture, Entry};
use kiln_runtime::{ObjectStore, StoreError};
use kiln_storage::{ListRange, ShardTree};

use super::groups::ShardGroups;

pub struct ClusterStore(pub Arc<ShardGroups>);

impl ClusterStore {
    fn tree(&self, id: &[u8; 32]) -> Result<&ShardTree, StoreError> {
        let shard = self.0.shard_of(id);
        self.0
            .tree(shard)
            .ok_or_else(|| StoreError(format!("no shard {shard}")))
    }
}

fn error(err: kiln_storage::Error) -> StoreError {
    StoreError(err.to_string())
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
        let range = ListRange {
            start: start.map(<[u8]>::to_vec),
            end: end.map(<[u8]>::to_vec),
            reverse,
            limit,
        };
        self.tree(id)?.list(id, &range).map_err(error)
    }

    fn get_alarm(&self, id: &[u8; 32]) -> Result<Option<i64>, StoreError> {
        self.tree(id)?.alarm(id).map_err(error)
    }

    fn commit(&self, batch: Batch) -> CommitFuture {
        let groups = Arc::clone(&self.0);
        Box::pin(async move {
            groups
                .propose(batch)
                .await
                .map_err(|err| StoreError(err.to_string()))
        })
    }
}
