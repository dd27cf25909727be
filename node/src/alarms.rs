//! Firing Durable Object alarms: the node's one alarm loop.
//!
//! Guarantees: an alarm fires once it is due (alarms are stored with the object's data, so they
//! survive restarts and fire once the node is back); a handler that throws is retried with
//! exponential backoff from [`RETRY_DELAY_MS_FIRST`], at most [`RETRIES_MAX`] times; one object's
//! alarm never runs twice at once. Deleting the alarm after a successful run is the object's own
//! write, committed before the handler's result counts.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use std::future::Future;
use std::pin::Pin;

use kiln_runtime::{Runtime, Worker};
use kiln_storage::{AlarmEntry, Store};
use tokio::sync::mpsc;

/// Where the loop learns which alarms are due: the node's store, or in a cluster the shards
/// this node owns.
pub trait AlarmSource: Send + Sync + 'static {
    /// Alarms due at `now_ms` that this node should fire, earliest first, at most `max`.
    fn due(&self, now_ms: i64, max: usize) -> Vec<AlarmEntry>;
    /// When the next alarm this node fires is due.
    fn next_ms(&self) -> Option<i64>;
    /// Resolves when an alarm is set or deleted.
    fn changed(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

impl AlarmSource for Store {
    fn due(&self, now_ms: i64, max: usize) -> Vec<AlarmEntry> {
        self.due_alarms(now_ms, max)
    }

    fn next_ms(&self) -> Option<i64> {
        self.next_alarm_ms()
    }

    fn changed(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(self.alarms_changed())
    }
}

/// The first retry waits this long; each next one twice as long (Cloudflare: 2 s).
pub const RETRY_DELAY_MS_FIRST: i64 = 2_000;
/// Retries after the first failure (Cloudflare: 6).
pub const RETRIES_MAX: u32 = 6;
/// Alarms looked at per wake-up.
pub const DUE_ALARMS_MAX: usize = 1024;
/// The loop looks again at least this often, so a clock jump cannot strand an alarm.
const POLL_MS_MAX: i64 = 1_000;

struct Attempt {
    time_ms: i64,
    failures: u32,
    next_try_ms: i64,
    running: bool,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub async fn run(store: Arc<dyn AlarmSource>, runtime: Runtime, workers: Vec<Arc<Worker>>) {
    let mut attempts: HashMap<[u8; 32], Attempt> = HashMap::new();
    let (done_sender, mut done) = mpsc::channel::<([u8; 32], bool)>(DUE_ALARMS_MAX);
    loop {
        let changed = store.changed();
        tokio::pin!(changed);
        let now = now_ms();
        let due = store.due(now, DUE_ALARMS_MAX);
        // Forget attempts whose alarm was deleted or moved.
        attempts.retain(|id, attempt| {
            attempt.running
                || due
                    .iter()
                    .any(|a| &a.id == id && a.time_ms == attempt.time_ms)
        });
        let mut wake_ms = store.next_ms().unwrap_or(now + POLL_MS_MAX);
        for alarm in due {
            let attempt = attempts.entry(alarm.id).or_insert(Attempt {
                time_ms: alarm.time_ms,
                failures: 0,
                next_try_ms: alarm.time_ms,
                running: false,
            });
            if attempt.running || attempt.failures > RETRIES_MAX {
                continue;
            }
            if attempt.next_try_ms > now {
                wake_ms = wake_ms.min(attempt.next_try_ms);
                continue;
            }
            let retry_count = attempt.failures;
            // The worker that defines the object's class: one the node was started with, or
            // an uploaded one (registered with the runtime).
            let defines = |w: &Arc<Worker>| {
                w.script()
                    .durable_objects
                    .iter()
                    .any(|b| b.namespace == alarm.namespace && b.script.is_none())
            };
            let found = workers.iter().find(|w| defines(w)).cloned();
            let Some(worker) = found.or_else(|| runtime.workers().into_iter().find(defines)) else {
                attempt.failures = RETRIES_MAX + 1;
                continue;
            };
            attempt.running = true;
            let (runtime, sender) = (runtime.clone(), done_sender.clone());
            tokio::spawn(async move {
                let result = runtime
                    .object_alarm(&worker, &alarm.namespace, alarm.id, retry_count)
                    .await;
                if let Err(err) = &result {
                    tracing::warn!(namespace = alarm.namespace, %err, retry_count, "alarm handler failed");
                }
                let _ = sender.send((alarm.id, result.is_ok())).await;
            });
        }
        let sleep_ms = (wake_ms - now).clamp(1, POLL_MS_MAX);
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(sleep_ms as u64)) => {}
            _ = &mut changed => {}
            finished = done.recv() => {
                let Some((id, succeeded)) = finished else { return };
                if succeeded {
                    attempts.remove(&id);
                } else if let Some(attempt) = attempts.get_mut(&id) {
                    attempt.running = false;
                    attempt.failures += 1;
                    let delay = RETRY_DELAY_MS_FIRST << (attempt.failures - 1).min(20);
                    attempt.next_try_ms = now_ms() + delay;
                    if attempt.failures > RETRIES_MAX {
                        tracing::error!("alarm failed {RETRIES_MAX} retries; it stays set and fires again after a restart or when set anew");
                    }
                }
            }
        }
    }
}
