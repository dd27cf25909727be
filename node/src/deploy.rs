//! `kiln deploy`: uploads a wrangler project to a node's upload API (the Cloudflare-shaped one),
//! as a script the node serves (with its Durable Objects and the migrations the node has not
//! applied yet, as wrangler sends them), or into a dispatch namespace (created if it does not
//! exist yet).

use std::path::PathBuf;

use kiln_runtime::ModuleKind;
use serde_json::{json, Value};

#[derive(clap::Args)]
pub struct DeployArgs {
    /// The worker's directory.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// The dispatch namespace to upload into (without it, the node serves the script itself,
    /// at `<name>.<host>`).
    #[arg(long)]
    pub dispatch_namespace: Option<String>,
    #[command(flatten)]
    pub node: crate::admin_client::NodeArgs,
}

fn content_type(kind: ModuleKind) -> &'static str {
    match kind {
        ModuleKind::EsModule => "application/javascript+module",
        ModuleKind::Text => "text/plain",
        ModuleKind::Data => "application/octet-stream",
        ModuleKind::Json => "application/json",
        ModuleKind::CommonJs => "application/javascript",
        ModuleKind::Wasm => "application/wasm",
    }
}

/// One exchange with the node's upload API; returns (status, body as text).
fn upload_api(
    url: &url::Url,
    method: &str,
    route: &str,
    token: &str,
    content_type: &str,
    body: &[u8],
) -> anyhow::Result<(u16, String)> {
    let path = format!("{}{route}", crate::upload_api::PREFIX);
    let (status, body) =
        crate::admin_client::exchange(url, method, &path, token, content_type, body)?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

pub fn deploy(args: DeployArgs) -> anyhow::Result<()> {
    let (url, token) = args.node.resolve()?;
    let loaded = crate::config::load(&args.dir)?;
    let script = crate::config::worker_script(&loaded, &Default::default())?;
    let mut bindings = Vec::new();
    for (name, value) in &script.env {
        bindings.push(match value {
            Value::String(text) => json!({ "type": "plain_text", "name": name, "text": text }),
            other => json!({ "type": "json", "name": name, "json": other }),
        });
    }
    for kv in &script.kv_namespaces {
        bindings.push(json!({ "type": "kv_namespace", "name": kv.binding, "namespace_id": kv.id }));
    }
    for service in &script.services {
        bindings.push(json!({ "type": "service", "name": service.binding, "service": service.service, "entrypoint": service.entrypoint }));
    }
    for r2 in &script.r2_buckets {
        bindings.push(json!({ "type": "r2_bucket", "name": r2.binding, "bucket_name": r2.bucket }));
    }
    for queue in &script.queues {
        bindings.push(json!({ "type": "queue", "name": queue.binding, "queue_name": queue.queue, "delivery_delay": queue.delivery_delay_s }));
    }
    for (binding, connection) in &script.hyperdrive {
        bindings.push(
            json!({ "type": "hyperdrive", "name": binding, "local_connection_string": connection }),
        );
    }
    for loader in &script.worker_loaders {
        bindings.push(json!({ "type": "worker_loader", "name": loader }));
    }
    bindings.extend(script.simple_bindings.iter().cloned());
    let ignored: Vec<&str> = [
        (
            !script.dispatch_namespaces.is_empty(),
            "dispatch_namespaces",
        ),
        (script.assets.is_some(), "assets"),
        (script.site.is_some(), "site"),
        (!script.queue_consumers.is_empty(), "queues.consumers"),
    ]
    .into_iter()
    .filter_map(|(present, what)| present.then_some(what))
    .collect();
    if !ignored.is_empty() {
        anyhow::bail!(
            "{}: Kiln's upload API does not take {} yet; run this worker with `kiln dev` or `kiln serve` instead",
            args.dir.display(),
            ignored.join(", ")
        );
    }
    let mut metadata = json!({
        "main_module": script.main_module,
        "compatibility_date": script.compatibility_date,
        "compatibility_flags": script.compatibility_flags,
    });
    match &args.dispatch_namespace {
        Some(_) if !script.durable_objects.is_empty() => anyhow::bail!(
            "Durable Object and D1 bindings cannot be uploaded to a dispatch namespace by Kiln yet"
        ),
        Some(_) => {}
        None => {
            for binding in &script.durable_objects {
                if let (true, Some(id)) = (
                    binding.class_name == kiln_runtime::D1_CLASS,
                    kiln_runtime::d1_id(&binding.namespace),
                ) {
                    bindings.push(json!({ "type": "d1", "name": binding.binding, "id": id }));
                    continue;
                }
                if let (Some(class), Some(name)) = (
                    binding
                        .class_name
                        .strip_prefix(kiln_runtime::WORKFLOW_CLASS_PREFIX),
                    binding.namespace.strip_prefix("workflow:"),
                ) {
                    if binding.script.is_some() {
                        anyhow::bail!(
                            "workflows binding {:?}: script_name names another worker; an uploaded script runs its own workflows only",
                            binding.binding
                        );
                    }
                    bindings.push(json!({ "type": "workflow", "name": binding.binding, "workflow_name": name, "class_name": class }));
                    continue;
                }
                if let Some(other) = &binding.script {
                    anyhow::bail!(
                        "durable_objects binding {:?}: script_name {other:?} names another worker; an uploaded script binds its own classes only",
                        binding.binding
                    );
                }
                bindings.push(json!({ "type": "durable_object_namespace", "name": binding.binding, "class_name": binding.class_name }));
            }
            let applied = migration_tag(&url, &token, &script.name)?;
            if let Some(migrations) = pending_migrations(&loaded.config, applied.as_deref())? {
                metadata["migrations"] = migrations;
            }
        }
    }
    metadata["bindings"] = Value::Array(bindings);
    if !script.tail_consumers.is_empty() {
        metadata["tail_consumers"] = script
            .tail_consumers
            .iter()
            .map(|service| json!({ "service": service }))
            .collect();
    }
    if !loaded.config.triggers.crons.is_empty() {
        tracing::warn!(
            "{}: triggers.crons are not uploaded: Kiln runs cron triggers only for the workers a node was started with",
            args.dir.display()
        );
    }
    let mut nonce = [0u8; 12];
    getrandom::fill(&mut nonce).map_err(|err| anyhow::anyhow!("no random source: {err}"))?;
    let boundary = format!("kiln-{}", kiln_runtime::object::to_hex(&nonce));
    let mut body = Vec::new();
    let mut part = |name: &str, file: Option<&str>, kind: &str, content: &[u8]| {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let disposition = match file {
            Some(file) => {
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\n")
            }
            None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n"),
        };
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(format!("Content-Type: {kind}\r\n\r\n").as_bytes());
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    };
    part(
        "metadata",
        None,
        "application/json",
        metadata.to_string().as_bytes(),
    );
    for module in &script.modules {
        part(
            &module.name,
            Some(&module.name),
            content_type(module.kind),
            &module.content,
        );
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());

    let path = match &args.dispatch_namespace {
        None => format!("accounts/local/workers/scripts/{}", script.name),
        Some(ns) => {
            ensure_namespace(&url, &token, ns)?;
            format!(
                "accounts/local/workers/dispatch/namespaces/{ns}/scripts/{}",
                script.name
            )
        }
    };
    let (status, answer) = upload_api(
        &url,
        "PUT",
        &path,
        &token,
        &format!("multipart/form-data; boundary={boundary}"),
        &body,
    )?;
    if status != 200 {
        anyhow::bail!("upload failed: {status} {answer}");
    }
    match &args.dispatch_namespace {
        Some(ns) => tracing::info!(script = script.name, namespace = ns.as_str(), "uploaded"),
        None => tracing::info!(
            script = script.name,
            "uploaded; served at http://{}.<host of {url}>",
            script.name
        ),
    }
    Ok(())
}

/// Creates dispatch namespace `ns` unless it exists.
fn ensure_namespace(url: &url::Url, token: &str, ns: &str) -> anyhow::Result<()> {
    let (status, answer) = upload_api(
        url,
        "GET",
        &format!("accounts/local/workers/dispatch/namespaces/{ns}"),
        token,
        "application/json",
        b"",
    )?;
    if status == 404 {
        let create = json!({ "name": ns }).to_string();
        let (status, answer) = upload_api(
            url,
            "POST",
            "accounts/local/workers/dispatch/namespaces",
            token,
            "application/json",
            create.as_bytes(),
        )?;
        if status != 200 {
            anyhow::bail!("creating namespace {ns}: {status} {answer}");
        }
    } else if status != 200 {
        anyhow::bail!("namespace {ns}: {status} {answer}");
    }
    Ok(())
}

/// The migration tag the node has applied to script `name` (none for a new script).
fn migration_tag(url: &url::Url, token: &str, name: &str) -> anyhow::Result<Option<String>> {
    let (status, answer) = upload_api(
        url,
        "GET",
        "accounts/local/workers/scripts",
        token,
        "application/json",
        b"",
    )?;
    if status != 200 {
        anyhow::bail!("listing scripts: {status} {answer}");
    }
    let listing: Value = serde_json::from_str(&answer)?;
    Ok(listing["result"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|script| script["id"] == name)
        .and_then(|script| script["migration_tag"].as_str().map(str::to_owned)))
}

/// The migrations after tag `applied`, in Cloudflare's upload shape (`old_tag`, `new_tag`,
/// `steps`), or none when every one is applied.
fn pending_migrations(
    config: &crate::config::WranglerConfig,
    applied: Option<&str>,
) -> anyhow::Result<Option<Value>> {
    let start = match applied {
        None => 0,
        Some(tag) => match config.migrations.iter().position(|m| m.tag == tag) {
            Some(at) => at + 1,
            None => anyhow::bail!(
                "the node's copy of this script has migration tag {tag:?}, which the wrangler config does not have"
            ),
        },
    };
    let steps: Vec<Value> = config.migrations[start..]
        .iter()
        .map(|m| {
            json!({
                "new_classes": m.new_classes,
                "new_sqlite_classes": m.new_sqlite_classes,
                "renamed_classes": m.renamed_classes.iter().map(|r| json!({ "from": r.from, "to": r.to })).collect::<Vec<_>>(),
                "deleted_classes": m.deleted_classes,
            })
        })
        .collect();
    let Some(last) = config.migrations.last().filter(|_| !steps.is_empty()) else {
        return Ok(None);
    };
    Ok(Some(
        json!({ "old_tag": applied, "new_tag": last.tag, "steps": steps }),
    ))
}
