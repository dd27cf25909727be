//! Durable state of a node: the Raft log in a dedicated fsynced log, and Durable Object data
//! materialized in sled, one tree per shard.
//!
//! Nothing is defined yet: object storage arrives with Durable Objects (see ARCHITECTURE.md).
