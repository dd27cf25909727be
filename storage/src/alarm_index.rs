//! The in-memory index of scheduled alarms: every object's alarm time, in time order, so the
//! alarm loop finds what is due without scanning storage. Rebuilt from the shard trees at
//! start; kept in step by whoever applies batches.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use tokio::sync::Notify;

use crate::keys::ObjectId;
use crate::shard_tree::AlarmEntry;

#[derive(Default)]
struct Alarms {
    by_time: BTreeSet<(i64, ObjectId)>,
    of_object: HashMap<ObjectId, (i64, String)>,
}

/// Alarms by time, shared by the appliers and the alarm loop.
#[derive(Default)]
pub struct AlarmIndex {
    alarms: Mutex<Alarms>,
    changed: Notify,
}

impl AlarmIndex {
    fn lock(&self) -> std::sync::MutexGuard<'_, Alarms> {
        self.alarms.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets (or, with `None`, removes) an object's alarm, and wakes the alarm loop.
    pub fn set(&self, id: ObjectId, namespace: &str, time_ms: Option<i64>) {
        {
            let mut alarms = self.lock();
            if let Some((old, _)) = alarms.of_object.remove(&id) {
                alarms.by_time.remove(&(old, id));
            }
            if let Some(time) = time_ms {
                alarms.by_time.insert((time, id));
                alarms.of_object.insert(id, (time, namespace.to_owned()));
            }
            assert_eq!(alarms.by_time.len(), alarms.of_object.len());
        }
        self.changed.notify_waiters();
    }

    /// Removes every alarm of the objects `belongs` selects (a shard replaced by a snapshot).
    pub fn remove_where(&self, belongs: impl Fn(&ObjectId) -> bool) {
        let mut alarms = self.lock();
        let gone: Vec<ObjectId> = alarms
            .of_object
            .keys()
            .filter(|id| belongs(id))
            .copied()
            .collect();
        for id in gone {
            if let Some((time, _)) = alarms.of_object.remove(&id) {
                alarms.by_time.remove(&(time, id));
            }
        }
    }

    /// The earliest scheduled alarm's time.
    pub fn next_ms(&self) -> Option<i64> {
        self.lock().by_time.first().map(|(time, _)| *time)
    }

    /// The earliest alarm time among the first `scan_max` alarms whose object `wanted` accepts.
    pub fn next_ms_where(
        &self,
        scan_max: usize,
        wanted: impl Fn(&ObjectId) -> bool,
    ) -> Option<i64> {
        self.lock()
            .by_time
            .iter()
            .take(scan_max)
            .find(|(_, id)| wanted(id))
            .map(|(time, _)| *time)
    }

    /// Alarms due at `now_ms`, earliest first, at most `max`.
    pub fn due(&self, now_ms: i64, max: usize) -> Vec<AlarmEntry> {
        let alarms = self.lock();
        alarms
            .by_time
            .iter()
            .take_while(|(time, _)| *time <= now_ms)
            .take(max)
            .filter_map(|(time, id)| {
                let (_, namespace) = alarms.of_object.get(id)?;
                Some(AlarmEntry {
                    namespace: namespace.clone(),
                    id: *id,
                    time_ms: *time,
                })
            })
            .collect()
    }

    /// Resolves at the next change.
    pub async fn changed(&self) {
        self.changed.notified().await
    }
}
