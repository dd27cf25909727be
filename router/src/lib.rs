//! Pure placement logic: object id to shard, and shard to owner node, with no I/O.
//!
//! Nothing is defined yet: placement arrives with Durable Objects and the cluster (see
//! ARCHITECTURE.md).
