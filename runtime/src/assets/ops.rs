//! The `env.ASSETS` binding: `fetch()` answered from the worker's assets directory.

use rquickjs::prelude::{Func, Promised};
use rquickjs::{Array, Ctx, Exception, Object, Result};

use crate::isolate;
use crate::web::fetch::{request_from_js, FetchResult};

pub fn register(_ctx: &Ctx<'_>, ops: &Object<'_>) -> Result<()> {
    ops.set("op_assets_fetch", Func::from(op_assets_fetch))?;
    Ok(())
}

/// `request` is `[method, url, headers, body]`.
fn op_assets_fetch<'js>(
    ctx: Ctx<'js>,
    request: Array<'js>,
) -> Result<Promised<impl std::future::Future<Output = Result<FetchResult>> + 'js>> {
    let (request, url) = request_from_js(&ctx, &request)?;
    let config = isolate::data(&ctx)?
        .worker
        .script()
        .assets
        .clone()
        .ok_or_else(|| Exception::throw_internal(&ctx, "this worker has no assets"))?;
    let (parts, _body) = request.into_parts();
    Ok(Promised(async move {
        let response = super::fetch(&config, &parts).await;
        Ok(FetchResult::from_response(response, url))
    }))
}
