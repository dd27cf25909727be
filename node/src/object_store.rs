//! The runtime's storage seam ([`kiln_runtime::ObjectStore`]) implemented on the node's
//! [`kiln_storage::Store`].

use kiln_runtime::object::store::{Batch, CommitFuture, Entry};
use kiln_runtime::{ObjectStore, StoreError};
use kiln_storage::{ListRange, Store};

pub struct NodeStore(pub Store);

/// A storage error as the runtime's seam reports it.
pub fn error(err: kiln_storage::Error) -> StoreError {
    StoreError(err.to_string())
}

impl ObjectStore for NodeStore {
    fn get(&self, id: &[u8; 32], key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.get(id, key).map_err(error)
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
        self.0.list(id, &range).map_err(error)
    }

    fn get_alarm(&self, id: &[u8; 32]) -> Result<Option<i64>, StoreError> {
        self.0.get_alarm(id).map_err(error)
    }

    fn commit(&self, batch: Batch) -> CommitFuture {
        let commit = self.0.commit(batch);
        Box::pin(async move { commit.await.map_err(error) })
    }
}
