//! An optional record of every output an object released on this node, for the chaos suite's
//! single-owner check: one line per release, `<unix µs> <object id hex> <shard> <term>`,
//! appended to the file `KILN_OWNERSHIP_LOG` names (nothing is recorded without it).
//!
//! A line is written after the shard's leader lease (or a read-index round) confirmed this
//! node's leadership in that term, before the output leaves. The check across nodes: for one
//! object, no output of an older term follows an output of a newer term, and no term has
//! outputs on two nodes.

use std::io::Write;
use std::sync::{Mutex, OnceLock};

/// The environment variable that turns the record on.
pub const OWNERSHIP_LOG_ENV: &str = "KILN_OWNERSHIP_LOG";

fn file() -> Option<&'static Mutex<std::fs::File>> {
    static FILE: OnceLock<Option<Mutex<std::fs::File>>> = OnceLock::new();
    FILE.get_or_init(|| {
        let path = std::env::var_os(OWNERSHIP_LOG_ENV)?;
        match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
        {
            Ok(file) => Some(Mutex::new(file)),
            Err(err) => {
                tracing::warn!(target: "kiln::cluster", %err, "cannot open the ownership log");
                None
            }
        }
    })
    .as_ref()
}

/// Records that `object` released output here while this node led `shard` in `term`.
pub fn record(object: &[u8; 32], shard: u32, term: u64) {
    let Some(file) = file() else {
        return;
    };
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    let hex: String = object.iter().map(|b| format!("{b:02x}")).collect();
    let line = format!("{micros} {hex} {shard} {term}\n");
    let mut file = file.lock().unwrap_or_else(|p| p.into_inner());
    // A lost line only weakens the check; it never stops the node.
    let _ = file.write_all(line.as_bytes());
}
