//! Scripts uploaded outside dispatch namespaces (`PUT .../workers/scripts/{name}`, `kiln
//! deploy`): the node serves each at `<name>.<any host>` (as Cloudflare serves a script at
//! `<name>.<subdomain>.workers.dev`) and other workers reach it by service binding.
//!
//! Uploads are stored through the storage seam, so in a cluster they are replicated with the
//! shard that holds them; every node builds what its replica holds. Guarantees: a node serves
//! the newest version its replica has applied, at most [`SYNC_INTERVAL`] after that (at once on
//! the node that took the upload); a deleted script stops being served within the same bound;
//! a name the node runs from its own configuration is never shadowed by an upload.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use kiln_runtime::dispatch::record::ScriptRecord;
use kiln_runtime::dispatch::{scripts_object, ACCOUNT_SCRIPTS};
use kiln_runtime::{ObjectStore, Runtime, Worker, WorkerLimits};

/// How often a node looks for uploads other nodes took.
pub const SYNC_INTERVAL: Duration = Duration::from_millis(500);
/// Uploaded scripts a node serves at most.
pub const DEPLOYMENTS_MAX: usize = 1000;

/// The key of a Durable Object namespace on this node (`kiln dev`: its store's; a cluster:
/// derived from the cluster key).
pub type NamespaceKeys = Box<dyn Fn(&str) -> Result<[u8; 32], String> + Send + Sync>;

pub struct Deployments {
    runtime: Runtime,
    store: Arc<dyn ObjectStore>,
    keys: NamespaceKeys,
    /// Names of the workers the node runs from its configuration.
    reserved: BTreeSet<String>,
    /// What is served, by script name: the upload's etag and its worker.
    live: RwLock<BTreeMap<String, (String, Arc<Worker>)>>,
}

/// Only the field a sync compares, so unchanged uploads are not decoded whole.
#[derive(serde::Deserialize)]
struct Etag {
    etag: String,
}

impl Deployments {
    pub fn new(
        runtime: Runtime,
        store: Arc<dyn ObjectStore>,
        keys: NamespaceKeys,
        reserved: impl IntoIterator<Item = String>,
    ) -> Arc<Deployments> {
        Arc::new(Deployments {
            runtime,
            store,
            keys,
            reserved: reserved.into_iter().collect(),
            live: RwLock::new(BTreeMap::new()),
        })
    }

    /// Whether `name` is one of the node's own workers, which an upload may not replace.
    pub fn is_reserved(&self, name: &str) -> bool {
        self.reserved.contains(name)
    }

    /// The worker an uploaded record becomes on this node: its classes get their namespace keys.
    pub fn build(&self, name: &str, record: &ScriptRecord) -> Result<Arc<Worker>, String> {
        let mut script = record
            .script(name, WorkerLimits::default())
            .map_err(|err| err.message)?;
        for binding in &mut script.durable_objects {
            binding.key = (self.keys)(&binding.namespace)?;
        }
        Worker::new(script).map_err(|err| err.to_string())
    }

    /// Serves `worker` as version `etag` of `name` from now on.
    pub fn install(&self, name: &str, etag: &str, worker: Arc<Worker>) {
        if self.is_reserved(name) {
            return;
        }
        self.runtime.register_as(name, &worker);
        self.live
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_owned(), (etag.to_owned(), worker));
    }

    /// Stops serving `name`.
    pub fn remove(&self, name: &str) {
        let removed = self
            .live
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
        if removed.is_some() {
            self.runtime.unregister(name);
        }
    }

    /// Brings what is served in line with what this node's replica holds.
    pub fn sync(&self) -> Result<(), String> {
        let entries = self
            .store
            .list(
                &scripts_object(ACCOUNT_SCRIPTS),
                None,
                None,
                false,
                Some(DEPLOYMENTS_MAX),
            )
            .map_err(|err| err.to_string())?;
        let mut stored = BTreeSet::new();
        for (key, value) in entries {
            let Ok(name) = String::from_utf8(key) else {
                continue;
            };
            let Ok(Etag { etag }) = serde_json::from_slice::<Etag>(&value) else {
                tracing::warn!(script = name, "a stored upload is corrupt; not served");
                continue;
            };
            stored.insert(name.clone());
            let current = self
                .live
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .get(&name)
                .map(|(etag, _)| etag.clone());
            if current.as_deref() == Some(etag.as_str()) || self.is_reserved(&name) {
                continue;
            }
            let built = serde_json::from_slice::<ScriptRecord>(&value)
                .map_err(|err| err.to_string())
                .and_then(|record| self.build(&name, &record));
            match built {
                Ok(worker) => {
                    tracing::info!(script = name, etag, "serving uploaded script");
                    self.install(&name, &etag, worker);
                }
                Err(err) => tracing::warn!(script = name, %err, "an uploaded script cannot run"),
            }
        }
        let gone: Vec<String> = self
            .live
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .filter(|name| !stored.contains(*name))
            .cloned()
            .collect();
        for name in gone {
            tracing::info!(script = name, "uploaded script deleted");
            self.remove(&name);
        }
        Ok(())
    }

    /// Syncs every [`SYNC_INTERVAL`], for ever.
    pub async fn run(self: Arc<Self>) {
        loop {
            if let Err(err) = self.sync() {
                tracing::debug!(%err, "reading uploaded scripts");
            }
            tokio::time::sleep(SYNC_INTERVAL).await;
        }
    }

    /// The uploaded script a request for `host` goes to: the host's first label names it
    /// (`chat.localhost:8787`, `chat.example.com`). Addresses and one-label hosts name none.
    pub fn for_host(&self, host: &str) -> Option<Arc<Worker>> {
        let host = host_name(host);
        if host.parse::<std::net::IpAddr>().is_ok() {
            return None;
        }
        let (label, rest) = host.split_once('.')?;
        if rest.is_empty() {
            return None;
        }
        self.live
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(label)
            .map(|(_, worker)| Arc::clone(worker))
    }
}

/// `host` without its port (`[::1]:80` -> `::1`).
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::host_name;

    #[test]
    fn host_names_lose_their_ports() {
        assert_eq!(host_name("chat.localhost:8787"), "chat.localhost");
        assert_eq!(host_name("chat.example.com"), "chat.example.com");
        assert_eq!(host_name("[::1]:80"), "::1");
        assert_eq!(host_name("127.0.0.1:80"), "127.0.0.1");
    }
}
