//! The node's object store: the write-ahead log, the committer thread that group-commits
//! batches to it, and the sled trees (one per shard) materialized from it.
//!
//! Guarantees:
//! - [`Store::commit`] resolves `Ok` only after the batch's log record is fsynced and the batch
//!   is applied to sled, so a read after the commit sees it and kill -9 cannot lose it.
//! - Batches are applied to sled in log order, key by key (sled's atomic batches cost a write
//!   and sync of its own log each). The log holds every record since the last checkpoint (a
//!   full sync of sled), and [`Store::open`] replays all of them and checkpoints, so a batch a
//!   crash left half applied is whole again before anything reads it.
//! - Namespace keys are created once and made durable before they are returned.

use std::collections::HashMap;
use std::fs::File;
use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kiln_proto::storage::{Batch, LogRecord};
use kiln_proto::Message;
use tokio::sync::oneshot;

use crate::alarm_index::AlarmIndex;
use crate::error::Error;
use crate::keys::{self, ObjectId};
use crate::limits::{COMMIT_QUEUE_MAX, GROUP_COMMIT_BATCHES_MAX, LOG_CHECKPOINT_BYTES, SHARDS};
use crate::shard_tree::{AlarmEntry, Entry, ListRange, ObjectEntry, ShardTree};
use crate::wal::{self, Wal};

/// How a [`Store`] is opened.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub dir: PathBuf,
    /// Test hook: sleep this long before each fsync, to show that output waits for it.
    pub flush_delay: Duration,
}

type Commit = (Batch, oneshot::Sender<Result<(), Error>>);

struct Inner {
    dir: PathBuf,
    db: sled::Db,
    shards: Vec<ShardTree>,
    queue: SyncSender<Commit>,
    /// Scheduled alarms in time order, and each object's namespace for firing them.
    alarms: AlarmIndex,
    namespace_keys: Mutex<HashMap<String, [u8; 32]>>,
}

/// How long `open` waits for sled's file lock: a store dropped a moment ago in this process
/// releases it from its background threads, shortly after the drop returns.
const SLED_LOCK_WAIT: Duration = Duration::from_secs(5);

/// Opens the sled database, waiting up to [`SLED_LOCK_WAIT`] for its lock.
pub fn open_sled(path: &Path) -> Result<sled::Db, Error> {
    let deadline = std::time::Instant::now() + SLED_LOCK_WAIT;
    loop {
        match sled::Config::new()
            .path(path)
            .flush_every_ms(Some(1000))
            .open()
        {
            Err(sled::Error::Io(err))
                if err.to_string().contains("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return Ok(other?),
        }
    }
}

/// The node's object store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl Store {
    /// Opens the store in `options.dir`, replaying the log into sled, and starts the committer.
    pub fn open(options: StoreOptions) -> Result<Store, Error> {
        std::fs::create_dir_all(&options.dir)?;
        let db = open_sled(&options.dir.join("objects"))?;
        let shards = (0..SHARDS)
            .map(|shard| {
                db.open_tree(format!("shard-{shard:02}"))
                    .map(ShardTree::new)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let (mut wal, records) = Wal::open(&options.dir.join("wal.log"))?;
        let mut next_index = 1;
        for tree in &shards {
            next_index = next_index.max(tree.last_applied()? + 1);
        }
        let mut replayed = 0usize;
        for payload in records {
            let record = LogRecord::decode(payload.as_slice()).map_err(|err| Error::Corrupt {
                offset: 0,
                reason: err.to_string(),
            })?;
            let Some(batch) = record.batch else { continue };
            let Some(tree) = shard_tree(&shards, &batch.object_id) else {
                continue;
            };
            next_index = next_index.max(record.index + 1);
            tree.apply_replayable(record.index, &batch)?;
            replayed += 1;
        }
        if replayed > 0 {
            tracing::info!(replayed, "replayed committed batches from the log");
            db.flush()?;
            sync_tree(&options.dir.join("objects"))?;
            wal.truncate()?;
        }
        let namespace_keys = read_namespace_keys(&options.dir)?;
        let (queue, receiver) = sync_channel(COMMIT_QUEUE_MAX);
        let inner = Arc::new(Inner {
            dir: options.dir.clone(),
            db,
            shards,
            queue,
            alarms: AlarmIndex::default(),
            namespace_keys: Mutex::new(namespace_keys),
        });
        inner.load_alarms()?;
        let committer = Committer {
            inner: Arc::downgrade(&inner),
            wal,
            next_index,
            flush_delay: options.flush_delay,
        };
        std::thread::Builder::new()
            .name("kiln-commit".into())
            .spawn(move || committer.run(receiver))?;
        Ok(Store { inner })
    }

    /// Makes `batch` durable and applies it; resolves once both are done.
    pub fn commit(&self, batch: Batch) -> impl Future<Output = Result<(), Error>> + Send + 'static {
        let (done, result) = oneshot::channel();
        let sent = if batch.object_id.len() != 32 {
            Err(Error::InvalidId(batch.object_id.len()))
        } else {
            match self.inner.queue.try_send((batch, done)) {
                Ok(()) => Ok(()),
                Err(TrySendError::Full(_)) => Err(Error::Overloaded),
                Err(TrySendError::Disconnected(_)) => Err(Error::Closed),
            }
        };
        async move {
            sent?;
            result.await.map_err(|_| Error::Closed)?
        }
    }

    pub fn get(&self, id: &ObjectId, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        self.inner.tree(id).get(id, key)
    }

    /// The object's keys and values within `range`, in key order (reversed if asked).
    pub fn list(&self, id: &ObjectId, range: &ListRange) -> Result<Vec<Entry>, Error> {
        self.inner.tree(id).list(id, range)
    }

    pub fn get_alarm(&self, id: &ObjectId) -> Result<Option<i64>, Error> {
        self.inner.tree(id).alarm(id)
    }

    /// The earliest scheduled alarm's time.
    pub fn next_alarm_ms(&self) -> Option<i64> {
        self.inner.alarms.next_ms()
    }

    /// Alarms due at `now_ms`, earliest first, at most `max`.
    pub fn due_alarms(&self, now_ms: i64, max: usize) -> Vec<AlarmEntry> {
        self.inner.alarms.due(now_ms, max)
    }

    /// Wakes whoever waits for alarms whenever one is set or deleted.
    pub async fn alarms_changed(&self) {
        self.inner.alarms.changed().await
    }

    /// Every object the registry holds in `namespace` (objects with data or an alarm).
    pub fn objects(&self, namespace: &str) -> Result<Vec<ObjectEntry>, Error> {
        let mut found = Vec::new();
        for tree in &self.inner.shards {
            found.extend(tree.objects(namespace)?);
        }
        found.sort_by_key(|entry| entry.id);
        Ok(found)
    }

    pub fn object(&self, id: &ObjectId) -> Result<Option<ObjectEntry>, Error> {
        self.inner.tree(id).object(id)
    }

    /// The secret key of a Durable Object namespace: random, created on first use, durable
    /// before it is returned, and never changed, so ids stay valid across restarts.
    pub fn namespace_key(&self, namespace: &str) -> Result<[u8; 32], Error> {
        let mut keys = self
            .inner
            .namespace_keys
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(key) = keys.get(namespace) {
            return Ok(*key);
        }
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)
            .map_err(|err| Error::Io(std::io::Error::other(err.to_string())))?;
        keys.insert(namespace.to_owned(), key);
        if let Err(err) = write_namespace_keys(&self.inner.dir, &keys) {
            keys.remove(namespace);
            return Err(err);
        }
        Ok(key)
    }
}

impl Inner {
    fn tree(&self, id: &ObjectId) -> &ShardTree {
        let shard = kiln_router::shard_of(id, SHARDS) as usize;
        &self.shards[shard]
    }

    fn load_alarms(&self) -> Result<(), Error> {
        for tree in &self.shards {
            for alarm in tree.alarms()? {
                self.alarms
                    .set(alarm.id, &alarm.namespace, Some(alarm.time_ms));
            }
        }
        Ok(())
    }

    /// Syncs every sled file to disk with a real fsync (sled's own flush does not promise one),
    /// so the log behind it can be dropped.
    fn checkpoint(&self) -> Result<(), Error> {
        self.db.flush()?;
        sync_tree(&self.dir.join("objects"))
    }
}

/// Fsyncs every file under `path` and the directories themselves (sled's flush is not a real
/// fsync).
pub fn sync_tree(path: &Path) -> Result<(), Error> {
    for entry in std::fs::read_dir(path)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            sync_tree(&entry.path())?;
        } else if kind.is_file() {
            File::open(entry.path())?.sync_all()?;
        }
    }
    File::open(path)?.sync_all()?;
    Ok(())
}

fn shard_tree<'a>(shards: &'a [ShardTree], id: &[u8]) -> Option<&'a ShardTree> {
    let id = keys::object_id(id)?;
    shards.get(kiln_router::shard_of(&id, SHARDS) as usize)
}

struct Committer {
    inner: std::sync::Weak<Inner>,
    wal: Wal,
    next_index: u64,
    flush_delay: Duration,
}

impl Committer {
    fn run(mut self, receiver: Receiver<Commit>) {
        let mut group: Vec<Commit> = Vec::with_capacity(GROUP_COMMIT_BATCHES_MAX);
        while let Ok(first) = receiver.recv() {
            group.push(first);
            while group.len() < GROUP_COMMIT_BATCHES_MAX {
                match receiver.try_recv() {
                    Ok(commit) => group.push(commit),
                    Err(_) => break,
                }
            }
            let Some(inner) = self.inner.upgrade() else {
                return;
            };
            if let Err(err) = self.commit_group(&inner, &mut group) {
                tracing::error!(%err, "commit failed; the store stops accepting writes");
                for (_, done) in group.drain(..) {
                    let _ = done.send(Err(Error::Closed));
                }
                return;
            }
            if self.wal.len_bytes() > LOG_CHECKPOINT_BYTES {
                let checkpointed = inner.checkpoint().and_then(|()| self.wal.truncate());
                if let Err(err) = checkpointed {
                    tracing::error!(%err, "checkpoint failed; the log keeps growing");
                }
            }
        }
    }

    fn commit_group(&mut self, inner: &Inner, group: &mut Vec<Commit>) -> Result<(), Error> {
        let first_index = self.next_index;
        for (batch, _) in group.iter() {
            let record = LogRecord {
                index: self.next_index,
                batch: Some(batch.clone()),
            };
            self.wal.append(&record.encode_to_vec())?;
            self.next_index += 1;
        }
        if !self.flush_delay.is_zero() {
            std::thread::sleep(self.flush_delay);
        }
        self.wal.sync()?;
        for (offset, (batch, done)) in group.drain(..).enumerate() {
            let index = first_index + offset as u64;
            let result = match shard_tree(&inner.shards, &batch.object_id) {
                Some(tree) => tree.apply_replayable(index, &batch),
                None => Err(Error::InvalidId(batch.object_id.len())),
            };
            match result {
                Ok(Some(time)) => {
                    if let Some(id) = keys::object_id(&batch.object_id) {
                        inner.alarms.set(id, &batch.namespace, time);
                    }
                    let _ = done.send(Ok(()));
                }
                Ok(None) => {
                    let _ = done.send(Ok(()));
                }
                Err(err) => {
                    // The batch is durable in the log; sled failing to apply it is fatal.
                    let _ = done.send(Err(Error::Closed));
                    return Err(err);
                }
            }
        }
        Ok(())
    }
}

const NAMESPACE_KEYS_FILE: &str = "namespace-keys";

fn read_namespace_keys(dir: &Path) -> Result<HashMap<String, [u8; 32]>, Error> {
    let path = dir.join(NAMESPACE_KEYS_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(err) => return Err(err.into()),
    };
    let mut keys = HashMap::new();
    for (number, line) in text.lines().enumerate() {
        let corrupt = || Error::Corrupt {
            offset: number as u64,
            reason: format!(
                "{}: line {} is not `<hex key> <namespace>`",
                path.display(),
                number + 1
            ),
        };
        let (hex, namespace) = line.split_once(' ').ok_or_else(corrupt)?;
        let mut key = [0u8; 32];
        if hex.len() != 64 {
            return Err(corrupt());
        }
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).map_err(|_| corrupt())?;
        }
        keys.insert(namespace.to_owned(), key);
    }
    Ok(keys)
}

/// Writes the keys to a temporary file, fsyncs it, and renames it over the old one.
fn write_namespace_keys(dir: &Path, keys: &HashMap<String, [u8; 32]>) -> Result<(), Error> {
    let mut text = String::new();
    let mut sorted: Vec<_> = keys.iter().collect();
    sorted.sort();
    for (namespace, key) in sorted {
        for byte in key {
            text.push_str(&format!("{byte:02x}"));
        }
        text.push(' ');
        text.push_str(namespace);
        text.push('\n');
    }
    let temporary = dir.join(format!("{NAMESPACE_KEYS_FILE}.tmp"));
    let mut file = File::create(&temporary)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    let path = dir.join(NAMESPACE_KEYS_FILE);
    std::fs::rename(&temporary, &path)?;
    wal::sync_dir(&path)?;
    Ok(())
}

#[cfg(test)]
mod tests;
