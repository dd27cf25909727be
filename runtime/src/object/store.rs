//! The storage seam: what the runtime needs from durable object storage, implemented by `node`
//! (on the `storage` crate), so the runtime never depends on sled or Raft.

use std::future::Future;
use std::pin::Pin;

pub use kiln_proto::storage::Batch;

/// Why a storage operation failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(pub String);

/// A key and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// Resolves when a committed batch is durable.
pub type CommitFuture = Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send>>;

/// Durable object storage as the runtime sees it.
///
/// To ensure correctness:
/// - `commit` must resolve `Ok` only once the batch survives a crash of the node (and, in a
///   cluster, of any single node), and must apply the batch all or nothing;
/// - a read issued after a commit resolved must see that commit;
/// - reads never block on a network: they are called on a JS thread.
pub trait ObjectStore: Send + Sync + 'static {
    fn get(&self, id: &[u8; 32], key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Keys in `[start, end)`, ascending (or descending when `reverse`), at most `limit`.
    fn list(
        &self,
        id: &[u8; 32],
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        reverse: bool,
        limit: Option<usize>,
    ) -> Result<Vec<Entry>, StoreError>;
    /// The object's alarm, in epoch milliseconds.
    fn get_alarm(&self, id: &[u8; 32]) -> Result<Option<i64>, StoreError>;
    fn commit(&self, batch: Batch) -> CommitFuture;
    /// Resolves once this node may release output read from `id`'s storage: in a cluster, once
    /// it holds the leader lease of the object's shard. One node always may.
    fn read_fence(&self, _id: &[u8; 32]) -> CommitFuture {
        Box::pin(async { Ok(()) })
    }

    /// The recorded result of the JS RPC call on `id` made with `request_id` (see
    /// `Batch::replies`), if this store keeps such records: a retry of that call is answered
    /// from it.
    fn reply(&self, _id: &[u8; 32], _request_id: &[u8]) -> Result<Option<String>, StoreError> {
        Ok(None)
    }

    /// Commits a batch that does not belong to a running object (a KV write): in a cluster it
    /// is forwarded to the owner of its shard when that is another node.
    fn commit_anywhere(&self, batch: Batch) -> CommitFuture {
        self.commit(batch)
    }
}
