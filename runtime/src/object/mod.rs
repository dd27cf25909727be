//! Durable Objects in the runtime: namespaces and ids, routing events to the one live instance
//! of an object, and the storage seam ([`ObjectStore`]) that `node` implements.
//!
//! Placement on one node: every object runs on the JS thread `router::thread_of(id)` picks, in
//! that thread's isolate of the worker that defines its class, so exactly one instance of an
//! object is live at a time. The actor itself (mailbox, gates, storage cache, eviction) is
//! JavaScript in `web/durable_object/`; this module is what it reaches Rust through.

pub mod id;
pub mod ops;
pub mod placement;
pub mod store;

pub use placement::{ObjectPlacement, PlacedFuture};
pub use store::{ObjectStore, StoreError};

/// The length of a JS RPC call's request id: a caller that retries a call whose outcome it
/// does not know sends the same id, and the owner answers from its record of the call's result
/// (`Batch::replies`) instead of running it again.
pub const REQUEST_ID_BYTES: usize = 16;

/// A request id for one call (random; the same on each of its retries).
pub fn new_request_id() -> [u8; REQUEST_ID_BYTES] {
    let mut id = [0u8; REQUEST_ID_BYTES];
    getrandom::fill(&mut id).unwrap_or_else(|_| {
        // No OS randomness: the time and a counter still make ids this process never repeats.
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        id[..8].copy_from_slice(&nanos.to_be_bytes());
        id[8..].copy_from_slice(&COUNTER.fetch_add(1, Ordering::Relaxed).to_be_bytes());
    });
    id
}

/// The class of the objects behind D1 bindings: Kiln's own (in the prelude), never a worker's.
pub const D1_CLASS: &str = "__kiln_d1";

/// The name of the one object of a D1 database's namespace.
pub const D1_OBJECT_NAME: &str = "database";

/// The storage namespace of the D1 database with id `id`: one object holds it.
pub fn d1_namespace(id: &str) -> String {
    format!("d1:{id}")
}

/// The database id of a D1 namespace made by [`d1_namespace`].
pub fn d1_id(namespace: &str) -> Option<&str> {
    namespace.strip_prefix("d1:")
}

/// The class of the objects behind `workflows` bindings starts with this, followed by the
/// worker's WorkflowEntrypoint class: Kiln's workflow engine (in the prelude) runs one instance
/// per object and calls that class's `run()`.
pub const WORKFLOW_CLASS_PREFIX: &str = "__kiln_workflow:";

/// The object class of the workflow whose WorkflowEntrypoint class is `class_name`.
pub fn workflow_class(class_name: &str) -> String {
    format!("{WORKFLOW_CLASS_PREFIX}{class_name}")
}

/// The storage namespace of the workflow named `name`: one object per instance, named by the
/// instance id.
pub fn workflow_namespace(name: &str) -> String {
    format!("workflow:{name}")
}

/// A Durable Object namespace bound into a worker's `env`.
#[derive(Debug, Clone)]
pub struct DurableObjectBinding {
    /// The name in `env`.
    pub binding: String,
    /// The exported class that implements the objects.
    pub class_name: String,
    /// The durable name the namespace's data and key are stored under.
    pub namespace: String,
    /// The namespace's secret key: ids are derived from it and checked against it.
    pub key: [u8; 32],
    /// The class has SQL storage (created by a `new_sqlite_classes` migration).
    pub sql: bool,
    /// The worker whose class it is, when not this one (wrangler's `script_name`). An empty
    /// `binding` is a worker's hidden binding of its own class, which only others bind.
    pub script: Option<String>,
}

/// Which object an event is for.
#[derive(Debug, Clone)]
pub struct ObjectTarget {
    /// Index into the worker's `durable_objects`.
    pub binding: usize,
    pub id: [u8; 32],
    /// The name the id was made from (`idFromName`), when known.
    pub name: Option<String>,
}

pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(DIGITS[usize::from(byte >> 4)] as char);
        text.push(DIGITS[usize::from(byte & 15)] as char);
    }
    text
}

/// Parses 64 lowercase or uppercase hex digits.
pub fn from_hex(text: &str) -> Option<[u8; 32]> {
    hex_bytes(text)
}

/// `N` bytes from exactly `2 * N` hex digits (an object id, a request id).
pub fn hex_bytes<const N: usize>(text: &str) -> Option<[u8; N]> {
    let bytes = text.as_bytes();
    if bytes.len() != 2 * N {
        return None;
    }
    let mut id = [0u8; N];
    for (i, out) in id.iter_mut().enumerate() {
        let high = (bytes[i * 2] as char).to_digit(16)?;
        let low = (bytes[i * 2 + 1] as char).to_digit(16)?;
        *out = (high * 16 + low) as u8;
    }
    Some(id)
}
