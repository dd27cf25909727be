//! An optional ledger of the Raft log's fsyncs, for the power-loss test: one line per sync,
//! `<WAL directory> <global offset>`, appended to the file `KILN_SYNC_LEDGER` names (nothing is
//! recorded without it).
//!
//! A line is written after the WAL's `sync_data` returned and before the flush is acknowledged
//! to Raft (the hook in the vendored `chunked-wal`), so every byte of the log below the last
//! offset recorded for a directory is on disk. A test that kills a node with SIGKILL and then
//! truncates each chunk file `r-<start>.wal` of that directory to `offset - start` bytes leaves
//! exactly what a power cut would: a write Kiln acknowledged before its fsync shows up lost.

use super::record_file::RecordFile;

/// The environment variable that turns the ledger on.
pub const SYNC_LEDGER_ENV: &str = "KILN_SYNC_LEDGER";

static LEDGER: RecordFile = RecordFile::new(SYNC_LEDGER_ENV, "the sync ledger");

/// Starts the ledger if `KILN_SYNC_LEDGER` is set (once; later calls do nothing). Called before
/// a shard's log opens.
pub fn install() {
    if LEDGER.enabled() {
        let _ = chunked_wal::SYNC_OBSERVER.set(record);
    }
}

/// Records that the WAL in `dir` is durable up to the global offset `offset`.
fn record(dir: &str, offset: u64) {
    LEDGER.append(&format!("{dir} {offset}\n"));
}
