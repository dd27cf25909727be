//! Workers Sites (wrangler's `[site] bucket`): the `__STATIC_CONTENT` binding, a read-only KV
//! namespace whose keys are the bucket's files, and the `__STATIC_CONTENT_MANIFEST` module
//! mapping each path to its key, as `@cloudflare/kv-asset-handler` reads them.
//!
//! Guarantees: a key names a file only if it is in the manifest made at load time (so nothing
//! outside the bucket, and nothing excluded, is ever read); files are read when asked for, and
//! at most [`SITE_FILE_BYTES_MAX`] of one.

use std::collections::BTreeSet;
use std::path::PathBuf;

use rquickjs::prelude::{Func, Promised};
use rquickjs::{Ctx, Object, Result, TypedArray};

use crate::isolate;

/// The largest file `__STATIC_CONTENT.get` returns (Workers KV's value limit).
pub const SITE_FILE_BYTES_MAX: u64 = 25 * 1024 * 1024;

/// A worker's site bucket: its directory and the keys (paths with `/`) of its files.
#[derive(Debug, Clone, Default)]
pub struct SiteBucket {
    pub directory: PathBuf,
    pub keys: BTreeSet<String>,
}

impl SiteBucket {
    /// The manifest module's text: `{ path: key }` for every file (keys are the paths).
    pub fn manifest_json(&self) -> String {
        let map: serde_json::Map<String, serde_json::Value> = self
            .keys
            .iter()
            .map(|key| (key.clone(), serde_json::Value::String(key.clone())))
            .collect();
        serde_json::Value::Object(map).to_string()
    }
}

pub fn register(_ctx: &Ctx<'_>, ops: &Object<'_>) -> Result<()> {
    ops.set("op_site_keys", Func::from(op_site_keys))?;
    ops.set("op_site_read", Func::from(op_site_read))?;
    Ok(())
}

fn bucket(ctx: &Ctx<'_>) -> Result<Option<SiteBucket>> {
    Ok(isolate::data(ctx)?.worker.script().site.clone())
}

/// Every key, in order (for `list()`).
fn op_site_keys(ctx: Ctx<'_>) -> Result<Vec<String>> {
    Ok(bucket(&ctx)?
        .map(|b| b.keys.into_iter().collect())
        .unwrap_or_default())
}

/// The bytes of the file `key` names, or `None` when the manifest has no such key.
fn op_site_read<'js>(
    ctx: Ctx<'js>,
    key: String,
) -> Result<Promised<impl std::future::Future<Output = Result<Option<TypedArray<'js, u8>>>> + 'js>>
{
    let path = bucket(&ctx)?
        .filter(|b| b.keys.contains(&key))
        .map(|b| b.directory.join(&key));
    Ok(Promised(async move {
        let Some(path) = path else {
            return Ok(None);
        };
        let too_large = tokio::fs::metadata(&path)
            .await
            .map(|m| m.len() > SITE_FILE_BYTES_MAX)
            .unwrap_or(false);
        if too_large {
            return Err(crate::web::throw_error(
                &ctx,
                &format!("{key} is larger than {SITE_FILE_BYTES_MAX} bytes"),
            ));
        }
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(TypedArray::new(ctx.clone(), bytes)?)),
            Err(_) => Ok(None),
        }
    }))
}
