//! The placement seam: in a cluster an object runs only on the node that owns its shard, so
//! before an object event is run here the runtime asks the node's [`ObjectPlacement`] whether
//! the object is remote, and if so hands the event to it (the node forwards it over gRPC).
//!
//! With no placement (one node), every object is local.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::body::Body;
use crate::error::Error;
use crate::object::ObjectTarget;
use crate::socket::moved::MovedSocket;
use crate::socket::WebSocketEnd;
use crate::worker::Worker;

pub type PlacedFuture<T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send>>;

/// Decides where objects run, and reaches the ones that run elsewhere.
pub trait ObjectPlacement: Send + Sync + 'static {
    /// Whether `target` runs on this node now.
    fn is_local(&self, worker: &Worker, target: &ObjectTarget) -> bool;
    /// `stub.fetch()` to an object on another node.
    fn fetch(
        &self,
        worker: Arc<Worker>,
        target: ObjectTarget,
        request: http::Request<Body>,
    ) -> PlacedFuture<http::Response<Body>>;
    /// A JS RPC call to an object on another node; `args` and the result are serialized values.
    fn call(
        &self,
        worker: Arc<Worker>,
        target: ObjectTarget,
        method: String,
        args: String,
    ) -> PlacedFuture<String>;
    /// Re-attaches a hibernatable WebSocket whose object moved to the object's owner: `end`
    /// becomes that socket there (see `socket::moved`).
    fn reattach(
        &self,
        worker: Arc<Worker>,
        moved: MovedSocket,
        end: WebSocketEnd,
    ) -> PlacedFuture<()>;
    /// A call on an RPC stub whose target lives on node `node` (`route` is its encoded route).
    fn target_call(
        &self,
        node: u64,
        route: String,
        method: String,
        args: String,
    ) -> PlacedFuture<String>;
}
