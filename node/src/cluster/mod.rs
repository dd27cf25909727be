//! Kiln as a cluster of nodes: each node's configuration, the Raft groups that replicate object
//! storage (one per shard; the leader of a shard owns its objects), the gRPC service peers talk
//! to, and the placement that sends object calls to their owner.

pub mod body_stream;
pub mod groups;
pub mod log_store;
pub mod membership;
pub mod network;
pub mod node_config;
pub mod ownership_log;
pub mod peers;
pub mod placement;
pub mod record_file;
pub mod service;
pub mod state_machine;
pub mod store;
pub mod sync_ledger;
pub mod tunnel;
pub mod types;
pub mod wire;
