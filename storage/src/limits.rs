//! Bounds of the storage crate.

/// Shard trees objects are spread over (`router::shard_of`).
pub const SHARDS: u32 = 64;
/// Batches waiting for the committer thread; past this `commit` fails with `Overloaded`.
pub const COMMIT_QUEUE_MAX: usize = 16_384;
/// Batches written with one fsync.
pub const GROUP_COMMIT_BATCHES_MAX: usize = 1024;
/// One encoded log record (a batch of at most 128 keys of 128 KiB, plus slack).
pub const LOG_RECORD_BYTES_MAX: usize = 32 * 1024 * 1024;
/// The log is checkpointed (sled synced, log truncated) once it grows past this.
pub const LOG_CHECKPOINT_BYTES: u64 = 64 * 1024 * 1024;

const _: () = assert!(GROUP_COMMIT_BATCHES_MAX <= COMMIT_QUEUE_MAX);
const _: () = assert!(LOG_RECORD_BYTES_MAX as u64 <= LOG_CHECKPOINT_BYTES);
