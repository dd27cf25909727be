//! An optional record of every output an object released on this node, for the chaos suite's
//! single-owner check: one line per release, `<unix µs> <object id hex> <shard> <term>`,
//! appended to the file `KILN_OWNERSHIP_LOG` names (nothing is recorded without it).
//!
//! A line is written after the shard's leader lease (or a read-index round) confirmed this
//! node's leadership in that term, before the output leaves. The check across nodes: for one
//! object, no output of an older term follows an output of a newer term, and no term has
//! outputs on two nodes.

use super::record_file::RecordFile;

/// The environment variable that turns the record on.
pub const OWNERSHIP_LOG_ENV: &str = "KILN_OWNERSHIP_LOG";

static LOG: RecordFile = RecordFile::new(OWNERSHIP_LOG_ENV, "the ownership log");

/// Records that `object` released output here while this node led `shard` in `term`.
pub fn record(object: &[u8; 32], shard: u32, term: u64) {
    if !LOG.enabled() {
        return;
    }
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    let hex: String = object.iter().map(|b| format!("{b:02x}")).collect();
    // A lost line only weakens the check; it never stops the node.
    LOG.append(&format!("{micros} {hex} {shard} {term}\n"));
}
