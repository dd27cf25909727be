//! Where objects run in a cluster: on the ready leader of their shard. Calls for objects owned
//! by another node are sent there over gRPC; a wrong guess (`NOT_LEADER`) is followed to the
//! hinted owner, then retried with backoff until a deadline.
//!
//! Guarantees: a `stub.fetch()` is retried only when the owner answered that it did not run it
//! (or it could not be delivered at all), so no request runs twice, and one whose outcome is
//! unknown (the connection failed after it was sent) is reported as such. A JS RPC call carries
//! a request id and is retried with it whatever happened, until it is answered: the owner (or
//! the next one, after a failover) runs a call once per id and answers a retry with the first
//! run's result, which it committed with the call's writes (exactly once; see
//! `web/durable_object/18_actor.js` `actorCall`). Every wait is bounded by [`CALL_DEADLINE`].

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use kiln_proto::cluster::objects_client::ObjectsClient;
use kiln_proto::cluster::{
    call_error, fetch_part, socket_frame, CallError, CallRequest, FetchPart, FetchRequest,
    SocketFrame,
};
use kiln_runtime::{
    Body, Error, MovedSocket, ObjectPlacement, ObjectTarget, PlacedFuture, Runtime, WebSocketEnd,
    WebSocketUpgrade, Worker,
};
use tokio::sync::mpsc;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use super::body_stream;
use super::groups::ShardGroups;
use super::peers::{Peers, WithToken};
use super::tunnel;
use super::wire;

/// How long a call may look for its object's owner (an election takes well under this).
pub const CALL_DEADLINE: Duration = Duration::from_secs(10);
/// Backoff between attempts while a shard has no reachable owner. The cap bounds how long a
/// call waits past the moment a new owner is ready: after kill -9 of a leader, the election
/// ends 0.6 to 1.2 s later (the followers' leader lease, then an election timeout), and calls
/// should follow within a tenth of a second, not a third.
const BACKOFF_MIN: Duration = Duration::from_millis(20);
const BACKOFF_MAX: Duration = Duration::from_millis(100);

pub struct ClusterPlacement {
    groups: Arc<ShardGroups>,
    peers: Arc<Peers>,
    /// Set once the runtime exists (it holds this placement).
    runtime: OnceLock<Runtime>,
}

/// Where one attempt should go.
enum Owner {
    Here,
    Node(u64),
    Unknown,
}

/// What one remote attempt came to.
enum Attempt<T> {
    Done(Result<T, Error>),
    /// The owner did not run the call; try again (at the hinted node, if any).
    Retry(Option<u64>),
    /// The call may or may not have run (the connection failed after it was sent); a call
    /// with a request id tries again, and says this if it runs out of time.
    Unknown(Error),
}

impl ClusterPlacement {
    pub fn new(groups: Arc<ShardGroups>, peers: Arc<Peers>) -> Arc<ClusterPlacement> {
        Arc::new(ClusterPlacement {
            groups,
            peers,
            runtime: OnceLock::new(),
        })
    }

    pub fn set_runtime(&self, runtime: Runtime) {
        let _ = self.runtime.set(runtime);
    }

    fn runtime(&self) -> Result<Runtime, Error> {
        self.runtime.get().cloned().ok_or(Error::Shutdown)
    }
}

fn unavailable(shard: u32) -> Error {
    Error::Exception(format!(
        "Error: Durable Object is unavailable: shard {shard} has no reachable owner (retried for {CALL_DEADLINE:?})"
    ))
}

fn status_attempt<T>(status: &tonic::Status, node: u64) -> Attempt<T> {
    if status.code() == tonic::Code::Unavailable {
        // Not delivered: the node is down or unreachable.
        return Attempt::Retry(None);
    }
    Attempt::Done(Err(Error::Exception(format!(
        "Error: the outcome of a call to a Durable Object on node {node} is unknown: {}",
        status.message()
    ))))
}

/// Whether a call that failed with `status` may have run on the owner (the connection broke
/// or timed out after it was sent), as opposed to being refused before it ran.
fn may_have_run(status: &tonic::Status) -> bool {
    use tonic::Code;
    matches!(
        status.code(),
        Code::Unknown | Code::Internal | Code::Cancelled | Code::DeadlineExceeded | Code::Aborted
    )
}

impl ObjectPlacement for ClusterPlacement {
    fn is_local(&self, _worker: &Worker, target: &ObjectTarget) -> bool {
        self.groups
            .is_ready_leader(self.groups.shard_of(&target.id))
    }

    fn fetch(
        &self,
        worker: Arc<Worker>,
        target: ObjectTarget,
        request: http::Request<Body>,
    ) -> PlacedFuture<http::Response<Body>> {
        let runtime = self.runtime();
        let handle = self.peers_handle();
        Box::pin(async move {
            let runtime = runtime?;
            let (parts, body) = request.into_parts();
            let body = wire::collect(body).await?;
            let websocket = parts
                .headers
                .get(http::header::UPGRADE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
            let mut retrier = Retrier::new(handle.groups.shard_of(&target.id));
            loop {
                let attempt = match retrier.owner(&handle) {
                    Owner::Here => {
                        let mut local = http::Request::new(kiln_runtime::full(body.clone()));
                        *local.method_mut() = parts.method.clone();
                        *local.uri_mut() = parts.uri.clone();
                        *local.headers_mut() = parts.headers.clone();
                        return runtime.object_fetch_here(&worker, target, local).await;
                    }
                    Owner::Node(node) => {
                        let request = FetchRequest {
                            object: Some(wire::address(&worker, &target)),
                            method: parts.method.to_string(),
                            url: parts.uri.to_string(),
                            headers: wire::headers(&parts.headers),
                            body: body.to_vec(),
                        };
                        match handle.peers.objects(node) {
                            None => Attempt::Retry(None),
                            Some(client) if websocket => open_socket(client, request, node).await,
                            Some(client) => fetch_streamed(client, request, node).await,
                        }
                    }
                    Owner::Unknown => Attempt::Retry(None),
                };
                if let Some(result) = retrier.settle(attempt).await {
                    return result;
                }
            }
        })
    }

    fn call(
        &self,
        worker: Arc<Worker>,
        target: ObjectTarget,
        method: String,
        args: String,
    ) -> PlacedFuture<String> {
        let runtime = self.runtime();
        let handle = self.peers_handle();
        Box::pin(async move {
            let runtime = runtime?;
            let request_id = kiln_runtime::object::new_request_id();
            let mut retrier = Retrier::new(handle.groups.shard_of(&target.id));
            loop {
                let attempt = match retrier.owner(&handle) {
                    Owner::Here => {
                        return runtime
                            .object_call_here(&worker, target, method, args, Some(request_id))
                            .await
                    }
                    Owner::Node(node) => match handle.peers.objects(node) {
                        None => Attempt::Retry(None),
                        Some(mut client) => {
                            let request = CallRequest {
                                object: Some(wire::address(&worker, &target)),
                                method: method.clone(),
                                args: args.clone(),
                                request_id: request_id.to_vec(),
                            };
                            match client.call(request).await {
                                Err(status) => match status_attempt(&status, node) {
                                    Attempt::Done(Err(unknown)) if may_have_run(&status) => {
                                        Attempt::Unknown(unknown)
                                    }
                                    other => other,
                                },
                                Ok(reply) => {
                                    let reply = reply.into_inner();
                                    answered(reply.error, node, || reply.result)
                                }
                            }
                        }
                    },
                    Owner::Unknown => Attempt::Retry(None),
                };
                if let Some(result) = retrier.settle(attempt).await {
                    return result;
                }
            }
        })
    }

    fn reattach(
        &self,
        worker: Arc<Worker>,
        moved: MovedSocket,
        end: WebSocketEnd,
    ) -> PlacedFuture<()> {
        let runtime = self.runtime();
        let handle = self.peers_handle();
        Box::pin(async move {
            let runtime = runtime?;
            let mut retrier = Retrier::new(handle.groups.shard_of(&moved.id));
            loop {
                let attempt = match retrier.owner(&handle) {
                    Owner::Here => return runtime.adopt_socket_here(&worker, moved, end),
                    Owner::Node(node) => match handle.peers.objects(node) {
                        None => Attempt::Retry(None),
                        Some(client) => {
                            open_reattached(client, wire::moved_to_wire(moved.clone()), node).await
                        }
                    },
                    Owner::Unknown => Attempt::Retry(None),
                };
                if let Some(result) = retrier.settle(attempt).await {
                    let (to_owner, incoming) = result?;
                    tokio::spawn(tunnel::pump(end, to_owner, incoming));
                    return Ok(());
                }
            }
        })
    }

    /// One attempt: the target lives in one process on `node`, so there is nobody else to try.
    fn target_call(
        &self,
        node: u64,
        route: String,
        method: String,
        args: String,
    ) -> PlacedFuture<String> {
        let handle = self.peers_handle();
        Box::pin(async move {
            let Some(mut client) = handle.peers.objects(node) else {
                return Err(Error::Exception(format!(
                    "Error: RPC stub is disconnected: node {node} is not a known peer."
                )));
            };
            let request = kiln_proto::cluster::TargetRequest {
                route,
                method,
                args,
            };
            match client.target(request).await {
                Ok(reply) => {
                    let reply = reply.into_inner();
                    match reply.error {
                        Some(err) => Err(wire::runtime_error(&err)),
                        None => Ok(reply.result),
                    }
                }
                Err(status) => Err(Error::Exception(format!(
                    "Error: RPC stub is disconnected: node {node} did not answer ({})",
                    status.message()
                ))),
            }
        })
    }
}

/// The retry state of one call: its deadline, backoff and the owner a peer hinted at.
struct Retrier {
    shard: u32,
    deadline: Instant,
    backoff: Duration,
    hint: Option<u64>,
    /// Peers asked so far because this node did not know the owner.
    asked: usize,
    /// The error of the last attempt whose outcome is unknown, if any.
    unknown: Option<Error>,
}

impl Retrier {
    fn new(shard: u32) -> Retrier {
        Retrier {
            shard,
            deadline: Instant::now() + CALL_DEADLINE,
            backoff: BACKOFF_MIN,
            hint: None,
            asked: 0,
            unknown: None,
        }
    }

    /// Where the next attempt goes. When this node does not know the shard's leader (it is no
    /// replica of the shard, or it left the cluster), a peer is asked in turn: it answers
    /// `NOT_LEADER` with the owner it knows, without running the call.
    fn owner(&mut self, handle: &Handle) -> Owner {
        match handle.owner(self.shard, self.hint.take()) {
            Owner::Unknown => {
                let peers = handle.peers.ids();
                if peers.is_empty() {
                    return Owner::Unknown;
                }
                self.asked += 1;
                Owner::Node(peers[self.asked % peers.len()])
            }
            known => known,
        }
    }

    /// The call's result once an attempt settled it; otherwise waits before the next attempt
    /// (not at all when a peer named the owner).
    async fn settle<T>(&mut self, attempt: Attempt<T>) -> Option<Result<T, Error>> {
        match attempt {
            Attempt::Done(result) => Some(result),
            Attempt::Unknown(err) if Instant::now() >= self.deadline => Some(Err(err)),
            Attempt::Unknown(err) => {
                self.unknown = Some(err);
                tokio::time::sleep(self.backoff).await;
                self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
                None
            }
            // A call that may have run somewhere and then found no owner: its outcome is
            // unknown, not a failure that did not happen.
            Attempt::Retry(_) if Instant::now() >= self.deadline => Some(Err(self
                .unknown
                .take()
                .unwrap_or_else(|| unavailable(self.shard)))),
            Attempt::Retry(Some(next)) => {
                self.hint = Some(next);
                None
            }
            Attempt::Retry(None) => {
                tokio::time::sleep(self.backoff).await;
                self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
                None
            }
        }
    }
}

/// What an owner's answer means: `NOT_LEADER` is a retry (at the hint), another error is the
/// call's error, none is its result.
fn answered<T>(error: Option<CallError>, node: u64, result: impl FnOnce() -> T) -> Attempt<T> {
    match error {
        Some(err) if err.kind == call_error::Kind::NotLeader as i32 => {
            Attempt::Retry(err.leader_hint.filter(|n| *n != node))
        }
        Some(err) => Attempt::Done(Err(wire::runtime_error(&err))),
        None => Attempt::Done(Ok(result())),
    }
}

/// An HTTP response from a peer's reply.
fn response(
    status: u32,
    headers: &[kiln_proto::cluster::Header],
    body: Vec<u8>,
) -> http::Response<Body> {
    let mut response = http::Response::new(kiln_runtime::full(body));
    *response.status_mut() = http::StatusCode::from_u16(u16::try_from(status).unwrap_or(500))
        .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    *response.headers_mut() = wire::header_map(headers);
    response
}

/// `stub.fetch()` to an object on `node`: the response's head, its body streaming behind it.
async fn fetch_streamed(
    mut client: ObjectsClient<InterceptedService<Channel, WithToken>>,
    request: FetchRequest,
    node: u64,
) -> Attempt<http::Response<Body>> {
    let mut parts = match client.fetch_stream(request).await {
        Ok(response) => response.into_inner(),
        Err(status) => return status_attempt(&status, node),
    };
    match parts.message().await {
        Ok(Some(FetchPart {
            kind: Some(fetch_part::Kind::Head(head)),
        })) => {
            let error = head.error.clone();
            answered(error, node, || body_stream::receive(head, parts, node))
        }
        Ok(_) => Attempt::Done(Err(Error::Exception(format!(
            "Error: node {node} answered a Durable Object fetch with something else"
        )))),
        // The owner answered the call (its stream began), then the stream failed.
        Err(status) => Attempt::Done(Err(Error::Exception(format!(
            "Error: the outcome of a call to a Durable Object on node {node} is unknown: {}",
            status.message()
        )))),
    }
}

/// A socket stream to a peer, once it answered: the sender toward it, its frames, and its
/// `opened` reply.
type OpenedStream = (
    mpsc::Sender<SocketFrame>,
    tonic::Streaming<SocketFrame>,
    kiln_proto::cluster::FetchReply,
);

/// Opens an `Objects.Socket` stream to `node` whose first frame is `first`, and waits for its
/// `opened` reply. `on_status` says what a transport error comes to.
async fn open_stream(
    mut client: ObjectsClient<InterceptedService<Channel, WithToken>>,
    first: socket_frame::Kind,
    node: u64,
    what: &str,
    on_status: impl Fn(&tonic::Status) -> Attempt<OpenedStream>,
) -> Attempt<OpenedStream> {
    let (to_owner, outgoing) = tunnel::outgoing(|frame| frame);
    if to_owner
        .send(SocketFrame { kind: Some(first) })
        .await
        .is_err()
    {
        return Attempt::Retry(None);
    }
    let mut incoming = match client.socket(outgoing).await {
        Ok(response) => response.into_inner(),
        Err(status) => return on_status(&status),
    };
    match incoming.message().await {
        Ok(Some(SocketFrame {
            kind: Some(socket_frame::Kind::Opened(reply)),
        })) => Attempt::Done(Ok((to_owner, incoming, reply))),
        Ok(_) => Attempt::Done(Err(Error::Exception(format!(
            "Error: node {node} answered a {what} with something else"
        )))),
        Err(status) => on_status(&status),
    }
}

/// Asks `node` to take a moved hibernatable socket; on its 101, the stream to carry the
/// socket's frames.
async fn open_reattached(
    client: ObjectsClient<InterceptedService<Channel, WithToken>>,
    moved: kiln_proto::cluster::MovedSocket,
    node: u64,
) -> Attempt<(mpsc::Sender<SocketFrame>, tonic::Streaming<SocketFrame>)> {
    // Unlike a call, a re-attach may be tried again whatever became of the last attempt: the
    // worst case is a second copy of the socket at the owner, whose stream has ended, so the
    // object sees it close (1006).
    let kind = socket_frame::Kind::Reattach(moved);
    let (to_owner, incoming, reply) =
        match open_stream(client, kind, node, "WebSocket re-attach", |_| {
            Attempt::Retry(None)
        })
        .await
        {
            Attempt::Done(Ok(opened)) => opened,
            Attempt::Done(Err(err)) | Attempt::Unknown(err) => return Attempt::Done(Err(err)),
            Attempt::Retry(hint) => return Attempt::Retry(hint),
        };
    match answered(reply.error, node, || ()) {
        Attempt::Done(Ok(())) => Attempt::Done(Ok((to_owner, incoming))),
        Attempt::Done(Err(err)) | Attempt::Unknown(err) => Attempt::Done(Err(err)),
        Attempt::Retry(hint) => Attempt::Retry(hint),
    }
}

/// `stub.fetch()` of a WebSocket upgrade to an object on `node`: on a 101 the response carries
/// a WebSocket whose frames are tunnelled to the owner.
async fn open_socket(
    client: ObjectsClient<InterceptedService<Channel, WithToken>>,
    request: FetchRequest,
    node: u64,
) -> Attempt<http::Response<Body>> {
    let kind = socket_frame::Kind::Open(request);
    let (to_owner, incoming, reply) =
        match open_stream(client, kind, node, "WebSocket upgrade", |status| {
            status_attempt(status, node)
        })
        .await
        {
            Attempt::Done(Ok(opened)) => opened,
            Attempt::Done(Err(err)) | Attempt::Unknown(err) => return Attempt::Done(Err(err)),
            Attempt::Retry(hint) => return Attempt::Retry(hint),
        };
    let mut response = match answered(reply.error, node, || {
        response(reply.status, &reply.headers, reply.body)
    }) {
        Attempt::Done(Ok(response)) => response,
        other => return other,
    };
    if response.status() == http::StatusCode::SWITCHING_PROTOCOLS {
        let (local, worker) = WebSocketEnd::pair();
        response
            .extensions_mut()
            .insert(WebSocketUpgrade::new(worker));
        tokio::spawn(tunnel::pump(local, to_owner, incoming));
    }
    Attempt::Done(Ok(response))
}

/// The parts of the placement a call's future keeps (it must be `'static`).
#[derive(Clone)]
struct Handle {
    groups: Arc<ShardGroups>,
    peers: Arc<Peers>,
}

impl Handle {
    fn owner(&self, shard: u32, hint: Option<u64>) -> Owner {
        if self.groups.is_ready_leader(shard) {
            return Owner::Here;
        }
        match hint.or_else(|| self.groups.leader(shard)) {
            Some(node) if node != self.groups.node_id() => Owner::Node(node),
            _ => Owner::Unknown,
        }
    }
}

impl ClusterPlacement {
    fn peers_handle(&self) -> Handle {
        Handle {
            groups: Arc::clone(&self.groups),
            peers: Arc::clone(&self.peers),
        }
    }
}
