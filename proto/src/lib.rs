//! The wire contract between Kiln nodes: protobuf definitions for what is written to logs and
//! sent between nodes, compiled without a system `protoc`.
//!
//! - [`storage`]: the [`storage::Batch`] one Durable Object turn writes, the unit of atomicity
//!   and of replication.

#[allow(clippy::all, missing_docs)]
pub mod storage {
    include!(concat!(env!("OUT_DIR"), "/kiln.storage.rs"));
}

pub use prost::Message;
