//! A shard group's Raft log and vote, on the `raft-log` crate: a dedicated, fsynced log per
//! group (never in sled).
//!
//! Guarantees: an append is reported flushed to openraft only after raft-log's flush worker
//! fsynced it; a vote and a truncation are durable before their call returns; appended entries
//! are readable at once. Many appends share one fsync when they arrive together.

use std::fmt::Debug;
use std::io;
use std::ops::{Bound, RangeBounds};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use openraft::storage::{IOFlushed, RaftLogStorage};
use openraft::{EntryPayload, LogState, OptionalSend, RaftLogReader};
use raft_log::api::raft_log_writer::RaftLogWriter;
use raft_log::codeq::{Decode, Encode};
use raft_log::RaftLog;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::types::{Command, Entry, LogId, NodeId, TypeConfig, Vote};

/// A value stored in raft-log as JSON behind codeq's length-prefixed bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Json<T>(pub T);

impl<T: Serialize> Encode for Json<T> {
    fn encode<W: io::Write>(&self, w: W) -> Result<usize, io::Error> {
        serde_json::to_vec(&self.0)
            .map_err(io::Error::other)?
            .encode(w)
    }
}

impl<T: DeserializeOwned> Decode for Json<T> {
    fn decode<R: io::Read>(r: R) -> Result<Self, io::Error> {
        let bytes = Vec::<u8>::decode(r)?;
        Ok(Json(
            serde_json::from_slice(&bytes).map_err(io::Error::other)?,
        ))
    }
}

/// What raft-log's flush worker calls once an fsync finished.
pub enum Flushed {
    /// An append openraft waits for.
    Raft(IOFlushed<TypeConfig>),
    /// A vote or truncation the caller waits for.
    Waiter(tokio::sync::oneshot::Sender<io::Result<()>>),
}

impl raft_log::Callback for Flushed {
    fn send(self, result: Result<(), io::Error>) {
        match self {
            Flushed::Raft(callback) => callback.io_completed(result),
            Flushed::Waiter(sender) => {
                let _ = sender.send(result);
            }
        }
    }
}

type Payload = EntryPayload<Command, NodeId, openraft::BasicNode>;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LogTypes;

impl raft_log::Types for LogTypes {
    type LogId = Json<LogId>;
    type LogPayload = Json<Payload>;
    type Vote = Json<Vote>;
    type Callback = Flushed;
    type UserData = Vec<u8>;

    fn log_index(log_id: &Self::LogId) -> u64 {
        log_id.0.index
    }

    fn payload_size(payload: &Self::LogPayload) -> u64 {
        match &payload.0 {
            EntryPayload::Normal(command) => command.batch.len() as u64 + 16,
            _ => 64,
        }
    }
}

/// One group's log.
#[derive(Clone)]
pub struct LogStore {
    log: Arc<Mutex<RaftLog<LogTypes>>>,
}

impl LogStore {
    pub fn open(dir: &Path) -> io::Result<LogStore> {
        std::fs::create_dir_all(dir)?;
        super::sync_ledger::install();
        let config = Arc::new(raft_log::Config::new(dir.to_string_lossy().into_owned()));
        let log = RaftLog::<LogTypes>::open(config)?;
        Ok(LogStore {
            log: Arc::new(Mutex::new(log)),
        })
    }

    fn lock(&self) -> MutexGuard<'_, RaftLog<LogTypes>> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Flushes with fsync and waits for it.
    async fn flush_and_wait(&self) -> io::Result<()> {
        let (sender, done) = tokio::sync::oneshot::channel();
        self.lock().flush(true, Some(Flushed::Waiter(sender)))?;
        done.await.map_err(io::Error::other)?
    }
}

fn half_open<R: RangeBounds<u64>>(range: &R) -> (u64, u64) {
    let start = match range.start_bound() {
        Bound::Included(&s) => s,
        Bound::Excluded(&s) => s.saturating_add(1),
        Bound::Unbounded => 0,
    };
    let end = match range.end_bound() {
        Bound::Included(&e) => e.saturating_add(1),
        Bound::Excluded(&e) => e,
        Bound::Unbounded => u64::MAX,
    };
    (start, end)
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, io::Error> {
        let (from, to) = half_open(&range);
        let log = self.lock();
        log.read(from, to)
            .map(|item| {
                item.map(|(id, payload)| Entry {
                    log_id: id.0,
                    payload: payload.0,
                })
            })
            .collect()
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, io::Error> {
        Ok(self.lock().log_state().vote().map(|v| v.0))
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, io::Error> {
        let log = self.lock();
        let state = log.log_state();
        let purged = state.purged().map(|x| x.0);
        let last = state.last().map(|x| x.0).or(purged);
        Ok(LogState {
            last_purged_log_id: purged,
            last_log_id: last,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), io::Error> {
        self.lock().save_vote(Json(*vote))?;
        self.flush_and_wait().await
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), io::Error> {
        if let Some(committed) = committed {
            self.lock().commit(Json(committed))?;
        }
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, io::Error> {
        Ok(self.lock().log_state().committed().map(|x| x.0))
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: IOFlushed<TypeConfig>,
    ) -> Result<(), io::Error>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut log = self.lock();
        log.append(
            entries
                .into_iter()
                .map(|entry| (Json(entry.log_id), Json(entry.payload))),
        )?;
        log.flush(true, Some(Flushed::Raft(callback)))?;
        Ok(())
    }

    async fn truncate_after(&mut self, last_log_id: Option<LogId>) -> Result<(), io::Error> {
        let index = last_log_id.map_or(0, |id| id.index + 1);
        {
            let mut log = self.lock();
            if log
                .log_state()
                .last()
                .is_some_and(|last| last.0.index >= index)
            {
                log.truncate(index)?;
            }
        }
        self.flush_and_wait().await
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), io::Error> {
        self.lock().purge(Json(log_id))?;
        Ok(())
    }
}
