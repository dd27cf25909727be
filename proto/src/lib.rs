//! The wire contract between Kiln nodes: protobuf definitions for Raft traffic, object calls
//! and cluster administration, compiled without a system `protoc`.
//!
//! Nothing is defined yet: node-to-node traffic arrives with the cluster (see ARCHITECTURE.md).
