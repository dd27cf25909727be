//! The write-ahead log: length- and CRC-framed records appended to one file and fsynced.
//!
//! Guarantees: a record is durable once [`Wal::sync`] returns after it was appended; reading the
//! log back stops at the first torn or corrupt record (a crash mid-append) and cuts the file
//! there, so a half-written batch is never applied. Record frame: `len: u32 LE` (never 0),
//! `crc32: u32 LE` of the payload, then the payload.
//!
//! The file is kept zero-filled [`PREALLOCATE_BYTES`] ahead of the last record (the zeros read
//! as the end of the log), so an append overwrites blocks the file already has: its size does not
//! change, and `fdatasync` writes the data alone instead of the data and then the inode (one
//! device flush per commit instead of two).

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::limits::LOG_RECORD_BYTES_MAX;

const FRAME_HEADER_BYTES: usize = 8;

/// How far ahead of the last record the file is zero-filled, in one write and one fsync.
pub const PREALLOCATE_BYTES: u64 = 1024 * 1024;

pub struct Wal {
    file: File,
    path: PathBuf,
    /// Bytes in the file that hold whole records.
    len: u64,
    /// Records appended but not yet written to the file.
    pending: Vec<u8>,
    /// The file's size: zeros from `len` up to here.
    allocated: u64,
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
            if len == 0 || len > LOG_RECORD_BYTES_MAX || crc32fast::hash(payload) != crc {
                break;
            }
            records.push(payload.to_vec());
            offset = start + len;
        }
        if offset < bytes.len() {
            // Zeros past the records are the preallocated tail; anything else is a record a
            // crash tore (or a later one whose earlier neighbour was lost): cut it all off, so
            // no stale record can ever line up behind new ones.
            if bytes[offset..].iter().any(|&b| b != 0) {
                tracing::warn!(
                    path = %path.display(),
                    offset,
                    dropped_bytes = bytes.len() - offset,
                    "cutting a torn record off the end of the log"
                );
            }
            file.set_len(offset as u64)?;
            file.sync_all()?;
        }
        sync_dir(path)?;
        Ok((
            Wal {
                file,
                path: path.to_owned(),
                len: offset as u64,
                pending: Vec::new(),
                allocated: offset as u64,
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
            let end = self.len + self.pending.len() as u64;
            if end > self.allocated {
                self.preallocate(end + PREALLOCATE_BYTES)?;
            }
            self.file.write_all_at(&self.pending, self.len)?;
            self.len = end;
            self.pending.clear();
        }
        self.file.sync_data()?;
        Ok(())
    }

    /// Zero-fills the file from the last record up to `size` and makes the new size durable.
    fn preallocate(&mut self, size: u64) -> Result<(), Error> {
        static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];
        let mut at = self.allocated.max(self.len);
        while at < size {
            let n = (size - at).min(ZEROS.len() as u64) as usize;
            self.file.write_all_at(&ZEROS[..n], at)?;
            at += n as u64;
        }
        self.file.sync_all()?;
        self.allocated = size;
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
        self.file.sync_all()?;
        self.len = 0;
        self.allocated = 0;
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
        // A crash in the middle of a third append leaves half a frame behind, in the zeros.
        let records_end = (FRAME_HEADER_BYTES * 2 + "first".len() + "second".len()) as u64;
        let file = OpenOptions::new().write(true).open(&path).expect("reopen");
        file.write_all_at(&[9, 0, 0, 0, 1, 2], records_end)
            .expect("torn write");
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
        let last = FRAME_HEADER_BYTES * 2 + "good".len() + "flipped".len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).expect("write");
        let (_, records) = Wal::open(&path).expect("open");
        assert_eq!(records, vec![b"good".to_vec()]);
    }

    #[test]
    fn a_record_behind_a_lost_one_never_comes_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("wal.log");
        {
            let (mut wal, _) = Wal::open(&path).expect("open");
            for record in [&b"kept"[..], b"lost-in-the-crash", b"stale"] {
                wal.append(record).expect("append");
            }
            wal.sync().expect("sync");
        }
        // The crash lost the middle record's block but the last one reached the disk.
        let lost_at = (FRAME_HEADER_BYTES + "kept".len()) as u64;
        let file = OpenOptions::new().write(true).open(&path).expect("reopen");
        file.write_all_at(&[0; FRAME_HEADER_BYTES + 17], lost_at)
            .expect("zero");
        drop(file);
        let (mut wal, records) = Wal::open(&path).expect("open after crash");
        assert_eq!(records, vec![b"kept".to_vec()]);
        // A new record as long as the lost one ends where the stale one begins.
        wal.append(b"new-after-a-crash").expect("append");
        wal.sync().expect("sync");
        drop(wal);
        let (_, records) = Wal::open(&path).expect("open again");
        assert_eq!(
            records,
            vec![b"kept".to_vec(), b"new-after-a-crash".to_vec()]
        );
    }

    #[test]
    fn appends_leave_the_size_alone_until_the_zeros_run_out() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("wal.log");
        let (mut wal, _) = Wal::open(&path).expect("open");
        wal.append(b"one").expect("append");
        wal.sync().expect("sync");
        let size = std::fs::metadata(&path).expect("stat").len();
        assert!(size >= PREALLOCATE_BYTES, "the file is zero-filled ahead");
        wal.append(b"two").expect("append");
        wal.sync().expect("sync");
        assert_eq!(std::fs::metadata(&path).expect("stat").len(), size);
        wal.truncate().expect("truncate");
        assert_eq!(std::fs::metadata(&path).expect("stat").len(), 0);
        drop(wal);
        let (_, records) = Wal::open(&path).expect("open");
        assert!(records.is_empty());
    }
}
