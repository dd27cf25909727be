//! The write-ahead log: length- and CRC-framed records appended to one file and fsynced.
//!
//! Guarantees: a record is durable once [`Wal::sync`] returns after it was appended; reading the
//! log back stops at the first torn or corrupt record (a crash mid-append) and cuts the file
//! there, so a half-written batch is never applied. Record frame: `len: u32 LE`, `crc32: u32 LE`
//! of the payload, then the payload.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::limits::LOG_RECORD_BYTES_MAX;

const FRAME_HEADER_BYTES: usize = 8;

pub struct Wal {
    file: File,
    path: PathBuf,
    /// Bytes in the file that hold whole records.
    len: u64,
    /// Records appended but not yet written to the file.
    pending: Vec<u8>,
}

impl Wal {
    /// Opens (or creates) the log and returns it with the payloads of every intact record.
    pub fn open(path: &Path) -> Result<(Wal, Vec<Vec<u8>>), Error> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let mut records = Vec::new();
        let mut offset = 0usize;
        while let Some(header) = bytes.get(offset..offset + FRAME_HEADER_BYTES) {
            let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
            let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
            let start = offset + FRAME_HEADER_BYTES;
            let Some(payload) = bytes.get(start..start + len) else {
                break;
            };
            if len > LOG_RECORD_BYTES_MAX || crc32fast::hash(payload) != crc {
                break;
            }
            records.push(payload.to_vec());
            offset = start + len;
        }
        if offset < bytes.len() {
            tracing::warn!(
                path = %path.display(),
                offset,
                dropped_bytes = bytes.len() - offset,
                "cutting a torn record off the end of the log"
            );
            file.set_len(offset as u64)?;
            file.sync_all()?;
        }
        file.seek(SeekFrom::Start(offset as u64))?;
        sync_dir(path)?;
        Ok((
            Wal {
                file,
                path: path.to_owned(),
                len: offset as u64,
                pending: Vec::new(),
            },
            records,
        ))
    }

    /// Queues one record; it is written by the next [`Wal::sync`].
    pub fn append(&mut self, payload: &[u8]) -> Result<(), Error> {
        if payload.len() > LOG_RECORD_BYTES_MAX {
            return Err(Error::Corrupt {
                offset: self.len,
                reason: format!("record of {} bytes is too large", payload.len()),
            });
        }
        let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
        self.pending.extend_from_slice(&len.to_le_bytes());
        self.pending
            .extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
        self.pending.extend_from_slice(payload);
        Ok(())
    }

    /// Writes every queued record and fsyncs the file: after this they survive a crash.
    pub fn sync(&mut self) -> Result<(), Error> {
        if !self.pending.is_empty() {
            self.file.write_all(&self.pending)?;
            self.len += self.pending.len() as u64;
            self.pending.clear();
        }
        self.file.sync_data()?;
        Ok(())
    }

    pub fn len_bytes(&self) -> u64 {
        self.len
    }

    /// Empties the log. The caller must have made everything in it durable elsewhere first.
    pub fn truncate(&mut self) -> Result<(), Error> {
        assert!(
            self.pending.is_empty(),
            "truncating a log with unwritten records"
        );
        self.file.set_len(0)?;
        self.file.seek(SeekFrom::Start(0))?;
        self.file.sync_all()?;
        self.len = 0;
        tracing::debug!(path = %self.path.display(), "log truncated after a checkpoint");
        Ok(())
    }
}

/// Fsyncs the directory holding `path`, so a newly created file's entry is durable too.
pub fn sync_dir(path: &Path) -> Result<(), Error> {
    if let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn torn_tail_is_cut_and_intact_records_survive() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("wal.log");
        {
            let (mut wal, records) = Wal::open(&path).expect("open");
            assert!(records.is_empty());
            wal.append(b"first").expect("append");
            wal.append(b"second").expect("append");
            wal.sync().expect("sync");
        }
        // A crash in the middle of a third append leaves half a frame behind.
        let mut file = OpenOptions::new().append(true).open(&path).expect("reopen");
        file.write_all(&[9, 0, 0, 0, 1, 2]).expect("torn write");
        drop(file);
        let (mut wal, records) = Wal::open(&path).expect("open after crash");
        assert_eq!(records, vec![b"first".to_vec(), b"second".to_vec()]);
        wal.append(b"third").expect("append");
        wal.sync().expect("sync");
        drop(wal);
        let (_, records) = Wal::open(&path).expect("open again");
        assert_eq!(records.len(), 3);
        assert_eq!(records[2], b"third");
    }

    #[test]
    fn a_flipped_bit_ends_the_log_there() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("wal.log");
        {
            let (mut wal, _) = Wal::open(&path).expect("open");
            wal.append(b"good").expect("append");
            wal.append(b"flipped").expect("append");
            wal.sync().expect("sync");
        }
        let mut bytes = std::fs::read(&path).expect("read");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).expect("write");
        let (_, records) = Wal::open(&path).expect("open");
        assert_eq!(records, vec![b"good".to_vec()]);
    }
}
