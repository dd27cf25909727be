//! The storage crate's error.

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("storage i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("sled: {0}")]
    Sled(#[from] sled::Error),
    #[error("corrupt log record at offset {offset}: {reason}")]
    Corrupt { offset: u64, reason: String },
    #[error("the store is closed")]
    Closed,
    #[error("the commit queue is full")]
    Overloaded,
    #[error("invalid object id: expected 32 bytes, got {0}")]
    InvalidId(usize),
}
