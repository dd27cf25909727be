//! An append-only record a test asks a node to keep by naming its file in an environment
//! variable (the ownership log, the sync ledger): opened once, on first use, and absent when the
//! variable is not set. A record never stops the node: a file that cannot be opened or written
//! is logged and skipped.

use std::io::Write;
use std::sync::{Mutex, OnceLock};

pub struct RecordFile {
    /// The environment variable naming the file.
    env: &'static str,
    /// What the record is, for log messages ("the ownership log").
    what: &'static str,
    file: OnceLock<Option<Mutex<std::fs::File>>>,
}

impl RecordFile {
    pub const fn new(env: &'static str, what: &'static str) -> RecordFile {
        RecordFile {
            env,
            what,
            file: OnceLock::new(),
        }
    }

    /// Whether the record is kept (its variable is set and its file opened).
    pub fn enabled(&self) -> bool {
        self.file().is_some()
    }

    /// Appends `line` (one write, so the lines of concurrent writers never interleave).
    pub fn append(&self, line: &str) {
        let Some(file) = self.file() else {
            return;
        };
        let mut file = file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Err(err) = file.write_all(line.as_bytes()) {
            tracing::warn!(target: "kiln::cluster", %err, record = self.what, "cannot write the record");
        }
    }

    fn file(&self) -> Option<&Mutex<std::fs::File>> {
        self.file
            .get_or_init(|| {
                let path = std::env::var_os(self.env)?;
                match std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                {
                    Ok(file) => Some(Mutex::new(file)),
                    Err(err) => {
                        tracing::warn!(target: "kiln::cluster", %err, record = self.what, "cannot open the record");
                        None
                    }
                }
            })
            .as_ref()
    }
}
