//! `kiln kv key put|get|list|delete`: a running node's Workers KV from the command line, as
//! `wrangler kv key ...` does it, through the node's KV REST API ([`crate::kv_api`]). A
//! namespace is named by `--namespace-id`, or by `--binding` in the wrangler config of
//! `--config-dir`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

#[derive(clap::Args)]
pub struct KvArgs {
    #[command(subcommand)]
    action: KvAction,
}

#[derive(Subcommand)]
enum KvAction {
    /// Keys and values of a namespace.
    Key {
        #[command(subcommand)]
        action: KeyAction,
        #[command(flatten)]
        target: Target,
    },
}

#[derive(clap::Args)]
struct Target {
    /// The namespace's id (wrangler's `kv_namespaces[].id`).
    #[arg(long, global = true)]
    namespace_id: Option<String>,
    /// The namespace's binding name in the wrangler config of --config-dir.
    #[arg(long, global = true)]
    binding: Option<String>,
    /// Where the wrangler config that --binding refers to is.
    #[arg(long, global = true, default_value = ".")]
    config_dir: PathBuf,
    #[command(flatten)]
    node: crate::admin_client::NodeArgs,
}

#[derive(Subcommand)]
enum KeyAction {
    /// Write VALUE (or the contents of --path) under KEY.
    Put {
        key: String,
        value: Option<String>,
        /// Read the value from this file instead.
        #[arg(long)]
        path: Option<PathBuf>,
        /// Seconds from now until the key expires (at least 60).
        #[arg(long)]
        ttl: Option<u64>,
        /// When the key expires, in seconds since the epoch.
        #[arg(long)]
        expiration: Option<u64>,
        /// Metadata to store with the key, as JSON.
        #[arg(long)]
        metadata: Option<String>,
    },
    /// Print KEY's value.
    Get { key: String },
    /// List the keys (as JSON), optionally only those starting with --prefix.
    List {
        #[arg(long)]
        prefix: Option<String>,
    },
    /// Delete KEY.
    Delete { key: String },
}

/// Pages a listing follows at most (1000 keys each), so a command always ends.
const LIST_PAGES_MAX: usize = 10_000;

fn escape_path(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn escape_query(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn namespace_id(target: &Target) -> anyhow::Result<String> {
    match (&target.namespace_id, &target.binding) {
        (Some(id), None) => Ok(id.clone()),
        (None, Some(binding)) => {
            let loaded = crate::config::load(&target.config_dir)?;
            let script = crate::config::worker_script(&loaded, &Default::default())?;
            script
                .kv_namespaces
                .iter()
                .find(|kv| &kv.binding == binding)
                .map(|kv| kv.id.clone())
                .with_context(|| {
                    format!(
                        "{} has no KV namespace bound as {binding:?}",
                        loaded.path.display()
                    )
                })
        }
        _ => anyhow::bail!("name the namespace with exactly one of --namespace-id and --binding"),
    }
}

/// The error in a Cloudflare-style JSON answer, or the raw body.
fn explain(status: u16, body: &[u8]) -> anyhow::Error {
    let text = String::from_utf8_lossy(body);
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["errors"][0]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| text.into_owned());
    anyhow::anyhow!("the node answered {status}: {message}")
}

pub fn run(args: KvArgs) -> anyhow::Result<()> {
    let KvAction::Key { action, target } = args.action;
    let (url, token) = target.node.resolve()?;
    let base = format!(
        "{}accounts/local/storage/kv/namespaces/{}",
        crate::upload_api::PREFIX,
        escape_path(&namespace_id(&target)?)
    );
    let call = |method: &str, path: &str, content_type: &str, body: &[u8]| {
        crate::admin_client::exchange(&url, method, path, &token, content_type, body)
    };
    let mut out = std::io::stdout().lock();
    match action {
        KeyAction::Put {
            key,
            value,
            path,
            ttl,
            expiration,
            metadata,
        } => {
            let value = match (value, path) {
                (Some(value), None) => value.into_bytes(),
                (None, Some(path)) => {
                    std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?
                }
                _ => anyhow::bail!("give the value either as an argument or with --path"),
            };
            let mut query = Vec::new();
            if let Some(ttl) = ttl {
                query.push(format!("expiration_ttl={ttl}"));
            }
            if let Some(at) = expiration {
                query.push(format!("expiration={at}"));
            }
            let mut path = format!("{base}/values/{}", escape_path(&key));
            if !query.is_empty() {
                path = format!("{path}?{}", query.join("&"));
            }
            let (status, body) = match metadata {
                None => call("PUT", &path, "application/octet-stream", &value)?,
                Some(metadata) => {
                    serde_json::from_str::<serde_json::Value>(&metadata)
                        .context("--metadata is not JSON")?;
                    let (content_type, form) = form(&value, &metadata)?;
                    call("PUT", &path, &content_type, &form)?
                }
            };
            if status != 200 {
                return Err(explain(status, &body));
            }
        }
        KeyAction::Get { key } => {
            let path = format!("{base}/values/{}", escape_path(&key));
            let (status, body) = call("GET", &path, "application/octet-stream", b"")?;
            if status != 200 {
                return Err(explain(status, &body));
            }
            out.write_all(&body)?;
        }
        KeyAction::Delete { key } => {
            let path = format!("{base}/values/{}", escape_path(&key));
            let (status, body) = call("DELETE", &path, "application/json", b"")?;
            if status != 200 {
                return Err(explain(status, &body));
            }
        }
        KeyAction::List { prefix } => {
            let mut keys = Vec::new();
            let mut cursor = String::new();
            for _ in 0..LIST_PAGES_MAX {
                let mut path = format!("{base}/keys?cursor={}", escape_query(&cursor));
                if let Some(prefix) = &prefix {
                    path = format!("{path}&prefix={}", escape_query(prefix));
                }
                let (status, body) = call("GET", &path, "application/json", b"")?;
                if status != 200 {
                    return Err(explain(status, &body));
                }
                let page: serde_json::Value =
                    serde_json::from_slice(&body).context("the node's listing is not JSON")?;
                if let Some(found) = page["result"].as_array() {
                    keys.extend(found.iter().cloned());
                }
                cursor = page["result_info"]["cursor"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                if cursor.is_empty() {
                    break;
                }
            }
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&serde_json::Value::Array(keys))?
            )?;
        }
    }
    Ok(())
}

/// A multipart form with the `value` and `metadata` fields Cloudflare's API takes.
fn form(value: &[u8], metadata: &str) -> anyhow::Result<(String, Vec<u8>)> {
    let mut nonce = [0u8; 12];
    getrandom::fill(&mut nonce).map_err(|err| anyhow::anyhow!("no random source: {err}"))?;
    let boundary = format!("kiln-{}", kiln_runtime::object::to_hex(&nonce));
    let mut body = Vec::new();
    for (name, content) in [("value", value), ("metadata", metadata.as_bytes())] {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    Ok((format!("multipart/form-data; boundary={boundary}"), body))
}
