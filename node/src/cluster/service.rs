//! The gRPC services a node offers its peers: Raft traffic for its shard groups, calls to the
//! objects it owns, and cluster administration. All of them require the cluster's peer token.
//!
//! Guarantees: a message a peer sends is decoded with checks (a malformed one is refused with
//! `InvalidArgument`, never a panic); an object call reaches the runtime only if this node is the
//! ready leader of the object's shard, otherwise it is answered `NOT_LEADER` with a hint.

use std::net::SocketAddr;
use std::sync::Arc;

use kiln_proto::cluster::admin_server::{Admin, AdminServer};
use kiln_proto::cluster::objects_server::{Objects, ObjectsServer};
use kiln_proto::cluster::raft_server::{Raft as RaftRpc, RaftServer};
use kiln_proto::cluster::{
    socket_frame, CallReply, CallRequest, CommitReply, CommitRequest, FetchPart, FetchReply,
    FetchRequest, InitReply, InitRequest, JoinRequest, LeaveRequest, MembershipReply, RaftReply,
    RaftRequest, ShardChange, ShardChangeReply, ShardStatus, SocketFrame, StatusReply,
    StatusRequest,
};
use kiln_runtime::{Runtime, WebSocketUpgrade, Worker};
use openraft::async_runtime::WatchReceiver;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tonic::service::interceptor::InterceptedService;
use tonic::{Request, Response, Status};

use super::groups::{ProposeError, ShardGroups, ShardRaft};
use super::network::decode_snapshot;
use super::peers::{Peers, RequireToken, PEER_MESSAGE_BYTES_MAX};
use super::{body_stream, membership, tunnel, wire};
use kiln_proto::storage::Batch;
use kiln_proto::Message;

/// What the services reach.
pub struct Services {
    pub groups: Arc<ShardGroups>,
    pub peers: Arc<Peers>,
    pub runtime: Runtime,
    pub worker: Arc<Worker>,
}

fn decode<T: DeserializeOwned>(payload: &[u8]) -> Result<T, Status> {
    serde_json::from_slice(payload)
        .map_err(|err| Status::invalid_argument(format!("malformed Raft message: {err}")))
}

fn reply<T: Serialize, E: std::fmt::Display>(
    result: Result<T, E>,
) -> Result<Response<RaftReply>, Status> {
    Ok(Response::new(match result {
        Ok(value) => RaftReply {
            payload: serde_json::to_vec(&value).map_err(|e| Status::internal(e.to_string()))?,
            error: String::new(),
        },
        Err(err) => RaftReply {
            payload: Vec::new(),
            error: err.to_string(),
        },
    }))
}

struct RaftService(Arc<Services>);

impl RaftService {
    fn group(&self, request: &RaftRequest) -> Result<ShardRaft, Status> {
        self.0
            .groups
            .raft(request.group)
            .cloned()
            .ok_or_else(|| Status::invalid_argument(format!("no shard {}", request.group)))
    }
}

#[tonic::async_trait]
impl RaftRpc for RaftService {
    async fn append_entries(
        &self,
        request: Request<RaftRequest>,
    ) -> Result<Response<RaftReply>, Status> {
        let request = request.into_inner();
        let raft = self.group(&request)?;
        reply(raft.append_entries(decode(&request.payload)?).await)
    }

    async fn vote(&self, request: Request<RaftRequest>) -> Result<Response<RaftReply>, Status> {
        let request = request.into_inner();
        let raft = self.group(&request)?;
        reply(raft.vote(decode(&request.payload)?).await)
    }

    async fn pre_vote(&self, request: Request<RaftRequest>) -> Result<Response<RaftReply>, Status> {
        let request = request.into_inner();
        let raft = self.group(&request)?;
        reply(raft.pre_vote(decode(&request.payload)?).await)
    }

    async fn install_snapshot(
        &self,
        request: Request<RaftRequest>,
    ) -> Result<Response<RaftReply>, Status> {
        let request = request.into_inner();
        let raft = self.group(&request)?;
        let (header, bytes) =
            decode_snapshot(&request.payload).map_err(Status::invalid_argument)?;
        let snapshot = super::types::Snapshot {
            meta: header.meta,
            snapshot: std::io::Cursor::new(bytes),
        };
        reply(raft.install_full_snapshot(header.vote, snapshot).await)
    }

    async fn transfer_leader(
        &self,
        request: Request<RaftRequest>,
    ) -> Result<Response<RaftReply>, Status> {
        let request = request.into_inner();
        let raft = self.group(&request)?;
        reply(raft.handle_transfer_leader(decode(&request.payload)?).await)
    }
}

struct ObjectsService(Arc<Services>);

/// An object call this node may run: the object, and the worker that defines its class.
type Admitted = (kiln_runtime::ObjectTarget, Arc<kiln_runtime::Worker>);

impl ObjectsService {
    /// The object's target if this node may run it now; otherwise the answer to send.
    fn admit(
        &self,
        address: Option<&kiln_proto::cluster::ObjectAddress>,
    ) -> Result<Result<Admitted, kiln_proto::cluster::CallError>, Status> {
        let address = address.ok_or_else(|| Status::invalid_argument("no object address"))?;
        // The node's own worker, or an uploaded one (which this node may not have built yet:
        // unavailable, so the caller retries within its deadline).
        let worker = if address.worker == self.0.worker.name() {
            Arc::clone(&self.0.worker)
        } else {
            self.0.runtime.worker(&address.worker).ok_or_else(|| {
                Status::unavailable(format!("no worker {:?} on this node (yet)", address.worker))
            })?
        };
        let target = wire::target(address).map_err(Status::invalid_argument)?;
        if target.binding >= worker.script().durable_objects.len() {
            return Err(Status::invalid_argument("no such Durable Object binding"));
        }
        let shard = self.0.groups.shard_of(&target.id);
        if !self.0.groups.is_ready_leader(shard) {
            return Ok(Err(wire::not_leader(self.0.groups.leader(shard))));
        }
        Ok(Ok((target, worker)))
    }

    /// Runs `stub.fetch()` for a peer: the reply, or for a WebSocket the reply's head and the
    /// socket's end.
    async fn run_fetch(&self, request: FetchRequest) -> Result<Fetched, Status> {
        let (target, worker) = match self.admit(request.object.as_ref())? {
            Ok(admitted) => admitted,
            Err(error) => {
                return Ok(Fetched::Reply(FetchReply {
                    error: Some(error),
                    ..FetchReply::default()
                }))
            }
        };
        let method = http::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| Status::invalid_argument("bad method"))?;
        let uri: http::Uri = request
            .url
            .parse()
            .map_err(|_| Status::invalid_argument("bad url"))?;
        let mut http_request = http::Request::new(kiln_runtime::full(request.body));
        *http_request.method_mut() = method;
        *http_request.uri_mut() = uri;
        *http_request.headers_mut() = wire::header_map(&request.headers);
        let result = self
            .0
            .runtime
            .object_fetch_here(&worker, target, http_request)
            .await;
        let response = match result {
            Ok(response) => response,
            Err(err) => {
                return Ok(Fetched::Reply(FetchReply {
                    error: Some(wire::call_error(&err)),
                    ..FetchReply::default()
                }))
            }
        };
        let upgrade = response
            .extensions()
            .get::<WebSocketUpgrade>()
            .and_then(WebSocketUpgrade::take);
        let (parts, body) = response.into_parts();
        let head = FetchReply {
            error: None,
            status: u32::from(parts.status.as_u16()),
            headers: wire::headers(&parts.headers),
            body: Vec::new(),
            body_length: http_body::Body::size_hint(&body).exact(),
        };
        Ok(match upgrade {
            Some(end) => Fetched::Upgrade(head, end),
            None => Fetched::Response(head, body),
        })
    }
}

impl ObjectsService {
    /// A hibernatable socket whose object moved here: it becomes the object's socket on this
    /// node, its frames carried by this stream. The caller is answered with a 101 first, or
    /// told why not (`NOT_LEADER`: it tries the owner).
    async fn reattach(
        &self,
        moved: kiln_proto::cluster::MovedSocket,
        to_caller: tokio::sync::mpsc::Sender<SocketFrame>,
        incoming: tonic::Streaming<SocketFrame>,
    ) -> Result<(), Status> {
        let answer = |reply: FetchReply| SocketFrame {
            kind: Some(socket_frame::Kind::Opened(reply)),
        };
        let refused = |error| FetchReply {
            error: Some(error),
            ..FetchReply::default()
        };
        let (target, worker) = match self.admit(moved.object.as_ref())? {
            Ok(admitted) => admitted,
            Err(error) => {
                let _ = to_caller.send(answer(refused(error))).await;
                return Ok(());
            }
        };
        let moved = wire::moved_from_wire(moved).map_err(Status::invalid_argument)?;
        debug_assert_eq!(moved.id, target.id, "admitted the socket's own object");
        let (local, object) = kiln_runtime::WebSocketEnd::pair();
        if let Err(err) = self.0.runtime.adopt_socket_here(&worker, moved, object) {
            let _ = to_caller
                .send(answer(refused(wire::call_error(&err))))
                .await;
            return Ok(());
        }
        let switched = FetchReply {
            status: 101,
            ..FetchReply::default()
        };
        if to_caller.send(answer(switched)).await.is_ok() {
            tokio::spawn(tunnel::pump(local, to_caller, incoming));
        }
        Ok(())
    }
}

/// What an object made of a `stub.fetch()`.
enum Fetched {
    /// The call reached no object, or the object failed: the reply carries the error.
    Reply(FetchReply),
    /// The head of the object's response, and its body.
    Response(FetchReply, kiln_runtime::Body),
    /// A 101: the head, and the object's end of the WebSocket.
    Upgrade(FetchReply, kiln_runtime::WebSocketEnd),
}

#[tonic::async_trait]
impl Objects for ObjectsService {
    async fn commit(
        &self,
        request: Request<CommitRequest>,
    ) -> Result<Response<CommitReply>, Status> {
        let batch = Batch::decode(request.into_inner().batch.as_slice())
            .map_err(|err| Status::invalid_argument(format!("malformed batch: {err}")))?;
        let reply = match self.0.groups.propose(batch).await {
            Ok(index) => CommitReply { error: None, index },
            Err(ProposeError::NotLeader { leader, .. }) => CommitReply {
                error: Some(wire::not_leader(leader)),
                index: 0,
            },
            Err(err @ ProposeError::Unknown(_)) => CommitReply {
                error: Some(wire::call_error(&kiln_runtime::Error::Exception(format!(
                    "Error: {err}"
                )))),
                index: 0,
            },
        };
        Ok(Response::new(reply))
    }

    type FetchStreamStream = std::pin::Pin<
        Box<dyn futures_util::Stream<Item = Result<FetchPart, Status>> + Send + 'static>,
    >;

    async fn fetch_stream(
        &self,
        request: Request<FetchRequest>,
    ) -> Result<Response<Self::FetchStreamStream>, Status> {
        let (head, body) = match self.run_fetch(request.into_inner()).await? {
            Fetched::Reply(reply) => (reply, None),
            Fetched::Response(head, body) => (head, Some(body)),
            Fetched::Upgrade(_, _) => (
                FetchReply {
                    error: Some(wire::call_error(&kiln_runtime::Error::Exception(
                        "TypeError: a WebSocket response needs the Socket call".into(),
                    ))),
                    ..FetchReply::default()
                },
                None,
            ),
        };
        Ok(Response::new(Box::pin(body_stream::send(head, body))))
    }

    type SocketStream = std::pin::Pin<
        Box<dyn futures_util::Stream<Item = Result<SocketFrame, Status>> + Send + 'static>,
    >;

    async fn socket(
        &self,
        request: Request<tonic::Streaming<SocketFrame>>,
    ) -> Result<Response<Self::SocketStream>, Status> {
        let mut incoming = request.into_inner();
        let first = incoming
            .message()
            .await?
            .ok_or_else(|| Status::invalid_argument("a socket stream starts with open"))?;
        let (to_caller, stream) = tunnel::outgoing(Ok);
        let opened = |reply: FetchReply| SocketFrame {
            kind: Some(socket_frame::Kind::Opened(reply)),
        };
        let open = match first.kind {
            Some(socket_frame::Kind::Open(open)) => open,
            Some(socket_frame::Kind::Reattach(moved)) => {
                self.reattach(moved, to_caller, incoming).await?;
                return Ok(Response::new(Box::pin(stream)));
            }
            _ => return Err(Status::invalid_argument("a socket stream starts with open")),
        };
        match self.run_fetch(open).await? {
            Fetched::Reply(reply) => {
                let _ = to_caller.send(opened(reply)).await;
            }
            // An upgrade the object refused: its answer goes back whole.
            Fetched::Response(mut head, body) => {
                match wire::collect(body).await {
                    Ok(body) => head.body = body.to_vec(),
                    Err(err) => head.error = Some(wire::call_error(&err)),
                }
                let _ = to_caller.send(opened(head)).await;
            }
            Fetched::Upgrade(reply, end) => {
                let _ = to_caller.send(opened(reply)).await;
                tokio::spawn(tunnel::pump(end, to_caller, incoming));
            }
        }
        Ok(Response::new(Box::pin(stream)))
    }

    async fn target(
        &self,
        request: Request<kiln_proto::cluster::TargetRequest>,
    ) -> Result<Response<CallReply>, Status> {
        let request = request.into_inner();
        let result = self
            .0
            .runtime
            .target_call(request.route, request.method, request.args)
            .await;
        Ok(Response::new(call_reply(result)))
    }

    async fn call(&self, request: Request<CallRequest>) -> Result<Response<CallReply>, Status> {
        let request = request.into_inner();
        let (target, worker) = match self.admit(request.object.as_ref())? {
            Ok(admitted) => admitted,
            Err(error) => {
                return Ok(Response::new(CallReply {
                    error: Some(error),
                    result: String::new(),
                }))
            }
        };
        let result = self
            .0
            .runtime
            .object_call_here(
                &worker,
                target,
                request.method,
                request.args,
                request.request_id.as_slice().try_into().ok(),
            )
            .await;
        Ok(Response::new(call_reply(result)))
    }
}

/// A call's outcome as the peer that made it reads it.
fn call_reply(result: Result<String, kiln_runtime::Error>) -> CallReply {
    match result {
        Ok(result) => CallReply {
            error: None,
            result,
        },
        Err(err) => CallReply {
            error: Some(wire::call_error(&err)),
            result: String::new(),
        },
    }
}

struct AdminService(Arc<Services>);

#[tonic::async_trait]
impl Admin for AdminService {
    async fn status(
        &self,
        _request: Request<StatusRequest>,
    ) -> Result<Response<StatusReply>, Status> {
        let groups = &self.0.groups;
        let shards = (0..groups.shard_count())
            .filter_map(|shard| {
                let raft = groups.raft(shard)?;
                let metrics = raft.metrics().borrow_watched().clone();
                Some(ShardStatus {
                    shard,
                    leader: metrics.current_leader,
                    term: metrics.current_term,
                    commit_index: metrics.local_committed.as_ref().map_or(0, |id| id.index),
                    applied_index: metrics.last_applied.as_ref().map_or(0, |id| id.index),
                    voters: groups.voters(shard).into_iter().collect(),
                    data_hash: groups
                        .tree(shard)
                        .and_then(|tree| tree.export().ok())
                        .map(|bytes| {
                            use sha2::Digest as _;
                            kiln_runtime::object::to_hex(&sha2::Sha256::digest(&bytes))
                        })
                        .unwrap_or_default(),
                })
            })
            .collect();
        Ok(Response::new(StatusReply {
            node_id: groups.node_id(),
            shards,
        }))
    }

    async fn join(
        &self,
        request: Request<JoinRequest>,
    ) -> Result<Response<MembershipReply>, Status> {
        let request = request.into_inner();
        if request.node_id == 0 {
            return Err(Status::invalid_argument("node ids are positive"));
        }
        let mut nodes = membership::current_nodes(&self.0.groups);
        nodes.insert(request.node_id, request.address);
        let changed = membership::rebalance(&self.0.groups, &self.0.peers, &nodes)
            .await
            .map_err(Status::unavailable)?;
        Ok(Response::new(MembershipReply { changed }))
    }

    async fn leave(
        &self,
        request: Request<LeaveRequest>,
    ) -> Result<Response<MembershipReply>, Status> {
        let request = request.into_inner();
        let mut nodes = membership::current_nodes(&self.0.groups);
        if nodes.remove(&request.node_id).is_none() {
            return Err(Status::not_found(format!(
                "node {} holds no shard",
                request.node_id
            )));
        }
        let changed = membership::rebalance(&self.0.groups, &self.0.peers, &nodes)
            .await
            .map_err(Status::unavailable)?;
        Ok(Response::new(MembershipReply { changed }))
    }

    async fn change_shard(
        &self,
        request: Request<ShardChange>,
    ) -> Result<Response<ShardChangeReply>, Status> {
        let request = request.into_inner();
        if request.shard >= self.0.groups.shard_count() {
            return Err(Status::invalid_argument("no such shard"));
        }
        let addresses: std::collections::BTreeMap<u64, String> =
            request.addresses.into_iter().collect();
        let voters = request.voters.into_iter().collect();
        let error = match self
            .0
            .groups
            .change_voters(request.shard, voters, &addresses)
            .await
        {
            Ok(_) => None,
            Err(ProposeError::NotLeader { leader, .. }) => Some(wire::not_leader(leader)),
            Err(ProposeError::Unknown(message)) => {
                Some(wire::call_error(&kiln_runtime::Error::Exception(message)))
            }
        };
        Ok(Response::new(ShardChangeReply { error }))
    }

    async fn init(&self, request: Request<InitRequest>) -> Result<Response<InitReply>, Status> {
        let request = request.into_inner();
        let groups = &self.0.groups;
        if request.shards.iter().any(|s| *s >= groups.shard_count()) {
            return Err(Status::invalid_argument("no such shard"));
        }
        let (mut initialized, elsewhere) = groups
            .initialize(&request.shards)
            .await
            .map_err(|err| Status::internal(err.to_string()))?;
        for (node, shards) in elsewhere {
            let Some(channel) = self.0.peers.admin(node) else {
                return Err(Status::internal(format!("node {node} is not a known peer")));
            };
            let mut client = channel;
            let reply = client
                .init(InitRequest { shards })
                .await
                .map_err(|err| Status::unavailable(format!("node {node}: {}", err.message())))?;
            initialized += reply.into_inner().initialized;
        }
        Ok(Response::new(InitReply { initialized }))
    }
}

/// Serves the peer services on `address` until the process ends.
pub async fn serve(
    address: SocketAddr,
    services: Arc<Services>,
    token: String,
) -> anyhow::Result<()> {
    let check = RequireToken(token);
    let raft = RaftServer::new(RaftService(Arc::clone(&services)))
        .max_decoding_message_size(PEER_MESSAGE_BYTES_MAX)
        .max_encoding_message_size(PEER_MESSAGE_BYTES_MAX);
    let objects = ObjectsServer::new(ObjectsService(Arc::clone(&services)))
        .max_decoding_message_size(PEER_MESSAGE_BYTES_MAX)
        .max_encoding_message_size(PEER_MESSAGE_BYTES_MAX);
    let admin = AdminServer::new(AdminService(services));
    tonic::transport::Server::builder()
        .add_service(InterceptedService::new(raft, check.clone()))
        .add_service(InterceptedService::new(objects, check.clone()))
        .add_service(InterceptedService::new(admin, check))
        .serve(address)
        .await?;
    Ok(())
}
