//! One shard's object data in sled: the state a shard's log materializes, and the reads the
//! runtime makes of it. Key layout in [`crate::keys`].
//!
//! Guarantees: a batch is applied all or nothing together with the log index it covers (and,
//! in a cluster, the Raft metadata), so applying an entry twice is harmless; a snapshot is the
//! whole tree, and installing one replaces the tree's contents entirely.

use kiln_proto::storage::{mutation, Batch};

use crate::error::Error;
use crate::keys::{self, ObjectId};

/// A key range of one object, as `list()` asks for it.
#[derive(Debug, Clone, Default)]
pub struct ListRange {
    /// Inclusive lower bound.
    pub start: Option<Vec<u8>>,
    /// Exclusive upper bound.
    pub end: Option<Vec<u8>>,
    pub reverse: bool,
    pub limit: Option<usize>,
}

impl ListRange {
    /// The range `[start, end)` as the runtime's storage seam passes it.
    pub fn new(
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        reverse: bool,
        limit: Option<usize>,
    ) -> ListRange {
        ListRange {
            start: start.map(<[u8]>::to_vec),
            end: end.map(<[u8]>::to_vec),
            reverse,
            limit,
        }
    }
}

/// An object the registry knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectEntry {
    pub id: ObjectId,
    pub namespace: String,
    pub name: Option<String>,
}

/// An alarm that is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmEntry {
    pub namespace: String,
    pub id: ObjectId,
    pub time_ms: i64,
}

/// A key and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// How long a recorded call result is kept, behind the newest record of its object: longer
/// than a caller keeps retrying a call (`CALL_DEADLINE`, 10 s), with margin for clock skew
/// between the nodes that recorded them.
pub const REPLY_RETENTION_MS: u64 = 60_000;
/// Expired records one batch drops at most (the rest go with later batches), so a batch's
/// apply stays short.
pub const REPLY_EXPIRIES_PER_BATCH_MAX: usize = 256;
/// A call result larger than this is not recorded (its retry runs the call again).
pub const REPLY_BYTES_MAX: usize = 256 * 1024;

/// A snapshot's largest key or value (sled's own limits are far above; this bounds a peer's
/// claims before anything is allocated).
const SNAPSHOT_ITEM_BYTES_MAX: usize = 64 * 1024 * 1024;

/// The sled writes of one batch (a `None` value removes the key), and what they change.
struct Plan {
    writes: Vec<(sled::IVec, Option<sled::IVec>)>,
    alarm_change: Option<Option<i64>>,
    puts: bool,
}

/// One shard's tree.
#[derive(Clone)]
pub struct ShardTree {
    tree: sled::Tree,
}

impl ShardTree {
    pub fn new(tree: sled::Tree) -> ShardTree {
        ShardTree { tree }
    }

    /// The last log index applied to this shard (0 if none).
    pub fn last_applied(&self) -> Result<u64, Error> {
        Ok(self
            .tree
            .get(keys::LAST_APPLIED)?
            .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
            .map_or(0, u64::from_be_bytes))
    }

    /// The log's own metadata stored with the data (a cluster keeps its Raft state here).
    pub fn meta(&self) -> Result<Option<Vec<u8>>, Error> {
        Ok(self.tree.get(keys::RAFT_META)?.map(|v| v.to_vec()))
    }

    /// Records that `index` was applied without an object batch (a log entry of the log's own).
    pub fn apply_meta(&self, index: u64, meta: Option<&[u8]>) -> Result<(), Error> {
        let mut writes = sled::Batch::default();
        writes.insert(keys::LAST_APPLIED, &index.to_be_bytes());
        if let Some(meta) = meta {
            writes.insert(keys::RAFT_META, meta);
        }
        self.tree.apply_batch(writes)?;
        Ok(())
    }

    /// Applies one batch atomically, with the log index (and metadata) it covers. Returns the
    /// alarm change it made, if any.
    pub fn apply(
        &self,
        index: u64,
        batch: &Batch,
        meta: Option<&[u8]>,
    ) -> Result<Option<Option<i64>>, Error> {
        let Some(id) = keys::object_id(&batch.object_id) else {
            self.apply_meta(index, meta)?;
            return Ok(None);
        };
        let plan = self.plan(&id, index, batch, meta)?;
        let mut writes = sled::Batch::default();
        for (key, value) in plan.writes {
            match value {
                Some(value) => writes.insert(key, value),
                None => writes.remove(key),
            }
        }
        self.tree.apply_batch(writes)?;
        self.forget_if_empty(&id, plan.puts)?;
        Ok(plan.alarm_change)
    }

    /// Applies one batch key by key, the log index last, and returns the alarm change it made.
    /// A crash can leave part of the batch in sled, so this is only for an owner that replays
    /// every log record since its last checkpoint on open (applying a batch again is harmless).
    /// It exists because every multi-key sled batch makes sled write out and sync its log
    /// buffer (`pin_log` rolls it twice): about a third of a storage write's CPU.
    pub fn apply_replayable(
        &self,
        index: u64,
        batch: &Batch,
    ) -> Result<Option<Option<i64>>, Error> {
        let Some(id) = keys::object_id(&batch.object_id) else {
            self.apply_meta(index, None)?;
            return Ok(None);
        };
        let plan = self.plan(&id, index, batch, None)?;
        for (key, value) in plan.writes {
            match value {
                Some(value) => self.tree.insert(key, value)?,
                None => self.tree.remove(key)?,
            };
        }
        self.forget_if_empty(&id, plan.puts)?;
        Ok(plan.alarm_change)
    }

    /// The sled writes that apply `batch`, in order, the log index (and metadata) last.
    fn plan(
        &self,
        id: &ObjectId,
        index: u64,
        batch: &Batch,
        meta: Option<&[u8]>,
    ) -> Result<Plan, Error> {
        let mut writes = Vec::with_capacity(batch.mutations.len() + 3);
        let mut alarm_change = None;
        let mut puts = false;
        for change in &batch.mutations {
            match &change.kind {
                Some(mutation::Kind::Put(put)) => {
                    writes.push((
                        keys::data_key(id, &put.key).into(),
                        Some(put.value.as_slice().into()),
                    ));
                    puts = true;
                }
                Some(mutation::Kind::Delete(key)) => {
                    writes.push((keys::data_key(id, key).into(), None))
                }
                Some(mutation::Kind::DeleteAll(_)) => {
                    for item in self.tree.scan_prefix(keys::data_prefix(id)) {
                        let (key, _) = item?;
                        writes.push((key, None));
                    }
                    puts = false;
                }
                Some(mutation::Kind::Alarm(alarm)) => {
                    let value = alarm
                        .time_ms
                        .map(|time| time.to_be_bytes().as_slice().into());
                    writes.push((keys::alarm_key(id).into(), value));
                    alarm_change = Some(alarm.time_ms);
                }
                None => {}
            }
        }
        self.plan_replies(id, batch, &mut writes)?;
        let registered = self.tree.get(keys::object_key(id))?;
        let exists = puts || alarm_change.flatten().is_some() || registered.is_some();
        if exists {
            let entry = keys::encode_object(&batch.namespace, batch.name.as_deref());
            // A named object's entry gains the name the first time a batch carries it.
            let stale = match &registered {
                None => true,
                Some(stored) => batch.name.is_some() && stored.as_ref() != entry.as_slice(),
            };
            if stale {
                writes.push((keys::object_key(id).into(), Some(entry.into())));
            }
        }
        writes.push((
            keys::LAST_APPLIED.into(),
            Some(index.to_be_bytes().as_slice().into()),
        ));
        if let Some(meta) = meta {
            writes.push((keys::RAFT_META.into(), Some(meta.into())));
        }
        Ok(Plan {
            writes,
            alarm_change,
            puts,
        })
    }

    /// Records the batch's call results, and drops the object's records older than
    /// [`REPLY_RETENTION_MS`] before the newest of them. Deterministic: the times are in the
    /// batch, so every replica keeps the same records.
    fn plan_replies(
        &self,
        id: &ObjectId,
        batch: &Batch,
        writes: &mut Vec<(sled::IVec, Option<sled::IVec>)>,
    ) -> Result<(), Error> {
        let mut newest = None;
        for reply in &batch.replies {
            if reply.request_id.len() != keys::REQUEST_ID_BYTES
                || reply.result.len() > REPLY_BYTES_MAX
            {
                continue;
            }
            let at = u64::try_from(reply.recorded_at_ms).unwrap_or(0);
            newest = newest.max(Some(at));
            let mut value = Vec::with_capacity(8 + reply.result.len());
            value.extend_from_slice(&at.to_be_bytes());
            value.extend_from_slice(reply.result.as_bytes());
            writes.push((
                keys::reply_key(id, &reply.request_id).into(),
                Some(value.into()),
            ));
            writes.push((
                keys::reply_time_key(id, at, &reply.request_id).into(),
                Some(sled::IVec::default()),
            ));
        }
        let Some(newest) = newest else {
            return Ok(());
        };
        let prefix = keys::reply_time_prefix(id);
        let cutoff = keys::reply_time_key(id, newest.saturating_sub(REPLY_RETENTION_MS), &[]);
        for item in self
            .tree
            .range(prefix.clone()..cutoff)
            .take(REPLY_EXPIRIES_PER_BATCH_MAX)
        {
            let (key, _) = item?;
            if let Some(request_id) = key.get(prefix.len() + 8..) {
                writes.push((keys::reply_key(id, request_id).into(), None));
            }
            writes.push((key, None));
        }
        Ok(())
    }

    /// The recorded result of the JS RPC call on `id` made with `request_id`, if any.
    pub fn reply(&self, id: &ObjectId, request_id: &[u8]) -> Result<Option<String>, Error> {
        Ok(self
            .tree
            .get(keys::reply_key(id, request_id))?
            .and_then(|value| decode_reply(&value).map(|(_, result)| result.to_owned())))
    }

    /// An object with neither data nor an alarm no longer exists, as on Cloudflare (nor do its
    /// recorded call results).
    fn forget_if_empty(&self, id: &ObjectId, puts: bool) -> Result<(), Error> {
        if !puts
            && self
                .tree
                .scan_prefix(keys::data_prefix(id))
                .next()
                .is_none()
            && self.tree.get(keys::alarm_key(id))?.is_none()
        {
            self.tree.remove(keys::object_key(id))?;
            for prefix in [keys::reply_prefix(id), keys::reply_time_prefix(id)] {
                for item in self.tree.scan_prefix(prefix) {
                    let (key, _) = item?;
                    self.tree.remove(key)?;
                }
            }
        }
        Ok(())
    }

    pub fn get(&self, id: &ObjectId, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        Ok(self.tree.get(keys::data_key(id, key))?.map(|v| v.to_vec()))
    }

    /// The object's keys and values within `range`, in key order (reversed if asked).
    pub fn list(&self, id: &ObjectId, range: &ListRange) -> Result<Vec<Entry>, Error> {
        let prefix = keys::data_prefix(id);
        let lower = keys::data_key(id, range.start.as_deref().unwrap_or_default());
        let upper = match &range.end {
            Some(end) => keys::data_key(id, end),
            None => keys::prefix_end(&prefix).unwrap_or_else(|| vec![u8::MAX; 34]),
        };
        let mut entries = Vec::new();
        if lower >= upper {
            return Ok(entries);
        }
        let limit = range.limit.unwrap_or(usize::MAX);
        let iter = self.tree.range(lower..upper);
        let mut push = |item: sled::Result<(sled::IVec, sled::IVec)>| -> Result<bool, Error> {
            let (key, value) = item?;
            entries.push((key[prefix.len()..].to_vec(), value.to_vec()));
            Ok(entries.len() < limit)
        };
        if range.reverse {
            for item in iter.rev() {
                if !push(item)? {
                    break;
                }
            }
        } else {
            for item in iter {
                if !push(item)? {
                    break;
                }
            }
        }
        Ok(entries)
    }

    pub fn alarm(&self, id: &ObjectId) -> Result<Option<i64>, Error> {
        Ok(self
            .tree
            .get(keys::alarm_key(id))?
            .and_then(|v| decode_time(&v)))
    }

    /// Every alarm in this shard: (object, namespace, time).
    pub fn alarms(&self) -> Result<Vec<AlarmEntry>, Error> {
        let mut found = Vec::new();
        for item in self.tree.scan_prefix([keys::ALARM]) {
            let (key, value) = item?;
            let (Some(id), Some(time_ms)) = (keys::object_id(&key[1..]), decode_time(&value))
            else {
                continue;
            };
            let namespace = self
                .tree
                .get(keys::object_key(&id))?
                .and_then(|v| keys::decode_object(&v))
                .map(|(ns, _)| ns)
                .unwrap_or_default();
            found.push(AlarmEntry {
                namespace,
                id,
                time_ms,
            });
        }
        Ok(found)
    }

    /// The objects of `namespace` in this shard.
    pub fn objects(&self, namespace: &str) -> Result<Vec<ObjectEntry>, Error> {
        let mut found = Vec::new();
        for item in self.tree.scan_prefix([keys::OBJECT]) {
            let (key, value) = item?;
            let (Some(id), Some((ns, name))) =
                (keys::object_id(&key[1..]), keys::decode_object(&value))
            else {
                continue;
            };
            if ns == namespace {
                found.push(ObjectEntry {
                    id,
                    namespace: ns,
                    name,
                });
            }
        }
        Ok(found)
    }

    pub fn object(&self, id: &ObjectId) -> Result<Option<ObjectEntry>, Error> {
        Ok(self
            .tree
            .get(keys::object_key(id))?
            .and_then(|v| keys::decode_object(&v))
            .map(|(namespace, name)| ObjectEntry {
                id: *id,
                namespace,
                name,
            }))
    }

    /// The whole tree as one buffer: each key and value prefixed by its length (u32 BE).
    pub fn export(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        for item in self.tree.iter() {
            let (key, value) = item?;
            for part in [key.as_ref(), value.as_ref()] {
                let len = u32::try_from(part.len()).map_err(|_| Error::Corrupt {
                    offset: out.len() as u64,
                    reason: "an entry is larger than 4 GiB".into(),
                })?;
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(part);
            }
        }
        Ok(out)
    }

    /// Replaces the tree's contents with an [`export`](Self::export)ed buffer. A malformed
    /// buffer is refused before anything changes.
    pub fn import(&self, bytes: &[u8]) -> Result<(), Error> {
        let mut entries = Vec::new();
        let mut at = 0usize;
        let corrupt = |at: usize, reason: &str| Error::Corrupt {
            offset: at as u64,
            reason: reason.to_owned(),
        };
        let take = |at: &mut usize| -> Result<Vec<u8>, Error> {
            let head = bytes
                .get(*at..*at + 4)
                .ok_or_else(|| corrupt(*at, "truncated length"))?;
            let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
            if len > SNAPSHOT_ITEM_BYTES_MAX {
                return Err(corrupt(*at, "an entry is too large"));
            }
            let part = bytes
                .get(*at + 4..*at + 4 + len)
                .ok_or_else(|| corrupt(*at, "truncated entry"))?;
            *at += 4 + len;
            Ok(part.to_vec())
        };
        while at < bytes.len() {
            let key = take(&mut at)?;
            let value = take(&mut at)?;
            entries.push((key, value));
        }
        self.tree.clear()?;
        let mut writes = sled::Batch::default();
        for (key, value) in entries {
            writes.insert(key, value);
        }
        self.tree.apply_batch(writes)?;
        Ok(())
    }
}

/// A recorded call result: (when it was recorded, the result).
fn decode_reply(value: &[u8]) -> Option<(u64, &str)> {
    let index = u64::from_be_bytes(value.get(..8)?.try_into().ok()?);
    Some((index, std::str::from_utf8(value.get(8..)?).ok()?))
}

fn decode_time(value: &[u8]) -> Option<i64> {
    <[u8; 8]>::try_from(value).ok().map(i64::from_be_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_proto::storage::{Mutation, Put};

    fn tree() -> (tempfile::TempDir, ShardTree) {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = sled::Config::new().path(dir.path()).open().expect("sled");
        (dir, ShardTree::new(db.open_tree("t").expect("tree")))
    }

    #[test]
    fn a_snapshot_round_trips_and_a_malformed_one_changes_nothing() {
        let (_dir, source) = tree();
        let batch = Batch {
            namespace: "ns".into(),
            object_id: vec![9; 32],
            name: None,
            replies: Vec::new(),
            mutations: vec![Mutation {
                kind: Some(mutation::Kind::Put(Put {
                    key: b"k".to_vec(),
                    value: b"v".to_vec(),
                })),
            }],
        };
        source.apply(7, &batch, Some(b"meta")).expect("apply");
        let snapshot = source.export().expect("export");
        let (_dir2, target) = tree();
        target.import(&snapshot).expect("import");
        assert_eq!(
            target.get(&[9; 32], b"k").expect("get"),
            Some(b"v".to_vec())
        );
        assert_eq!(target.last_applied().expect("index"), 7);
        assert_eq!(target.meta().expect("meta"), Some(b"meta".to_vec()));
        let err = target.import(&snapshot[..snapshot.len() - 1]);
        assert!(err.is_err(), "a truncated snapshot is refused");
        assert_eq!(
            target.get(&[9; 32], b"k").expect("get"),
            Some(b"v".to_vec())
        );
    }

    fn put_with_reply(n: u8, at_ms: i64) -> Batch {
        Batch {
            namespace: "ns".into(),
            object_id: vec![5; 32],
            name: None,
            mutations: vec![Mutation {
                kind: Some(mutation::Kind::Put(Put {
                    key: b"count".to_vec(),
                    value: vec![n],
                })),
            }],
            replies: vec![kiln_proto::storage::Reply {
                request_id: vec![n; keys::REQUEST_ID_BYTES],
                result: format!("result {n}"),
                recorded_at_ms: at_ms,
            }],
        }
    }

    #[test]
    fn call_results_are_recorded_with_their_writes_and_expire_behind_newer_ones() {
        let (_dir, tree) = tree();
        let id = [5; 32];
        let recorded = |n: u8| tree.reply(&id, &[n; keys::REQUEST_ID_BYTES]).expect("read");
        let start = 1_700_000_000_000i64;
        for n in 1..=3u8 {
            let at = start + i64::from(n) * 1000;
            tree.apply(u64::from(n), &put_with_reply(n, at), None)
                .expect("apply");
        }
        assert_eq!(recorded(2), Some("result 2".to_owned()));
        assert_eq!(recorded(9), None, "no record of a call never made");
        // A record a retention period newer than the first two drops them, not the third.
        let later = start + 2000 + REPLY_RETENTION_MS as i64 + 1;
        tree.apply(4, &put_with_reply(4, later), None)
            .expect("apply");
        assert_eq!(
            (recorded(1), recorded(2), recorded(3), recorded(4)),
            (
                None,
                None,
                Some("result 3".to_owned()),
                Some("result 4".to_owned())
            )
        );
        // An object that is deleted forgets its records too.
        let delete_all = Batch {
            namespace: "ns".into(),
            object_id: id.to_vec(),
            name: None,
            mutations: vec![Mutation {
                kind: Some(mutation::Kind::DeleteAll(kiln_proto::storage::DeleteAll {})),
            }],
            replies: Vec::new(),
        };
        tree.apply(5, &delete_all, None).expect("apply");
        assert_eq!((recorded(3), recorded(4)), (None, None));
        assert_eq!(
            tree.tree.scan_prefix(keys::reply_time_prefix(&id)).count(),
            0
        );
    }
}
