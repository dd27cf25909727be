//! The wire contract between Kiln nodes: protobuf definitions for what is written to logs and
//! sent between nodes, compiled without a system `protoc`.
//!
//! - [`storage`]: the [`storage::Batch`] one Durable Object turn writes, the unit of atomicity
//!   and of replication.
//! - [`cluster`]: the gRPC services between nodes (`Raft`, `Objects`, `Admin`).

#[allow(clippy::all, missing_docs)]
pub mod storage {
    include!(concat!(env!("OUT_DIR"), "/kiln.storage.rs"));
}

/// What nodes say to each other: Raft traffic, object calls, administration (gRPC).
#[allow(clippy::all, missing_docs)]
pub mod cluster {
    include!(concat!(env!("OUT_DIR"), "/kiln.cluster.rs"));
}

pub use prost::Message;
