//! Live tails (`kiln tail <script>`): each script's trace items, as JSON, to whoever watches.
//!
//! Guarantees: a slow watcher loses items (it is told how many) rather than holding up the
//! worker; a script nobody watches costs one map lookup per invocation.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::broadcast;

/// Items buffered per watched script before a slow watcher starts losing them.
pub const TAIL_BUFFER_ITEMS: usize = 1024;
/// Scripts that can be watched at once.
pub const TAILED_SCRIPTS_MAX: usize = 1024;

#[derive(Default)]
pub struct TailHub {
    scripts: Mutex<HashMap<String, broadcast::Sender<Arc<str>>>>,
}

impl TailHub {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, broadcast::Sender<Arc<str>>>> {
        self.scripts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts watching `script`; `None` when too many scripts are watched already.
    pub fn subscribe(&self, script: &str) -> Option<broadcast::Receiver<Arc<str>>> {
        let mut scripts = self.lock();
        scripts.retain(|_, sender| sender.receiver_count() > 0);
        if let Some(sender) = scripts.get(script) {
            return Some(sender.subscribe());
        }
        if scripts.len() >= TAILED_SCRIPTS_MAX {
            return None;
        }
        let (sender, receiver) = broadcast::channel(TAIL_BUFFER_ITEMS);
        scripts.insert(script.to_owned(), sender);
        Some(receiver)
    }

    /// Someone watches `script`.
    pub fn watched(&self, script: &str) -> bool {
        let scripts = self.lock();
        if scripts.is_empty() {
            return false;
        }
        scripts
            .get(script)
            .is_some_and(|sender| sender.receiver_count() > 0)
    }

    pub fn publish(&self, script: &str, item: Arc<str>) {
        let scripts = self.lock();
        if let Some(sender) = scripts.get(script) {
            let _ = sender.send(item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watchers_get_what_is_published_for_their_script_only() {
        let hub = TailHub::default();
        assert!(!hub.watched("a"));
        let mut a = hub.subscribe("a").expect("room");
        assert!(hub.watched("a") && !hub.watched("b"));
        hub.publish("b", Arc::from("not for a"));
        hub.publish("a", Arc::from("{\"n\":1}"));
        assert_eq!(a.try_recv().ok().as_deref(), Some("{\"n\":1}"));
        drop(a);
        assert!(!hub.watched("a"), "a watcher that left is not counted");
    }
}
