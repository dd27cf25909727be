//! A script uploaded to a dispatch namespace, as it is stored (JSON in the node's storage), and
//! the worker built from it.
//!
//! Guarantees: a record is checked when it is uploaded ([`ScriptRecord::from_upload`]) and
//! again when it is built; bindings Kiln cannot honour are refused with a message, never
//! silently dropped.

use std::collections::BTreeMap;

use base64::Engine as _;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::kv::KvBinding;
use crate::object::DurableObjectBinding;
use crate::service::ServiceBinding;
use crate::worker::{ModuleKind, ModuleSource, WorkerLimits, WorkerScript};

/// One module of an upload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredModule {
    pub name: String,
    /// The part's content type (`application/javascript+module`, `text/plain`, ...).
    pub content_type: String,
    /// Base64 of the content.
    pub content: String,
}

/// A stored script.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScriptRecord {
    /// The upload's `metadata` part.
    pub metadata: serde_json::Value,
    pub modules: Vec<StoredModule>,
    /// RFC 3339 times, as Cloudflare's API reports them.
    pub created_on: String,
    pub modified_on: String,
    /// Changes on every upload, so cached builds of an older upload are not used.
    pub etag: String,
    /// The Durable Object classes the script's migrations created, by class name (scripts
    /// outside dispatch namespaces only): what each upload's `metadata.migrations` did to the
    /// classes of the one before it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub classes: BTreeMap<String, StoredClass>,
    /// The tag of the last migration applied (Cloudflare's `migration_tag`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration_tag: Option<String>,
}

/// A Durable Object class of an uploaded script.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredClass {
    /// The storage namespace its objects live in (kept through renames).
    pub namespace: String,
    /// Created by `new_sqlite_classes`.
    pub sql: bool,
}

/// Why an upload or a stored script cannot become a worker (Cloudflare's API error codes).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct RecordError {
    pub code: u32,
    pub message: String,
}

fn invalid(message: impl Into<String>) -> RecordError {
    RecordError {
        code: 10021,
        message: message.into(),
    }
}

/// The kind of an uploaded part. `body_part` marks the script of a service-worker upload
/// (`metadata.body_part`): plain JavaScript, run as a classic script (see
/// `script_format::ScriptFormat`).
fn module_kind(content_type: &str, name: &str, body_part: bool) -> Result<ModuleKind, RecordError> {
    let base = content_type.split(';').next().unwrap_or_default().trim();
    Ok(match base {
        "application/javascript+module" | "text/javascript+module" => ModuleKind::EsModule,
        "application/javascript" | "text/javascript" if name.ends_with(".mjs") || body_part => {
            ModuleKind::EsModule
        }
        "application/javascript" | "text/javascript" => ModuleKind::CommonJs,
        "text/plain" => ModuleKind::Text,
        "application/octet-stream" => ModuleKind::Data,
        "application/json" => ModuleKind::Json,
        "application/wasm" => ModuleKind::Wasm,
        other => {
            return Err(invalid(format!(
                "module {name:?}: unsupported content type {other:?}"
            )))
        }
    })
}

impl ScriptRecord {
    /// Checks an upload: its metadata and modules must make a worker.
    pub fn check(&self, script_name: &str) -> Result<(), RecordError> {
        self.script(script_name, WorkerLimits::default())
            .map(|_| ())
    }

    /// The worker script of this upload, named `name`, with `limits`.
    pub fn script(&self, name: &str, limits: WorkerLimits) -> Result<WorkerScript, RecordError> {
        let metadata = self
            .metadata
            .as_object()
            .ok_or_else(|| invalid("metadata must be a JSON object"))?;
        let body_part = metadata.get("body_part").and_then(|v| v.as_str());
        let main_module = metadata
            .get("main_module")
            .or_else(|| metadata.get("body_part"))
            .and_then(|v| v.as_str())
            .ok_or_else(|| invalid("metadata.main_module is required"))?
            .to_owned();
        let compatibility_date = metadata
            .get("compatibility_date")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned();
        let compatibility_flags = metadata
            .get("compatibility_flags")
            .and_then(|v| v.as_array())
            .map(|flags| {
                flags
                    .iter()
                    .filter_map(|f| f.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let mut modules = Vec::with_capacity(self.modules.len());
        for module in &self.modules {
            let content = base64::engine::general_purpose::STANDARD
                .decode(&module.content)
                .map_err(|_| invalid(format!("module {:?} is corrupt", module.name)))?;
            modules.push(ModuleSource {
                name: module.name.clone(),
                kind: module_kind(
                    &module.content_type,
                    &module.name,
                    body_part == Some(module.name.as_str()),
                )?,
                content: Bytes::from(content),
            });
        }
        if !modules.iter().any(|m| m.name == main_module) {
            return Err(invalid(format!(
                "main_module {main_module:?} is not among the uploaded parts"
            )));
        }
        let mut env = serde_json::Map::new();
        let mut kv_namespaces = Vec::new();
        let mut services = Vec::new();
        let mut durable_objects = Vec::new();
        let mut r2_buckets = Vec::new();
        let mut queues = Vec::new();
        let mut hyperdrive = Vec::new();
        let mut worker_loaders = Vec::new();
        let mut simple_bindings = Vec::new();
        let bindings = metadata
            .get("bindings")
            .and_then(|v| v.as_array())
            .cloned()
            .unwrap_or_default();
        for binding in bindings {
            let name = binding
                .get("name")
                .and_then(|v| v.as_str())
                .ok_or_else(|| invalid("every binding needs a name"))?
                .to_owned();
            let kind = binding
                .get("type")
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            let field = |key: &str| {
                binding
                    .get(key)
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        invalid(format!("binding {name:?} of type {kind:?} needs {key:?}"))
                    })
            };
            match kind {
                "plain_text" | "secret_text" => {
                    let text = field("text")?;
                    env.insert(name, serde_json::Value::String(text));
                }
                "json" => {
                    let value = binding.get("json").cloned().unwrap_or(serde_json::Value::Null);
                    env.insert(name, value);
                }
                "kv_namespace" => {
                    let id = field("namespace_id")?;
                    kv_namespaces.push(KvBinding { binding: name, id });
                }
                "service" => {
                    let service = field("service")?;
                    services.push(ServiceBinding {
                    binding: name,
                    service,
                    entrypoint: binding
                        .get("entrypoint")
                        .and_then(|v| v.as_str())
                        .map(str::to_owned),
                    props: None,
                    });
                }
                "r2_bucket" => {
                    let bucket = field("bucket_name")?;
                    r2_buckets.push(crate::r2::R2Binding {
                        binding: name,
                        bucket,
                    });
                }
                "queue" => {
                    let queue = field("queue_name")?;
                    let delivery_delay_s = binding
                        .get("delivery_delay")
                        .and_then(|v| v.as_u64())
                        .unwrap_or(0)
                        .min(u64::from(u32::MAX)) as u32;
                    queues.push(crate::queue::QueueBinding {
                        binding: name,
                        queue,
                        delivery_delay_s,
                    });
                }
                "hyperdrive" => {
                    let connection = field("local_connection_string")
                        .or_else(|_| field("localConnectionString"))?;
                    hyperdrive.push((name, connection));
                }
                "worker_loader" => worker_loaders.push(name),
                // Described by their upload entry alone (the same shape as the config's).
                "version_metadata" | "analytics_engine" | "ratelimit" | "send_email" | "ai"
                | "browser" | "vectorize" => simple_bindings.push(binding.clone()),
                "workflow" => {
                    let workflow = field("workflow_name")?;
                    let class = field("class_name")?;
                    durable_objects.push(DurableObjectBinding {
                        binding: name,
                        class_name: crate::object::workflow_class(&class),
                        namespace: crate::object::workflow_namespace(&workflow),
                        key: [0; 32],
                        sql: true,
                        script: None,
                    });
                }
                "d1" => {
                    let id = field("id").or_else(|_| field("database_id"))?;
                    durable_objects.push(DurableObjectBinding {
                        binding: name,
                        class_name: crate::object::D1_CLASS.to_owned(),
                        namespace: crate::object::d1_namespace(&id),
                        key: [0; 32],
                        sql: true,
                        script: None,
                    });
                }
                "durable_object_namespace" => {
                    let class_name = field("class_name")?;
                    if let Some(other) = binding
                        .get("script_name")
                        .and_then(|v| v.as_str())
                        .filter(|script| *script != name)
                    {
                        return Err(invalid(format!(
                            "binding {name:?}: script_name {other:?} names another script; Kiln binds an uploaded script's own classes only"
                        )));
                    }
                    let class = self.classes.get(&class_name).ok_or_else(|| {
                        invalid(format!(
                            "binding {name:?}: class {class_name:?} was not created by any migration (scripts in dispatch namespaces have no Durable Objects in Kiln)"
                        ))
                    })?;
                    durable_objects.push(DurableObjectBinding {
                        binding: name,
                        class_name,
                        namespace: class.namespace.clone(),
                        // The node fills in the namespace's key before it runs the script.
                        key: [0; 32],
                        sql: class.sql,
                        script: None,
                    });
                }
                other => {
                    return Err(invalid(format!(
                        "binding {name:?}: type {other:?} is not supported for uploaded scripts by Kiln"
                    )))
                }
            }
        }
        Ok(WorkerScript {
            name: name.to_owned(),
            main_module,
            modules,
            env,
            limits,
            compatibility_date,
            compatibility_flags,
            durable_objects,
            kv_namespaces,
            services,
            r2_buckets,
            queues,
            hyperdrive,
            worker_loaders,
            simple_bindings,
            tail_consumers: crate::trace::consumers_from_json(metadata.get("tail_consumers"))
                .map_err(invalid)?,
            ..WorkerScript::default()
        })
    }
}

/// Applies an upload's `metadata.migrations` (Cloudflare's shape: `old_tag`, `new_tag`, and
/// either the step's fields at the top level or a `steps` array) to the classes of the script's
/// previous version. A script's classes live in namespaces named after it, so two scripts'
/// classes of one name never share objects.
pub fn apply_migrations(
    script_name: &str,
    previous: Option<&ScriptRecord>,
    metadata: &serde_json::Value,
) -> Result<(BTreeMap<String, StoredClass>, Option<String>), RecordError> {
    let mut classes = previous.map(|p| p.classes.clone()).unwrap_or_default();
    let old_tag = previous.and_then(|p| p.migration_tag.clone());
    let Some(migrations) = metadata.get("migrations").filter(|m| !m.is_null()) else {
        return Ok((classes, old_tag));
    };
    let precondition = migrations.get("old_tag").and_then(|v| v.as_str());
    if precondition.is_some() && precondition != old_tag.as_deref() {
        return Err(RecordError {
            code: 10079,
            message: format!(
                "migration precondition failed: old_tag {:?} is not the script's current tag {:?}",
                precondition.unwrap_or_default(),
                old_tag.unwrap_or_default()
            ),
        });
    }
    let steps: Vec<serde_json::Value> = match migrations.get("steps").and_then(|v| v.as_array()) {
        Some(steps) => steps.clone(),
        None => vec![migrations.clone()],
    };
    let names = |step: &serde_json::Value, key: &str| -> Vec<String> {
        step.get(key)
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    for step in &steps {
        let created = names(step, "new_classes")
            .into_iter()
            .map(|c| (c, false))
            .chain(
                names(step, "new_sqlite_classes")
                    .into_iter()
                    .map(|c| (c, true)),
            );
        for (class, sql) in created {
            if classes.contains_key(&class) {
                return Err(invalid(format!(
                    "migrations: class {class:?} already exists"
                )));
            }
            let namespace = format!("{script_name}/{class}");
            classes.insert(class, StoredClass { namespace, sql });
        }
        let renames = step
            .get("renamed_classes")
            .and_then(|v| v.as_array())
            .cloned()
            .unwrap_or_default();
        for rename in renames {
            let from = rename
                .get("from")
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            let to = rename
                .get("to")
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            let class = classes.remove(from).ok_or_else(|| {
                invalid(format!(
                    "migrations: cannot rename {from:?}: no migration created it"
                ))
            })?;
            classes.insert(to.to_owned(), class);
        }
        for class in names(step, "deleted_classes") {
            if classes.remove(&class).is_none() {
                return Err(invalid(format!(
                    "migrations: cannot delete {class:?}: no migration created it"
                )));
            }
        }
        if step.get("transferred_classes").is_some() {
            return Err(invalid(
                "migrations: transferred_classes is not supported by Kiln",
            ));
        }
    }
    let tag = migrations
        .get("new_tag")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .or(old_tag);
    Ok((classes, tag))
}
