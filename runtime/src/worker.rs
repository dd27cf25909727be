//! A worker as the runtime knows it: its modules, its environment and its limits.
//!
//! A [`Worker`] is immutable once built; deploying new code builds a new one with a new id, so
//! isolates and cached bytecode of the old version are never mixed with the new.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;

use crate::limits;
use crate::object::DurableObjectBinding;
use crate::script_format::ScriptFormat;

/// How a module's bytes are imported, as wrangler's module `rules` name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleKind {
    /// An ES module (`ESModule`).
    EsModule,
    /// A string (`Text`).
    Text,
    /// An `ArrayBuffer` (`Data`).
    Data,
    /// A parsed JSON value.
    Json,
    /// A CommonJS module (`CommonJS`): `module.exports` is its default export, and it may
    /// `require()` other CommonJS, JSON, text and data modules and Node's built-ins.
    CommonJs,
    /// A WebAssembly module (`CompiledWasm`): QuickJS has no WebAssembly, so importing one throws.
    Wasm,
}

/// One module of a worker, named by its path relative to the worker's root, with `/` separators.
#[derive(Debug, Clone)]
pub struct ModuleSource {
    pub name: String,
    pub kind: ModuleKind,
    pub content: Bytes,
}

/// Per-invocation limits of a worker.
#[derive(Debug, Clone, Copy)]
pub struct WorkerLimits {
    pub cpu_ms: u64,
    pub memory_bytes: usize,
    pub subrequests: u32,
    /// A Durable Object with no events for this long is evicted (Cloudflare: 10 s).
    pub object_idle_evict_ms: u64,
}

impl Default for WorkerLimits {
    fn default() -> Self {
        Self {
            cpu_ms: limits::REQUEST_CPU_MS_DEFAULT,
            memory_bytes: limits::ISOLATE_MEMORY_BYTES_DEFAULT,
            subrequests: limits::SUBREQUESTS_DEFAULT,
            object_idle_evict_ms: limits::OBJECT_IDLE_EVICT_MS_DEFAULT,
        }
    }
}

/// Everything needed to run a worker. `Default` is a worker with no modules and no bindings,
/// for building one with `..WorkerScript::default()`.
#[derive(Debug, Clone, Default)]
pub struct WorkerScript {
    /// The worker's name, as logs and `console.log` lines show it.
    pub name: String,
    /// Name of the entry module; must be one of `modules`.
    pub main_module: String,
    pub modules: Vec<ModuleSource>,
    /// `env`: plain values (wrangler `vars`, JSON) and secrets (strings).
    pub env: serde_json::Map<String, serde_json::Value>,
    pub limits: WorkerLimits,
    pub compatibility_date: String,
    pub compatibility_flags: Vec<String>,
    /// Durable Object namespaces bound into `env`; their classes are this worker's exports.
    pub durable_objects: Vec<DurableObjectBinding>,
    /// KV namespaces bound into `env`.
    pub kv_namespaces: Vec<crate::kv::KvBinding>,
    /// R2 buckets bound into `env`.
    pub r2_buckets: Vec<crate::r2::R2Binding>,
    /// Queue producers bound into `env`.
    pub queues: Vec<crate::queue::QueueBinding>,
    /// The queues this worker consumes (the node's consumer loop reads these).
    pub queue_consumers: Vec<crate::queue::QueueConsumer>,
    /// Hyperdrive bindings: (name in `env`, the database's connection string).
    pub hyperdrive: Vec<(String, String)>,
    /// Bindings the prelude makes from a description alone (`version_metadata`,
    /// `analytics_engine_datasets`, `ratelimits`, `send_email`, and stand-ins for services Kiln
    /// lacks): a JSON array of `{ "type", "name", ... }`.
    pub simple_bindings: Vec<serde_json::Value>,
    /// Service bindings: other workers (or this one) reachable from `env`.
    pub services: Vec<crate::service::ServiceBinding>,
    /// `worker_loaders` bindings (their names in `env`).
    pub worker_loaders: Vec<String>,
    /// `dispatch_namespaces` bindings.
    pub dispatch_namespaces: Vec<crate::dispatch::DispatchBinding>,
    /// Where the worker's own `fetch()` calls go.
    pub outbound: Outbound,
    /// Static assets served before the worker (wrangler's `assets`).
    pub assets: Option<crate::assets::AssetsConfig>,
    /// Workers Sites: the `[site]` bucket behind `__STATIC_CONTENT`.
    pub site: Option<crate::site::SiteBucket>,
    /// Workers whose `tail()` handler gets a trace of each invocation (`tail_consumers`).
    pub tail_consumers: Vec<String>,
    /// The dispatch namespace the worker was uploaded to, if any (for traces and metrics).
    pub dispatch_namespace: Option<String>,
}

/// Where a worker's global `fetch()` goes (a Dynamic Worker's `globalOutbound`, a dispatch
/// namespace's outbound worker).
#[derive(Debug, Clone, Default)]
pub enum Outbound {
    /// The network.
    #[default]
    Network,
    /// Nowhere: `fetch()` throws (`globalOutbound: null`).
    Blocked,
    /// Another worker's `fetch` handler receives every request.
    Service(crate::service::ServiceBinding),
}

/// Why a [`WorkerScript`] cannot be run.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("main module {0:?} is not among the worker's modules")]
    MainMissing(String),
    #[error("script size ({0} bytes) exceeds the maximum allowed size of {max} bytes", max = limits::SCRIPT_BYTES_MAX)]
    TooLarge(usize),
    #[error("module {0:?} appears twice")]
    Duplicate(String),
}

static NEXT_WORKER_ID: AtomicU64 = AtomicU64::new(1);

/// A validated, immutable worker version.
#[derive(Debug)]
pub struct Worker {
    id: u64,
    script: WorkerScript,
    modules: HashMap<String, ModuleSource>,
    /// The bytecode cache key of each ES module, computed once rather than per isolate.
    module_keys: HashMap<String, crate::bytecode::Key>,
    format: ScriptFormat,
}

impl Worker {
    pub fn new(script: WorkerScript) -> Result<Arc<Worker>, ScriptError> {
        let size: usize = script.modules.iter().map(|m| m.content.len()).sum();
        if size > limits::SCRIPT_BYTES_MAX {
            return Err(ScriptError::TooLarge(size));
        }
        let mut modules = HashMap::with_capacity(script.modules.len());
        for module in &script.modules {
            if modules
                .insert(module.name.clone(), module.clone())
                .is_some()
            {
                return Err(ScriptError::Duplicate(module.name.clone()));
            }
        }
        if !modules.contains_key(&script.main_module) {
            return Err(ScriptError::MainMissing(script.main_module.clone()));
        }
        let format = match modules.get(&script.main_module) {
            Some(main) if main.kind == ModuleKind::EsModule => ScriptFormat::detect(&main.content),
            _ => ScriptFormat::Modules,
        };
        let module_keys = script
            .modules
            .iter()
            .filter(|m| m.kind == ModuleKind::EsModule)
            .map(|m| (m.name.clone(), crate::bytecode::key(&m.name, &m.content)))
            .collect();
        Ok(Arc::new(Worker {
            id: NEXT_WORKER_ID.fetch_add(1, Ordering::Relaxed),
            script,
            modules,
            module_keys,
            format,
        }))
    }

    /// Unique for each `Worker` built in this process.
    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn name(&self) -> &str {
        &self.script.name
    }

    pub fn script(&self) -> &WorkerScript {
        &self.script
    }

    pub fn module(&self, name: &str) -> Option<&ModuleSource> {
        self.modules.get(name)
    }

    /// Whether the main module is an ES module or a service-worker script.
    pub fn format(&self) -> ScriptFormat {
        self.format
    }

    /// The bytecode cache key of ES module `name`.
    pub fn module_key(&self, name: &str) -> Option<crate::bytecode::Key> {
        self.module_keys.get(name).copied()
    }
}
