//! Workers for Platforms: dispatch namespaces of uploaded scripts, and the `env.DISPATCHER`
//! binding that runs them on demand with per-call limits and an outbound worker.
//!
//! Scripts are stored through the storage seam (one storage object per namespace, one key per
//! script), so they are durable and, in a cluster, replicated. A script is built into a worker
//! on first use and cached with the limits and outbound parameters it was built for.

pub mod ops;
pub mod record;

use sha2::{Digest, Sha256};

use crate::object::store::Batch;
use crate::object::ObjectStore;
use record::ScriptRecord;

/// A `dispatch_namespaces` binding.
#[derive(Debug, Clone)]
pub struct DispatchBinding {
    /// The name in `env`.
    pub binding: String,
    /// The dispatch namespace.
    pub namespace: String,
    /// The outbound worker that receives every `fetch()` of the namespace's scripts.
    pub outbound: Option<DispatchOutbound>,
}

#[derive(Debug, Clone)]
pub struct DispatchOutbound {
    /// The outbound worker (a worker this node runs).
    pub service: String,
    /// Names of the values `get(name, args, {outbound})` passes into the outbound worker's env.
    pub parameters: Vec<String>,
}

/// The space of scripts uploaded outside any dispatch namespace (`PUT
/// .../workers/scripts/{name}`): they are kept as a namespace's are, under a name no dispatch
/// namespace can have (those are letters, digits, '-' and '_').
pub const ACCOUNT_SCRIPTS: &str = "@account";

/// The storage object holding namespace `namespace`'s scripts.
pub fn scripts_object(namespace: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"kiln dispatch namespace\0");
    hasher.update(namespace.as_bytes());
    hasher.finalize().into()
}

/// The storage object holding the list of namespaces.
pub fn namespaces_object() -> [u8; 32] {
    Sha256::digest(b"kiln dispatch namespaces").into()
}

/// The storage namespace scripts are registered under (as `kiln objects` would list them).
pub fn storage_namespace(namespace: &str) -> String {
    if namespace == ACCOUNT_SCRIPTS {
        return "workers".into();
    }
    format!("dispatch:{namespace}")
}

/// Reads a stored script.
pub fn read_script(
    store: &dyn ObjectStore,
    namespace: &str,
    name: &str,
) -> Result<Option<ScriptRecord>, String> {
    let stored = store
        .get(&scripts_object(namespace), name.as_bytes())
        .map_err(|err| err.to_string())?;
    match stored {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|err| format!("stored script {name:?} is corrupt: {err}")),
    }
}

/// The batch that stores (or, with `None`, deletes) a script.
pub fn script_batch(namespace: &str, name: &str, record: Option<&ScriptRecord>) -> Batch {
    use kiln_proto::storage::{mutation, Mutation, Put};
    let kind = match record {
        Some(record) => mutation::Kind::Put(Put {
            key: name.as_bytes().to_vec(),
            value: serde_json::to_vec(record).unwrap_or_default(),
        }),
        None => mutation::Kind::Delete(name.as_bytes().to_vec()),
    };
    Batch {
        namespace: storage_namespace(namespace),
        object_id: scripts_object(namespace).to_vec(),
        name: None,
        replies: Vec::new(),
        mutations: vec![Mutation { kind: Some(kind) }],
    }
}
