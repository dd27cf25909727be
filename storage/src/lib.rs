//! Durable state of a node: a fsynced write-ahead log of object batches (the source of truth)
//! and Durable Object data materialized from it in sled, one tree per shard.
//!
//! Guarantees:
//! - [`Store::commit`] resolves only after the batch is on disk (the log is fsynced), so a
//!   write anyone has seen survives kill -9.
//! - A batch is applied all or nothing: one log record, one sled batch per shard tree that also
//!   records the log index it covers, so replaying the log after a crash is harmless.
//! - Many batches share one fsync (group commit).
//!
//! The single-node store here is the replication-factor-1 case of the cluster design: the log
//! becomes a shard's Raft log and [`Store::commit`] becomes a proposal.

mod alarm_index;
mod error;
mod keys;
pub mod limits;
mod object_db;
pub mod shard_tree;
mod store;
mod wal;

pub use alarm_index::AlarmIndex;
pub use error::Error;
pub use object_db::ObjectDb;
pub use shard_tree::{AlarmEntry, Entry, ListRange, ObjectEntry, ShardTree};
pub use store::{Store, StoreOptions};
