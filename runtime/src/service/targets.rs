//! Stubs of RPC targets. When an RPC message carries an `RpcTarget`, a function or a stub, the
//! sending isolate keeps the object in its export table and sends a route instead: the node
//! (its cluster id; 0 under `kiln dev`), this process, the JS thread, the worker and the
//! isolate's serial, and the export's number. A call on the stub travels back along the route
//! to that isolate (`op_rpc_target_call`), through the node's placement (gRPC) when the route
//! names another node.
//!
//! Guarantees: a route is honoured only by the isolate that made it (a restarted worker, a
//! discarded isolate or a restarted node answers "disconnected", never another object).

use std::sync::OnceLock;

use rquickjs::prelude::{Func, Promised};
use rquickjs::{Ctx, Exception, Object, Result};

use crate::error::Error;
use crate::isolate;
use crate::object::ops::throw_call_error;

/// Where an exported RPC target lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub node: u64,
    pub process: u64,
    pub thread: usize,
    pub worker: u64,
    pub isolate: u64,
    pub export: u64,
}

/// A random number for this process, so routes from another process never match.
fn process_nonce() -> u64 {
    static NONCE: OnceLock<u64> = OnceLock::new();
    *NONCE.get_or_init(|| {
        let mut bytes = [0u8; 8];
        if getrandom::fill(&mut bytes).is_err() {
            // No entropy: the time and the process id still differ between processes.
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            return now ^ u64::from(std::process::id()) << 32;
        }
        u64::from_le_bytes(bytes)
    })
}

impl Route {
    /// `node.process.thread.worker.isolate.export`, in hex.
    pub fn encode(&self) -> String {
        format!(
            "{:x}.{:x}.{:x}.{:x}.{:x}.{:x}",
            self.node, self.process, self.thread, self.worker, self.isolate, self.export
        )
    }

    pub fn decode(text: &str) -> Option<Route> {
        let mut parts = text.split('.').map(|part| u64::from_str_radix(part, 16));
        let route = Route {
            node: parts.next()?.ok()?,
            process: parts.next()?.ok()?,
            thread: usize::try_from(parts.next()?.ok()?).ok()?,
            worker: parts.next()?.ok()?,
            isolate: parts.next()?.ok()?,
            export: parts.next()?.ok()?,
        };
        parts.next().is_none().then_some(route)
    }
}

/// The error a call on a stub whose target is gone fails with.
pub fn disconnected() -> Error {
    Error::Exception(
        "Error: RPC stub is disconnected: the object it pointed to is gone (its isolate was restarted or evicted)."
            .into(),
    )
}

pub fn register(_ctx: &Ctx<'_>, ops: &Object<'_>) -> Result<()> {
    ops.set("op_rpc_route", Func::from(op_rpc_route))?;
    ops.set("op_rpc_target_call", Func::from(op_rpc_target_call))?;
    Ok(())
}

/// The route of export `export` of the calling isolate.
fn op_rpc_route(ctx: Ctx<'_>, export: f64) -> Result<String> {
    let Some(thread) = crate::pool::current_thread() else {
        return Err(Exception::throw_internal(&ctx, "not on a JS thread"));
    };
    let data = isolate::data(&ctx)?;
    Ok(Route {
        node: data.services.runtime.node_id(),
        process: process_nonce(),
        thread,
        worker: data.worker.id(),
        isolate: data.serial,
        export: export as u64,
    }
    .encode())
}

fn op_rpc_target_call<'js>(
    ctx: Ctx<'js>,
    route: String,
    method: String,
    args: String,
) -> Result<Promised<impl std::future::Future<Output = Result<String>> + 'js>> {
    let Some(decoded) = Route::decode(&route) else {
        return Err(Exception::throw_type(&ctx, "malformed RPC stub"));
    };
    let runtime = isolate::data(&ctx)?.services.runtime.clone();
    Ok(Promised(async move {
        runtime
            .target_call_anywhere(decoded, route, method, args)
            .await
            .map_err(|err| throw_call_error(&ctx, err))
    }))
}

/// Whether a route names this process (else its target is gone: its node restarted).
pub fn is_ours(route: &Route) -> bool {
    route.process == process_nonce()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_round_trip_and_garbage_is_refused() {
        let route = Route {
            node: 7,
            process: u64::MAX,
            thread: 3,
            worker: 17,
            isolate: 99,
            export: 12345,
        };
        assert_eq!(Route::decode(&route.encode()), Some(route));
        for bad in [
            "",
            "1.2.3.4.5",
            "1.2.3.4.5.6.7",
            "x.2.3.4.5.6",
            "1.2.3.4.5.-6",
        ] {
            assert_eq!(Route::decode(bad), None, "{bad:?}");
        }
    }
}
