//! An optional ledger of the Raft log's fsyncs, for the power-loss test: one line per sync,
//! `<WAL directory> <global offset>`, appended to the file `KILN_SYNC_LEDGER` names (nothing is
//! recorded without it).
//!
//! A line is written after the WAL's `sync_data` returned and before the flush is acknowledged
//! to Raft (the hook in the vendored `chunked-wal`), so every byte of the log below the last
//! offset recorded for a directory is on disk. A test that kills a node with SIGKILL and then
//! truncates each chunk file `r-<start>.wal` of that directory to `offset - start` bytes leaves
//! exactly what a power cut would: a write Kiln acknowledged before its fsync shows up lost.

use std::io::Write;
use std::sync::{Mutex, OnceLock};

/// The environment variable that turns the ledger on.
pub const SYNC_LEDGER_ENV: &str = "KILN_SYNC_LEDGER";

fn file() -> Option<&'static Mutex<std::fs::File>> {
    static FILE: OnceLock<Option<Mutex<std::fs::File>>> = OnceLock::new();
    FILE.get_or_init(|| {
        let path = std::env::var_os(SYNC_LEDGER_ENV)?;
        match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
        {
            Ok(file) => Some(Mutex::new(file)),
            Err(err) => {
                tracing::warn!(target: "kiln::cluster", %err, "cannot open the sync ledger");
                None
            }
        }
    })
    .as_ref()
}

/// Starts the ledger if `KILN_SYNC_LEDGER` is set (once; later calls do nothing). Called before
/// a shard's log opens.
pub fn install() {
    if file().is_some() {
        let _ = chunked_wal::SYNC_OBSERVER.set(record);
    }
}

/// Records that the WAL in `dir` is durable up to the global offset `offset`.
fn record(dir: &str, offset: u64) {
    let Some(file) = file() else {
        return;
    };
    // One write per line, so lines of concurrent syncs never interleave.
    let line = format!("{dir} {offset}\n");
    let mut file = file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Err(err) = file.write_all(line.as_bytes()) {
        tracing::warn!(target: "kiln::cluster", %err, "cannot write the sync ledger");
    }
}
