//! Wrangler configuration (`wrangler.jsonc`, `wrangler.json`, `wrangler.toml`) as Cloudflare
//! users write it, and the worker it describes: modules found by wrangler's module rules,
//! `vars`, secrets from `.dev.vars`, and limits.
//!
//! Guarantees: a file that does not parse, or a key of the wrong type, is an error naming
//! `file:line:column`; an unknown key is a warning naming it, never an error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use kiln_runtime::{DurableObjectBinding, ModuleKind, ModuleSource, WorkerLimits, WorkerScript};
use serde::Deserialize;

/// Files `kiln dev` reads from a worker's directory at most.
pub const MODULE_FILES_MAX: usize = 10_000;
/// The longest workflow name Cloudflare accepts.
pub const WORKFLOW_NAME_LENGTH_MAX: usize = 64;
/// Wrangler's config file names, in the order wrangler prefers them.
pub const CONFIG_FILES: [&str; 3] = ["wrangler.jsonc", "wrangler.json", "wrangler.toml"];

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no wrangler.jsonc, wrangler.json or wrangler.toml in {0}")]
    NotFound(PathBuf),
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// A wrangler rule: which files import as which module type.
#[derive(Debug, Clone, Deserialize)]
pub struct Rule {
    #[serde(rename = "type")]
    pub kind: String,
    pub globs: Vec<String>,
    #[serde(default)]
    pub fallthrough: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Limits {
    pub cpu_ms: Option<u64>,
    pub subrequests: Option<u32>,
}

/// A `services` entry.
#[derive(Debug, Clone, Deserialize)]
pub struct ServiceConfig {
    pub binding: String,
    pub service: String,
    #[serde(default)]
    pub entrypoint: Option<String>,
    #[serde(default)]
    pub props: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A `dispatch_namespaces` entry.
#[derive(Debug, Clone, Deserialize)]
pub struct DispatchNamespaceConfig {
    pub binding: String,
    pub namespace: String,
    #[serde(default)]
    pub outbound: Option<DispatchOutboundConfig>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DispatchOutboundConfig {
    pub service: String,
    #[serde(default)]
    pub parameters: Vec<String>,
}

/// A `worker_loaders` entry.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkerLoaderConfig {
    pub binding: String,
}

/// A `d1_databases` entry.
#[derive(Debug, Clone, Deserialize)]
pub struct D1DatabaseConfig {
    pub binding: String,
    #[serde(default)]
    pub database_name: Option<String>,
    /// The database's id; locally any string names the data (default: the name, then the
    /// binding).
    #[serde(default)]
    pub database_id: Option<String>,
    #[serde(default)]
    pub preview_database_id: Option<String>,
    /// Where `kiln d1 migrations apply` finds the migration files (wrangler: `migrations`).
    #[serde(default)]
    pub migrations_dir: Option<String>,
    #[serde(default)]
    pub migrations_table: Option<String>,
}

impl D1DatabaseConfig {
    /// The id the database's data is kept under.
    pub fn id(&self) -> String {
        self.database_id
            .clone()
            .or_else(|| self.preview_database_id.clone())
            .or_else(|| self.database_name.clone())
            .unwrap_or_else(|| self.binding.clone())
    }
}

/// Workers Sites' `[site]`: the directory whose files `__STATIC_CONTENT` holds.
#[derive(Debug, Clone, Deserialize)]
pub struct SiteConfig {
    pub bucket: String,
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    /// wrangler 1's entry directory: accepted, unused (the entry is `main`).
    #[serde(default, rename = "entry-point")]
    #[allow(dead_code)]
    pub entry_point: Option<String>,
}

/// The module `import manifest from "__STATIC_CONTENT_MANIFEST"` reads (Workers Sites).
pub const SITE_MANIFEST_MODULE: &str = "__STATIC_CONTENT_MANIFEST";
/// Files of a `[site]` bucket Kiln serves at most.
pub const SITE_FILES_MAX: usize = 100_000;

/// The bucket's files (paths relative to it, with `/`), filtered by `include` (if any) and
/// `exclude` globs as wrangler does; dot files and `node_modules` are left out.
fn site_bucket(root: &Path, site: &SiteConfig) -> Result<kiln_runtime::site::SiteBucket, String> {
    let directory = root.join(&site.bucket);
    if !directory.is_dir() {
        return Err(format!(
            "site.bucket: {} is not a directory",
            directory.display()
        ));
    }
    let globs = |patterns: &[String], what: &str| -> Result<Option<globset::GlobSet>, String> {
        if patterns.is_empty() {
            return Ok(None);
        }
        let mut builder = globset::GlobSetBuilder::new();
        for pattern in patterns {
            let glob = globset::Glob::new(pattern)
                .map_err(|err| format!("site.{what}: {pattern:?}: {err}"))?;
            builder.add(glob);
        }
        builder
            .build()
            .map(Some)
            .map_err(|err| format!("site.{what}: {err}"))
    };
    let include = globs(&site.include, "include")?;
    let exclude = globs(&site.exclude, "exclude")?;
    let mut keys = std::collections::BTreeSet::new();
    let mut pending = vec![directory.clone()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|err| format!("site.bucket: {}: {err}", dir.display()))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name == "node_modules" {
                continue;
            }
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let Some(key) = relative_name(&directory, &path) else {
                continue;
            };
            if include.as_ref().is_some_and(|set| !set.is_match(&key))
                || exclude.as_ref().is_some_and(|set| set.is_match(&key))
            {
                continue;
            }
            if keys.len() >= SITE_FILES_MAX {
                return Err(format!("site.bucket: more than {SITE_FILES_MAX} files"));
            }
            keys.insert(key);
        }
    }
    Ok(kiln_runtime::site::SiteBucket { directory, keys })
}

/// A `workflows` entry: a Workflow bound into `env`, run by the class `class_name` of this
/// worker (or of `script_name`).
#[derive(Debug, Clone, Deserialize)]
pub struct WorkflowConfig {
    pub name: String,
    pub binding: String,
    pub class_name: String,
    #[serde(default)]
    pub script_name: Option<String>,
}

/// The `queues` section: producers bound into `env`, and the queues the worker consumes.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct QueuesConfig {
    #[serde(default)]
    pub producers: Vec<QueueProducerConfig>,
    #[serde(default)]
    pub consumers: Vec<QueueConsumerConfig>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct QueueProducerConfig {
    pub binding: String,
    pub queue: String,
    /// Seconds.
    #[serde(default)]
    pub delivery_delay: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct QueueConsumerConfig {
    pub queue: String,
    #[serde(default)]
    pub max_batch_size: Option<usize>,
    /// Seconds.
    #[serde(default)]
    pub max_batch_timeout: Option<f64>,
    #[serde(default)]
    pub max_retries: Option<u32>,
    #[serde(default)]
    pub dead_letter_queue: Option<String>,
    /// Seconds.
    #[serde(default)]
    pub retry_delay: Option<u32>,
    #[serde(default)]
    pub max_concurrency: Option<u32>,
}

/// A `hyperdrive` entry. Locally there is no pool: the binding points at the database given by
/// `localConnectionString` (or `CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_<BINDING>`).
#[derive(Debug, Clone, Deserialize)]
pub struct HyperdriveConfig {
    pub binding: String,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default, rename = "localConnectionString")]
    pub local_connection_string: Option<String>,
}

/// An `r2_buckets` entry.
#[derive(Debug, Clone, Deserialize)]
pub struct R2BucketConfig {
    pub binding: String,
    /// The bucket; locally any string names the data (default: the binding).
    #[serde(default)]
    pub bucket_name: Option<String>,
    #[serde(default)]
    pub preview_bucket_name: Option<String>,
    #[serde(default)]
    pub jurisdiction: Option<String>,
}

/// A `kv_namespaces` entry.
#[derive(Debug, Clone, Deserialize)]
pub struct KvNamespaceConfig {
    pub binding: String,
    /// The namespace's id; locally any string names the data (default: the binding).
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub preview_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct DurableObjects {
    #[serde(default)]
    pub bindings: Vec<DurableObjectBindingConfig>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DurableObjectBindingConfig {
    pub name: String,
    pub class_name: String,
    #[serde(default)]
    pub script_name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Rename {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Transfer {
    pub from: String,
    #[serde(default)]
    pub from_script: Option<String>,
    pub to: String,
}

/// One entry of wrangler's `migrations`.
#[derive(Debug, Clone, Deserialize)]
pub struct Migration {
    pub tag: String,
    #[serde(default)]
    pub new_classes: Vec<String>,
    #[serde(default)]
    pub new_sqlite_classes: Vec<String>,
    #[serde(default)]
    pub renamed_classes: Vec<Rename>,
    #[serde(default)]
    pub deleted_classes: Vec<String>,
    #[serde(default)]
    pub transferred_classes: Vec<Transfer>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Triggers {
    #[serde(default)]
    pub crons: Vec<String>,
}

/// The keys of a wrangler config that Kiln reads. Binding sections later issues implement are
/// accepted and kept as raw values so configs written for Cloudflare load unchanged.
// Binding sections are parsed now so configs load; later issues read them.
#[allow(dead_code)]
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WranglerConfig {
    pub name: Option<String>,
    pub main: Option<String>,
    pub compatibility_date: Option<String>,
    #[serde(default)]
    pub compatibility_flags: Vec<String>,
    #[serde(default)]
    pub vars: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub rules: Vec<Rule>,
    #[serde(default)]
    pub find_additional_modules: Option<bool>,
    #[serde(default)]
    pub base_dir: Option<String>,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub triggers: Triggers,
    // Accepted for compatibility; implemented by later issues or meaningless locally.
    #[serde(default)]
    pub account_id: Option<serde_json::Value>,
    #[serde(default)]
    pub workers_dev: Option<serde_json::Value>,
    #[serde(default)]
    pub routes: Option<serde_json::Value>,
    #[serde(default)]
    pub route: Option<serde_json::Value>,
    #[serde(default)]
    pub durable_objects: DurableObjects,
    #[serde(default)]
    pub migrations: Vec<Migration>,
    #[serde(default)]
    pub kv_namespaces: Vec<KvNamespaceConfig>,
    #[serde(default)]
    pub d1_databases: Vec<D1DatabaseConfig>,
    #[serde(default)]
    pub workflows: Vec<WorkflowConfig>,
    #[serde(default)]
    pub site: Option<SiteConfig>,
    #[serde(default)]
    pub r2_buckets: Vec<R2BucketConfig>,
    #[serde(default)]
    pub queues: QueuesConfig,
    #[serde(default)]
    pub hyperdrive: Vec<HyperdriveConfig>,
    #[serde(default)]
    pub version_metadata: Option<serde_json::Value>,
    #[serde(default)]
    pub analytics_engine_datasets: Vec<serde_json::Value>,
    #[serde(default)]
    pub ratelimits: Vec<serde_json::Value>,
    #[serde(default)]
    pub send_email: Vec<serde_json::Value>,
    #[serde(default)]
    pub ai: Option<serde_json::Value>,
    #[serde(default)]
    pub browser: Option<serde_json::Value>,
    #[serde(default)]
    pub vectorize: Vec<serde_json::Value>,
    #[serde(default)]
    pub services: Vec<ServiceConfig>,
    #[serde(default)]
    pub worker_loaders: Vec<WorkerLoaderConfig>,
    #[serde(default)]
    pub dispatch_namespaces: Vec<DispatchNamespaceConfig>,
    #[serde(default)]
    pub observability: Option<serde_json::Value>,
    #[serde(default)]
    pub placement: Option<serde_json::Value>,
    #[serde(default)]
    pub assets: Option<serde_json::Value>,
    #[serde(default)]
    pub build: Option<serde_json::Value>,
    #[serde(default)]
    pub dev: Option<serde_json::Value>,
    #[serde(default)]
    pub env: Option<serde_json::Value>,
    #[serde(default, rename = "$schema")]
    pub schema: Option<serde_json::Value>,
    #[serde(default)]
    pub tail_consumers: Option<serde_json::Value>,
    #[serde(default)]
    pub keep_vars: Option<serde_json::Value>,
}

/// A parsed config with the warnings parsing produced.
#[derive(Debug)]
pub struct Loaded {
    pub path: PathBuf,
    pub config: WranglerConfig,
    pub warnings: Vec<String>,
}

/// Keys a `[env.NAME]` section does not inherit from the top level (wrangler's
/// "non-inheritable" keys): bindings and `vars` are named again in each environment.
const NON_INHERITABLE_KEYS: &[&str] = &[
    "vars",
    "define",
    "durable_objects",
    "kv_namespaces",
    "r2_buckets",
    "d1_databases",
    "services",
    "queues",
    "analytics_engine_datasets",
    "ratelimits",
    "hyperdrive",
    "workflows",
    "vectorize",
    "ai",
    "browser",
    "send_email",
    "version_metadata",
    "dispatch_namespaces",
    "worker_loaders",
    "tail_consumers",
    "unsafe",
    "mtls_certificates",
    "secrets_store_secrets",
];

/// Finds and parses the wrangler config in `dir` for the environment `env` (`[env.NAME]`,
/// as `wrangler dev --env NAME` reads it): its keys override the top level's, bindings and
/// `vars` come from the environment alone, and the name becomes `NAME-ENV` unless it sets one.
pub fn load_env(dir: &Path, env: Option<&str>) -> Result<Loaded, Error> {
    let loaded = load(dir)?;
    let Some(env) = env else {
        return Ok(loaded);
    };
    let invalid = |message: String| Error::Invalid {
        path: loaded.path.clone(),
        message,
    };
    let text = std::fs::read_to_string(&loaded.path).map_err(|source| Error::Read {
        path: loaded.path.clone(),
        source,
    })?;
    let mut top: serde_json::Value = if loaded.path.extension().is_some_and(|e| e == "toml") {
        let value: toml::Value =
            toml::from_str(&text).map_err(|e| toml_error(&loaded.path, &text, e))?;
        serde_json::to_value(value).map_err(|e| invalid(e.to_string()))?
    } else {
        serde_json::from_str(&strip_jsonc(&text)).map_err(|e| invalid(e.to_string()))?
    };
    let Some(fields) = top.as_object_mut() else {
        return Err(invalid("the config is not a table".into()));
    };
    let section = fields
        .remove("env")
        .and_then(|envs| envs.get(env).cloned())
        .ok_or_else(|| invalid(format!("no environment {env:?} (an [env.{env}] section)")))?;
    let Some(section) = section.as_object() else {
        return Err(invalid(format!("env.{env} is not a table")));
    };
    for key in NON_INHERITABLE_KEYS {
        fields.remove(*key);
    }
    let name = fields
        .get("name")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    for (key, value) in section {
        fields.insert(key.clone(), value.clone());
    }
    if !section.contains_key("name") {
        if let Some(name) = name {
            fields.insert("name".into(), format!("{name}-{env}").into());
        }
    }
    let mut warnings = loaded.warnings;
    let mut unknown = |key: serde_ignored::Path<'_>| {
        warnings.push(format!(
            "{} (env {env}): unknown key \"{key}\" is ignored",
            loaded.path.display()
        ));
    };
    let config: WranglerConfig = serde_ignored::deserialize(top, &mut unknown)
        .map_err(|e| invalid(format!("env.{env}: {e}")))?;
    Ok(Loaded {
        path: loaded.path,
        config,
        warnings,
    })
}

/// Finds and parses the wrangler config in `dir`.
pub fn load(dir: &Path) -> Result<Loaded, Error> {
    let path = CONFIG_FILES
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
        .ok_or_else(|| Error::NotFound(dir.to_path_buf()))?;
    let text = std::fs::read_to_string(&path).map_err(|source| Error::Read {
        path: path.clone(),
        source,
    })?;
    parse(&path, &text)
}

/// Parses config text; the file name picks the syntax.
pub fn parse(path: &Path, text: &str) -> Result<Loaded, Error> {
    let mut warnings = Vec::new();
    let mut unknown = |key: serde_ignored::Path<'_>| {
        warnings.push(format!(
            "{}: unknown key \"{key}\" is ignored",
            path.display()
        ));
    };
    let is_toml = path.extension().is_some_and(|e| e == "toml");
    let config: WranglerConfig = if is_toml {
        let deserializer =
            toml::Deserializer::parse(text).map_err(|e| toml_error(path, text, e))?;
        serde_ignored::deserialize(deserializer, &mut unknown)
            .map_err(|e| toml_error(path, text, e))?
    } else {
        let plain = strip_jsonc(text);
        let mut deserializer = serde_json::Deserializer::from_str(&plain);
        let config = serde_ignored::deserialize(&mut deserializer, &mut unknown).map_err(|e| {
            Error::Syntax {
                path: path.to_path_buf(),
                line: e.line(),
                column: e.column(),
                message: strip_position(&e.to_string()),
            }
        })?;
        deserializer.end().map_err(|e| Error::Syntax {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: strip_position(&e.to_string()),
        })?;
        config
    };
    Ok(Loaded {
        path: path.to_path_buf(),
        config,
        warnings,
    })
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

pub(crate) fn toml_error(path: &Path, text: &str, err: toml::de::Error) -> Error {
    let (line, column) = match err.span() {
        Some(span) => line_column(text, span.start),
        None => (1, 1),
    };
    Error::Syntax {
        path: path.to_path_buf(),
        line,
        column,
        message: err.message().trim().to_owned(),
    }
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

/// Removes `//` and `/* */` comments and trailing commas from JSONC, keeping every newline and
/// byte offset of what remains, so parse errors point at the original line and column.
pub fn strip_jsonc(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            if b == b'\\' {
                i += 2;
                continue;
            }
            if b == b'"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    out[i] = b' ';
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let start = i;
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                let end = (i + 2).min(bytes.len());
                for (j, byte) in out.iter_mut().enumerate().take(end).skip(start) {
                    if bytes[j] != b'\n' {
                        *byte = b' ';
                    }
                }
                i = end;
                continue;
            }
            b',' => {
                let mut j = i + 1;
                loop {
                    while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    if bytes.get(j) == Some(&b'/')
                        && matches!(bytes.get(j + 1), Some(b'/') | Some(b'*'))
                    {
                        // A comment between the comma and what follows: skip it.
                        if bytes[j + 1] == b'/' {
                            while j < bytes.len() && bytes[j] != b'\n' {
                                j += 1;
                            }
                        } else {
                            j += 2;
                            while j < bytes.len()
                                && !(bytes[j] == b'*' && bytes.get(j + 1) == Some(&b'/'))
                            {
                                j += 1;
                            }
                            j += 2;
                        }
                        continue;
                    }
                    break;
                }
                if matches!(bytes.get(j), Some(b'}') | Some(b']')) {
                    out[i] = b' ';
                }
            }
            _ => {}
        }
        i += 1;
    }
    // Only ASCII bytes were replaced by ASCII spaces, so the text is still UTF-8.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Builds the worker the config describes, reading its modules from disk.
pub fn worker_script(
    loaded: &Loaded,
    secrets: &BTreeMap<String, String>,
) -> Result<WorkerScript, Error> {
    let config = &loaded.config;
    let invalid = |message: String| Error::Invalid {
        path: loaded.path.clone(),
        message,
    };
    let root = loaded.path.parent().unwrap_or(Path::new("."));
    let assets = assets_config(config.assets.as_ref(), root).map_err(invalid)?;
    if config.main.is_none() && assets.is_some() {
        // An assets-only project: every request a file does not answer is a 404.
        return assets_only(config, assets);
    }
    let main = config.main.as_deref().ok_or_else(|| {
        invalid("\"main\" is required: the path of the worker's entry module".into())
    })?;
    let main_path = root.join(main);
    if !main_path.is_file() {
        return Err(invalid(format!(
            "main module {} does not exist",
            main_path.display()
        )));
    }
    let base = match &config.base_dir {
        Some(base) => root.join(base),
        // Module names are paths from the project root, so errors name `src/index.js:3:5`.
        None => root.to_path_buf(),
    };
    let rules = RuleSet::new(&config.rules).map_err(invalid)?;
    let mut modules = Vec::new();
    collect_modules(&base, &base, &rules, &mut modules).map_err(|e| invalid(e.to_string()))?;
    // Files of the assets directory are served, not imported.
    if let Some(prefix) = assets
        .as_ref()
        .and_then(|a| relative_name(&base, &a.directory))
        .filter(|p| !p.is_empty())
    {
        let prefix = format!("{}/", prefix.trim_end_matches('/'));
        modules.retain(|m| !m.name.starts_with(&prefix));
    }
    let main_name = relative_name(&base, &main_path).ok_or_else(|| {
        invalid(format!(
            "main module {} is outside {}",
            main_path.display(),
            base.display()
        ))
    })?;
    if !modules.iter().any(|m| m.name == main_name) {
        return Err(invalid(format!(
            "main module {main_name} is not a JavaScript module"
        )));
    }
    let site = match &config.site {
        Some(site) => {
            let bucket = site_bucket(root, site).map_err(invalid)?;
            // The bucket's files are served from `__STATIC_CONTENT`, not imported.
            if let Some(prefix) = relative_name(&base, &bucket.directory).filter(|p| !p.is_empty())
            {
                let prefix = format!("{}/", prefix.trim_end_matches('/'));
                modules.retain(|m| !m.name.starts_with(&prefix));
            }
            modules.push(ModuleSource {
                name: SITE_MANIFEST_MODULE.to_owned(),
                kind: ModuleKind::Text,
                content: bucket.manifest_json().into(),
            });
            Some(bucket)
        }
        None => None,
    };

    let mut env = serde_json::Map::new();
    for (key, value) in &config.vars {
        env.insert(key.clone(), value.clone());
    }
    for (key, value) in secrets {
        env.insert(key.clone(), serde_json::Value::String(value.clone()));
    }
    let mut limits = WorkerLimits::default();
    if let Some(cpu_ms) = config.limits.cpu_ms {
        if cpu_ms == 0 || cpu_ms > kiln_runtime::limits::REQUEST_CPU_MS_MAX {
            return Err(invalid(format!(
                "limits.cpu_ms must be between 1 and {}",
                kiln_runtime::limits::REQUEST_CPU_MS_MAX
            )));
        }
        limits.cpu_ms = cpu_ms;
    }
    if let Some(subrequests) = config.limits.subrequests {
        limits.subrequests = subrequests;
    }
    let mut durable_objects = durable_object_bindings(config).map_err(invalid)?;
    // A D1 database is a SQLite-backed object of Kiln's own class, one per database id, bound
    // under the D1 binding's name (the runtime installs a D1Database for it).
    for (i, d1) in config.d1_databases.iter().enumerate() {
        if d1.binding.is_empty() {
            return Err(invalid(format!(
                "d1_databases[{i}]: \"binding\" must not be empty"
            )));
        }
        if durable_objects.iter().any(|b| b.binding == d1.binding) {
            return Err(invalid(format!(
                "d1_databases[{i}]: the binding \"{}\" is already used",
                d1.binding
            )));
        }
        durable_objects.push(DurableObjectBinding {
            binding: d1.binding.clone(),
            class_name: kiln_runtime::D1_CLASS.to_owned(),
            namespace: kiln_runtime::d1_namespace(&d1.id()),
            key: [0; 32],
            sql: true,
            script: None,
        });
    }
    // A workflow instance is a SQLite-backed object of Kiln's own engine class, which runs the
    // worker's WorkflowEntrypoint class; one namespace per workflow name.
    for (i, workflow) in config.workflows.iter().enumerate() {
        let field = |what: &str, value: &str| {
            if value.is_empty() {
                Err(invalid(format!(
                    "workflows[{i}]: \"{what}\" must not be empty"
                )))
            } else {
                Ok(())
            }
        };
        field("name", &workflow.name)?;
        field("binding", &workflow.binding)?;
        field("class_name", &workflow.class_name)?;
        let valid_name = workflow.name.len() <= WORKFLOW_NAME_LENGTH_MAX
            && workflow
                .name
                .chars()
                .enumerate()
                .all(|(at, c)| c.is_ascii_alphanumeric() || c == '_' || (at > 0 && c == '-'));
        if !valid_name {
            return Err(invalid(format!(
                "workflows[{i}]: name {:?} must be at most {WORKFLOW_NAME_LENGTH_MAX} letters, digits, '-' and '_', not starting with '-'",
                workflow.name
            )));
        }
        if durable_objects
            .iter()
            .any(|b| b.binding == workflow.binding)
        {
            return Err(invalid(format!(
                "workflows[{i}]: the binding \"{}\" is already used",
                workflow.binding
            )));
        }
        let elsewhere = workflow
            .script_name
            .clone()
            .filter(|script| Some(script) != config.name.as_ref());
        durable_objects.push(DurableObjectBinding {
            binding: workflow.binding.clone(),
            class_name: kiln_runtime::workflow_class(&workflow.class_name),
            namespace: kiln_runtime::workflow_namespace(&workflow.name),
            key: [0; 32],
            sql: true,
            script: elsewhere,
        });
    }
    let mut kv_namespaces: Vec<kiln_runtime::KvBinding> = Vec::new();
    for (i, kv) in config.kv_namespaces.iter().enumerate() {
        if kv.binding.is_empty() {
            return Err(invalid(format!(
                "kv_namespaces[{i}]: \"binding\" must not be empty"
            )));
        }
        if kv_namespaces
            .iter()
            .any(|other| other.binding == kv.binding)
        {
            return Err(invalid(format!(
                "kv_namespaces[{i}]: the binding \"{}\" appears twice",
                kv.binding
            )));
        }
        kv_namespaces.push(kiln_runtime::KvBinding {
            binding: kv.binding.clone(),
            id: kv
                .id
                .clone()
                .or_else(|| kv.preview_id.clone())
                .unwrap_or_else(|| kv.binding.clone()),
        });
    }
    let mut r2_buckets: Vec<kiln_runtime::r2::R2Binding> = Vec::new();
    for (i, r2) in config.r2_buckets.iter().enumerate() {
        if r2.binding.is_empty() {
            return Err(invalid(format!(
                "r2_buckets[{i}]: \"binding\" must not be empty"
            )));
        }
        let taken = r2_buckets.iter().any(|b| b.binding == r2.binding)
            || kv_namespaces.iter().any(|kv| kv.binding == r2.binding)
            || durable_objects.iter().any(|d| d.binding == r2.binding);
        if taken {
            return Err(invalid(format!(
                "r2_buckets[{i}]: the binding \"{}\" is already used",
                r2.binding
            )));
        }
        let _ = &r2.jurisdiction;
        r2_buckets.push(kiln_runtime::r2::R2Binding {
            binding: r2.binding.clone(),
            bucket: r2
                .bucket_name
                .clone()
                .or_else(|| r2.preview_bucket_name.clone())
                .unwrap_or_else(|| r2.binding.clone()),
        });
    }
    let mut queues: Vec<kiln_runtime::queue::QueueBinding> = Vec::new();
    for (i, producer) in config.queues.producers.iter().enumerate() {
        if producer.binding.is_empty() || producer.queue.is_empty() {
            return Err(invalid(format!(
                "queues.producers[{i}]: \"binding\" and \"queue\" are required"
            )));
        }
        queues.push(kiln_runtime::queue::QueueBinding {
            binding: producer.binding.clone(),
            queue: producer.queue.clone(),
            delivery_delay_s: producer.delivery_delay.unwrap_or(0),
        });
    }
    let mut queue_consumers: Vec<kiln_runtime::queue::QueueConsumer> = Vec::new();
    for (i, consumer) in config.queues.consumers.iter().enumerate() {
        if consumer.queue.is_empty() {
            return Err(invalid(format!(
                "queues.consumers[{i}]: \"queue\" is required"
            )));
        }
        let _ = consumer.max_concurrency;
        queue_consumers.push(kiln_runtime::queue::QueueConsumer {
            queue: consumer.queue.clone(),
            max_batch_size: consumer
                .max_batch_size
                .unwrap_or(10)
                .clamp(1, kiln_runtime::queue::QUEUE_CONSUMER_BATCH_MAX),
            max_batch_timeout_ms: (consumer.max_batch_timeout.unwrap_or(5.0).clamp(0.0, 60.0)
                * 1000.0) as u64,
            max_retries: consumer.max_retries.unwrap_or(3).min(100),
            dead_letter_queue: consumer.dead_letter_queue.clone(),
            retry_delay_s: consumer.retry_delay.unwrap_or(0),
        });
    }
    let mut hyperdrive = Vec::new();
    for (i, entry) in config.hyperdrive.iter().enumerate() {
        let from_env = std::env::var(format!(
            "CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_{}",
            entry.binding
        ))
        .ok();
        let Some(connection) = from_env.or_else(|| entry.local_connection_string.clone()) else {
            return Err(invalid(format!(
                "hyperdrive[{i}] ({}): set \"localConnectionString\" (or CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_{}) to the database Kiln should connect to",
                entry.binding, entry.binding
            )));
        };
        let _ = &entry.id;
        hyperdrive.push((entry.binding.clone(), connection));
    }
    let simple_bindings = simple_bindings(config).map_err(invalid)?;
    let mut services: Vec<kiln_runtime::ServiceBinding> = Vec::new();
    for (i, service) in config.services.iter().enumerate() {
        if service.binding.is_empty() || service.service.is_empty() {
            return Err(invalid(format!(
                "services[{i}]: \"binding\" and \"service\" are required"
            )));
        }
        let taken = services.iter().any(|s| s.binding == service.binding)
            || kv_namespaces.iter().any(|kv| kv.binding == service.binding);
        if taken {
            return Err(invalid(format!(
                "services[{i}]: the binding \"{}\" is already used",
                service.binding
            )));
        }
        services.push(kiln_runtime::ServiceBinding {
            binding: service.binding.clone(),
            service: service.service.clone(),
            entrypoint: service.entrypoint.clone(),
            props: service
                .props
                .as_ref()
                .map(|props| serde_json::Value::Object(props.clone()).to_string()),
        });
    }
    let mut worker_loaders = Vec::new();
    for (i, loader) in config.worker_loaders.iter().enumerate() {
        if loader.binding.is_empty() || worker_loaders.contains(&loader.binding) {
            return Err(invalid(format!(
                "worker_loaders[{i}]: \"binding\" must be set and unique"
            )));
        }
        worker_loaders.push(loader.binding.clone());
    }
    let mut dispatch_namespaces = Vec::new();
    for (i, dispatch) in config.dispatch_namespaces.iter().enumerate() {
        if dispatch.binding.is_empty() || dispatch.namespace.is_empty() {
            return Err(invalid(format!(
                "dispatch_namespaces[{i}]: \"binding\" and \"namespace\" are required"
            )));
        }
        dispatch_namespaces.push(kiln_runtime::dispatch::DispatchBinding {
            binding: dispatch.binding.clone(),
            namespace: dispatch.namespace.clone(),
            outbound: dispatch.outbound.as_ref().map(|outbound| {
                kiln_runtime::dispatch::DispatchOutbound {
                    service: outbound.service.clone(),
                    parameters: outbound.parameters.clone(),
                }
            }),
        });
    }
    Ok(WorkerScript {
        durable_objects,
        kv_namespaces,
        r2_buckets,
        queues,
        queue_consumers,
        hyperdrive,
        simple_bindings,
        services,
        worker_loaders,
        dispatch_namespaces,
        outbound: kiln_runtime::Outbound::Network,
        assets,
        site,
        tail_consumers: kiln_runtime::trace::consumers_from_json(config.tail_consumers.as_ref())
            .map_err(invalid)?,
        dispatch_namespace: None,
        name: config.name.clone().unwrap_or_else(|| "worker".into()),
        main_module: main_name,
        modules,
        env,
        limits,
        compatibility_date: config.compatibility_date.clone().unwrap_or_default(),
        compatibility_flags: config.compatibility_flags.clone(),
    })
}

/// The module of a project with assets and no `main`.
const ASSETS_ONLY_MODULE: &str = "__kiln_assets_only.js";

fn assets_only(
    config: &WranglerConfig,
    assets: Option<kiln_runtime::assets::AssetsConfig>,
) -> Result<WorkerScript, Error> {
    Ok(WorkerScript {
        assets,
        name: config.name.clone().unwrap_or_else(|| "worker".into()),
        main_module: ASSETS_ONLY_MODULE.into(),
        modules: vec![ModuleSource {
            name: ASSETS_ONLY_MODULE.into(),
            kind: ModuleKind::EsModule,
            content: bytes::Bytes::from_static(
                b"export default { fetch() { return new Response(\"Not Found\", { status: 404 }); } };",
            ),
        }],
        env: serde_json::Map::new(),
        limits: WorkerLimits::default(),
        compatibility_date: config.compatibility_date.clone().unwrap_or_default(),
        compatibility_flags: config.compatibility_flags.clone(),
        ..WorkerScript::default()
    })
}

/// wrangler's `assets`: `directory` (required, relative to the config), `binding`,
/// `html_handling`, `not_found_handling`, `run_worker_first` (a boolean or route patterns).
fn assets_config(
    value: Option<&serde_json::Value>,
    root: &Path,
) -> Result<Option<kiln_runtime::assets::AssetsConfig>, String> {
    use kiln_runtime::assets::{AssetsConfig, HtmlHandling, NotFoundHandling, RunWorkerFirst};
    let Some(value) = value else {
        return Ok(None);
    };
    let table = value
        .as_object()
        .ok_or("\"assets\" must be a table with a \"directory\"")?;
    let text = |key: &str| -> Result<Option<String>, String> {
        match table.get(key) {
            None => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("assets.{key} must be a string")),
        }
    };
    let directory = text("directory")?.ok_or("assets.directory is required")?;
    let directory = root.join(directory);
    if !directory.is_dir() {
        return Err(format!(
            "assets.directory {} is not a directory",
            directory.display()
        ));
    }
    let html_handling = match text("html_handling")?.as_deref() {
        None | Some("auto-trailing-slash") => HtmlHandling::AutoTrailingSlash,
        Some("force-trailing-slash") => HtmlHandling::ForceTrailingSlash,
        Some("drop-trailing-slash") => HtmlHandling::DropTrailingSlash,
        Some("none") => HtmlHandling::None,
        Some(other) => return Err(format!("assets.html_handling: unknown value {other:?}")),
    };
    let not_found_handling = match text("not_found_handling")?.as_deref() {
        None | Some("none") => NotFoundHandling::None,
        Some("404-page") => NotFoundHandling::NotFoundPage,
        Some("single-page-application") => NotFoundHandling::SinglePageApplication,
        Some(other) => {
            return Err(format!(
                "assets.not_found_handling: unknown value {other:?}"
            ))
        }
    };
    let run_worker_first = match table.get("run_worker_first") {
        None | Some(serde_json::Value::Bool(false)) => RunWorkerFirst::No,
        Some(serde_json::Value::Bool(true)) => RunWorkerFirst::Always,
        Some(serde_json::Value::Array(routes)) => RunWorkerFirst::Routes(
            routes
                .iter()
                .map(|r| r.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or("assets.run_worker_first must hold strings")?,
        ),
        Some(_) => {
            return Err("assets.run_worker_first must be a boolean or a list of routes".into())
        }
    };
    let (rules, problems) = kiln_runtime::assets::rules::AssetRules::load(&directory);
    for problem in problems {
        tracing::warn!("{}: {problem}", directory.display());
    }
    Ok(Some(AssetsConfig {
        directory,
        binding: text("binding")?,
        html_handling,
        not_found_handling,
        run_worker_first,
        rules: std::sync::Arc::new(rules),
    }))
}

/// The bindings the prelude makes from a description alone (see `WorkerScript::simple_bindings`):
/// each config entry, its binding name checked and its type added.
fn simple_bindings(config: &WranglerConfig) -> Result<Vec<serde_json::Value>, String> {
    let mut out = Vec::new();
    let mut add = |kind: &str, key: &str, name_field: &str, entry: &serde_json::Value| {
        let name = entry
            .get(name_field)
            .and_then(|v| v.as_str())
            .filter(|n| !n.is_empty())
            .ok_or_else(|| format!("{key}: every entry needs a \"{name_field}\""))?;
        let mut described = entry.clone();
        if let Some(fields) = described.as_object_mut() {
            fields.insert("type".into(), kind.into());
            fields.insert("name".into(), name.into());
        }
        out.push(described);
        Ok::<(), String>(())
    };
    if let Some(entry) = &config.version_metadata {
        add("version_metadata", "version_metadata", "binding", entry)?;
    }
    for entry in &config.analytics_engine_datasets {
        add(
            "analytics_engine",
            "analytics_engine_datasets",
            "binding",
            entry,
        )?;
    }
    for entry in &config.ratelimits {
        add("ratelimit", "ratelimits", "name", entry)?;
    }
    for entry in &config.send_email {
        add("send_email", "send_email", "name", entry)?;
    }
    if let Some(entry) = &config.ai {
        add("unavailable", "ai", "binding", entry)?;
    }
    if let Some(entry) = &config.browser {
        add("unavailable", "browser", "binding", entry)?;
    }
    for entry in &config.vectorize {
        add("unavailable", "vectorize", "binding", entry)?;
    }
    Ok(out)
}

/// The Durable Object classes the worker's migrations create, by class name: their storage
/// namespace (the name the first migration created them under, followed through renames, so a
/// renamed class keeps its objects and ids) and whether they have SQL (`new_sqlite_classes`).
pub fn object_classes(config: &WranglerConfig) -> Result<BTreeMap<String, (String, bool)>, String> {
    let mut classes: BTreeMap<String, (String, bool)> = BTreeMap::new();
    let mut tags = std::collections::BTreeSet::new();
    for (i, migration) in config.migrations.iter().enumerate() {
        if !tags.insert(migration.tag.clone()) {
            return Err(format!(
                "migrations[{i}]: tag \"{}\" appears twice",
                migration.tag
            ));
        }
        let created = (migration.new_classes.iter().map(|class| (class, false))).chain(
            migration
                .new_sqlite_classes
                .iter()
                .map(|class| (class, true)),
        );
        for (class, sql) in created {
            if classes.contains_key(class) {
                return Err(format!(
                    "migrations[{i}] ({}): class \"{class}\" already exists",
                    migration.tag
                ));
            }
            classes.insert(class.clone(), (class.clone(), sql));
        }
        for rename in &migration.renamed_classes {
            let Some(namespace) = classes.remove(&rename.from) else {
                return Err(format!(
                    "migrations[{i}] ({}): cannot rename \"{}\": no migration created it",
                    migration.tag, rename.from
                ));
            };
            classes.insert(rename.to.clone(), namespace);
        }
        for transfer in &migration.transferred_classes {
            classes.insert(transfer.to.clone(), (transfer.to.clone(), false));
            let _ = (&transfer.from, &transfer.from_script);
        }
        for class in &migration.deleted_classes {
            if classes.remove(class).is_none() {
                return Err(format!(
                    "migrations[{i}] ({}): cannot delete \"{class}\": no migration created it",
                    migration.tag
                ));
            }
        }
    }
    Ok(classes)
}

/// The Durable Object bindings. A binding whose `script_name` names another worker gets that
/// worker's name in `script`, and its namespace and SQL flag are the caller's to fill in from
/// that worker's classes (`kiln dev a b` does; see `main.rs`).
pub fn durable_object_bindings(
    config: &WranglerConfig,
) -> Result<Vec<DurableObjectBinding>, String> {
    let classes = object_classes(config)?;
    let own_name = config.name.as_deref();
    let mut bindings = Vec::new();
    for (i, binding) in config.durable_objects.bindings.iter().enumerate() {
        let other = binding
            .script_name
            .as_ref()
            .filter(|script| Some(script.as_str()) != own_name);
        if let Some(script) = other {
            bindings.push(DurableObjectBinding {
                binding: binding.name.clone(),
                class_name: binding.class_name.clone(),
                namespace: binding.class_name.clone(),
                key: [0; 32],
                sql: false,
                script: Some(script.clone()),
            });
            continue;
        }
        let Some((namespace, sql)) = classes.get(&binding.class_name) else {
            return Err(format!(
                "durable_objects.bindings[{i}] ({}): class \"{}\" was not created by any migration; add it to `new_classes` or `new_sqlite_classes` in `migrations`",
                binding.name, binding.class_name
            ));
        };
        bindings.push(DurableObjectBinding {
            binding: binding.name.clone(),
            class_name: binding.class_name.clone(),
            namespace: namespace.clone(),
            key: [0; 32],
            sql: *sql,
            script: None,
        });
    }
    Ok(bindings)
}

fn relative_name(base: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(base).ok()?;
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(parts.join("/"))
}

/// Wrangler's module rules: the user's first, then the defaults.
struct RuleSet {
    rules: Vec<(ModuleKind, GlobSet, bool)>,
}

impl RuleSet {
    fn new(user: &[Rule]) -> Result<RuleSet, String> {
        let defaults = [
            Rule {
                kind: "ESModule".into(),
                globs: vec!["**/*.js".into(), "**/*.mjs".into()],
                fallthrough: true,
            },
            Rule {
                kind: "CommonJS".into(),
                globs: vec!["**/*.cjs".into()],
                fallthrough: true,
            },
            Rule {
                kind: "Text".into(),
                globs: vec!["**/*.txt".into(), "**/*.html".into(), "**/*.sql".into()],
                fallthrough: true,
            },
            Rule {
                kind: "Data".into(),
                globs: vec!["**/*.bin".into()],
                fallthrough: true,
            },
            Rule {
                kind: "CompiledWasm".into(),
                globs: vec!["**/*.wasm".into(), "**/*.wasm?module".into()],
                fallthrough: true,
            },
            Rule {
                kind: "JSON".into(),
                globs: vec!["**/*.json".into()],
                fallthrough: true,
            },
        ];
        let mut rules = Vec::new();
        for rule in user.iter().chain(defaults.iter()) {
            let kind = match rule.kind.as_str() {
                "ESModule" => ModuleKind::EsModule,
                "Text" => ModuleKind::Text,
                "Data" => ModuleKind::Data,
                "CompiledWasm" => ModuleKind::Wasm,
                "JSON" => ModuleKind::Json,
                "CommonJS" => ModuleKind::CommonJs,
                "PythonModule" | "PythonRequirement" => {
                    return Err("rules: Python workers are not supported by Kiln".into())
                }
                other => return Err(format!("rules: unknown module type \"{other}\"")),
            };
            let mut set = GlobSetBuilder::new();
            for glob in &rule.globs {
                set.add(Glob::new(glob).map_err(|e| format!("rules: bad glob {glob:?}: {e}"))?);
                if let Some(rest) = glob.strip_prefix("**/") {
                    set.add(Glob::new(rest).map_err(|e| format!("rules: bad glob {glob:?}: {e}"))?);
                }
            }
            let set = set.build().map_err(|e| format!("rules: {e}"))?;
            rules.push((kind, set, rule.fallthrough));
        }
        Ok(RuleSet { rules })
    }

    fn kind(&self, name: &str) -> Option<ModuleKind> {
        self.rules
            .iter()
            .find(|(_, set, _)| set.is_match(name))
            .map(|(kind, _, _)| *kind)
    }
}

fn collect_modules(
    base: &Path,
    dir: &Path,
    rules: &RuleSet,
    out: &mut Vec<ModuleSource>,
) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "node_modules" {
            continue;
        }
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            collect_modules(base, &path, rules, out)?;
            continue;
        }
        let Some(relative) = relative_name(base, &path) else {
            continue;
        };
        if CONFIG_FILES.contains(&relative.as_str())
            || relative == "package.json"
            || relative == "package-lock.json"
        {
            continue;
        }
        let Some(kind) = rules.kind(&relative) else {
            continue;
        };
        if out.len() >= MODULE_FILES_MAX {
            return Err(std::io::Error::other(format!(
                "more than {MODULE_FILES_MAX} module files under {}",
                base.display()
            )));
        }
        let content = std::fs::read(&path)?;
        out.push(ModuleSource {
            name: relative,
            kind,
            content: content.into(),
        });
    }
    Ok(())
}

/// Reads `KEY=VALUE` lines of a `.dev.vars` file (dotenv syntax: `#` comments, optional quotes).
pub fn parse_dev_vars(text: &str) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        let value = if value.len() >= 2
            && ((value.starts_with('"') && value.ends_with('"'))
                || (value.starts_with('\'') && value.ends_with('\'')))
        {
            let inner = &value[1..value.len() - 1];
            if value.starts_with('"') {
                inner.replace("\\n", "\n")
            } else {
                inner.to_owned()
            }
        } else {
            value.to_owned()
        };
        vars.insert(key.trim().to_owned(), value);
    }
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_err(name: &str, text: &str, expect: &str) {
        let err = parse(Path::new(name), text).expect_err("must fail");
        assert_eq!(err.to_string(), expect);
    }

    #[test]
    fn jsonc_comments_and_trailing_commas() {
        let text =
            "{\n // a comment\n \"name\": \"x\", /* block */\n \"vars\": {\"A\": \"1\",},\n}\n";
        let loaded = parse(Path::new("wrangler.jsonc"), text).expect("parses");
        assert_eq!(loaded.config.name.as_deref(), Some("x"));
        assert_eq!(loaded.config.vars["A"], "1");
        assert!(loaded.warnings.is_empty());
    }

    #[test]
    fn wrong_type_names_file_and_line() {
        check_err(
            "wrangler.jsonc",
            "{\n  \"name\": \"x\",\n  \"compatibility_flags\": \"nodejs_compat\"\n}",
            "wrangler.jsonc:3:40: invalid type: string \"nodejs_compat\", expected a sequence",
        );
        let err = parse(Path::new("wrangler.toml"), "name = \"x\"\nmain = 5\n").expect_err("fails");
        assert!(err.to_string().starts_with("wrangler.toml:2:8: "), "{err}");
    }

    #[test]
    fn unknown_keys_warn() {
        let loaded = parse(
            Path::new("wrangler.toml"),
            "name = \"x\"\nmian = \"a.js\"\n",
        )
        .expect("parses");
        assert_eq!(
            loaded.warnings,
            vec!["wrangler.toml: unknown key \"mian\" is ignored".to_owned()]
        );
    }

    #[test]
    fn dev_vars() {
        let vars = parse_dev_vars("# c\nA=1\nB=\"two words\"\nexport C='x'\n");
        assert_eq!(vars["A"], "1");
        assert_eq!(vars["B"], "two words");
        assert_eq!(vars["C"], "x");
    }

    #[test]
    fn comment_markers_inside_strings_survive() {
        let out = strip_jsonc("{\"a\": \"http://x/*y*/\",}");
        assert_eq!(out, "{\"a\": \"http://x/*y*/\" }");
    }
}
