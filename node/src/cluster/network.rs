//! Raft traffic between nodes: openraft-multi's `GroupRouter` over the peers' gRPC channels,
//! one channel per peer shared by every shard group; each message names its group.
//!
//! Messages are openraft's own types as JSON; a snapshot travels as a JSON header and its raw
//! bytes. Guarantees: every call is bounded by openraft's timeout; a peer that cannot be reached
//! is reported `Unreachable` (openraft backs off), an error the peer answered is a network
//! error, never a panic.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use kiln_proto::cluster::{RaftReply, RaftRequest};
use openraft::error::{NetworkError, RPCError, ReplicationClosed, StreamingError, Unreachable};
use openraft::network::{RPCOption, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, TransferLeaderRequest,
    TransferLeaderResponse, VoteRequest, VoteResponse,
};
use openraft::OptionalSend;
use openraft_multi::{GroupNetworkAdapter, GroupNetworkFactory, GroupRouter};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::peers::Peers;
use super::types::{GroupId, NodeId, Snapshot, SnapshotData, SnapshotMeta, TypeConfig, Vote};

/// The JSON header of a snapshot message.
#[derive(Serialize, Deserialize)]
pub struct SnapshotHeader {
    pub vote: Vote,
    pub meta: SnapshotMeta,
}

/// Splits a snapshot message into its header and bytes.
pub fn decode_snapshot(payload: &[u8]) -> Result<(SnapshotHeader, Vec<u8>), String> {
    let head = payload.get(..4).ok_or("truncated snapshot message")?;
    let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let header = payload.get(4..4 + len).ok_or("truncated snapshot header")?;
    let header: SnapshotHeader = serde_json::from_slice(header).map_err(|e| e.to_string())?;
    Ok((header, payload[4 + len..].to_vec()))
}

fn encode_snapshot(header: &SnapshotHeader, bytes: &[u8]) -> Result<Vec<u8>, serde_json::Error> {
    let json = serde_json::to_vec(header)?;
    let mut payload = Vec::with_capacity(4 + json.len() + bytes.len());
    payload.extend_from_slice(&(json.len() as u32).to_be_bytes());
    payload.extend_from_slice(&json);
    payload.extend_from_slice(bytes);
    Ok(payload)
}

/// The router every group of this node sends through.
#[derive(Clone)]
pub struct Router {
    pub peers: Arc<Peers>,
}

impl Router {
    pub fn new(peers: Arc<Peers>) -> Router {
        Router { peers }
    }
}

#[derive(Clone, Copy)]
enum Rpc {
    Append,
    Vote,
    PreVote,
    Snapshot,
    TransferLeader,
}

fn unreachable(message: String) -> Unreachable<TypeConfig> {
    Unreachable::new(&std::io::Error::other(message))
}

fn network(message: String) -> NetworkError<TypeConfig> {
    NetworkError::new(&std::io::Error::other(message))
}

/// What went wrong with one call, before openraft's error types are chosen.
enum CallError {
    Unreachable(String),
    Network(String),
}

impl Router {
    async fn send(
        &self,
        target: NodeId,
        group: GroupId,
        rpc: Rpc,
        payload: Vec<u8>,
        timeout: Duration,
    ) -> Result<Vec<u8>, CallError> {
        let mut client = self
            .peers
            .raft(target)
            .ok_or_else(|| CallError::Unreachable(format!("node {target} is not a known peer")))?;
        let request = RaftRequest { group, payload };
        let call = async {
            match rpc {
                Rpc::Append => client.append_entries(request).await,
                Rpc::Vote => client.vote(request).await,
                Rpc::PreVote => client.pre_vote(request).await,
                Rpc::Snapshot => client.install_snapshot(request).await,
                Rpc::TransferLeader => client.transfer_leader(request).await,
            }
        };
        let reply: RaftReply = match tokio::time::timeout(timeout, call).await {
            Err(_) => return Err(CallError::Unreachable(format!("node {target} timed out"))),
            Ok(Err(status)) if status.code() == tonic::Code::Unavailable => {
                return Err(CallError::Unreachable(format!(
                    "node {target}: {}",
                    status.message()
                )))
            }
            Ok(Err(status)) => {
                return Err(CallError::Network(format!(
                    "node {target}: {}",
                    status.message()
                )))
            }
            Ok(Ok(reply)) => reply.into_inner(),
        };
        if !reply.error.is_empty() {
            return Err(CallError::Network(format!(
                "node {target}: {}",
                reply.error
            )));
        }
        Ok(reply.payload)
    }

    async fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        target: NodeId,
        group: GroupId,
        rpc: Rpc,
        request: &Req,
        option: &RPCOption,
    ) -> Result<Resp, RPCError<TypeConfig>> {
        let payload =
            serde_json::to_vec(request).map_err(|e| RPCError::Network(network(e.to_string())))?;
        let reply = self
            .send(target, group, rpc, payload, option.hard_ttl())
            .await
            .map_err(|err| match err {
                CallError::Unreachable(m) => RPCError::Unreachable(unreachable(m)),
                CallError::Network(m) => RPCError::Network(network(m)),
            })?;
        serde_json::from_slice(&reply).map_err(|e| RPCError::Network(network(e.to_string())))
    }
}

impl GroupRouter<TypeConfig, GroupId> for Router {
    type SnapshotData = SnapshotData;

    async fn append_entries(
        &self,
        target: NodeId,
        group_id: GroupId,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.call(target, group_id, Rpc::Append, &rpc, &option)
            .await
    }

    async fn vote(
        &self,
        target: NodeId,
        group_id: GroupId,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.call(target, group_id, Rpc::Vote, &rpc, &option).await
    }

    async fn pre_vote(
        &self,
        target: NodeId,
        group_id: GroupId,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.call(target, group_id, Rpc::PreVote, &rpc, &option)
            .await
    }

    async fn full_snapshot(
        &self,
        target: NodeId,
        group_id: GroupId,
        vote: Vote,
        snapshot: Snapshot,
        cancel: impl Future<Output = ReplicationClosed> + OptionalSend + 'static,
        option: RPCOption,
    ) -> Result<SnapshotResponse<TypeConfig>, StreamingError<TypeConfig>> {
        let header = SnapshotHeader {
            vote,
            meta: snapshot.meta.clone(),
        };
        let payload = encode_snapshot(&header, snapshot.snapshot.get_ref())
            .map_err(|e| StreamingError::Network(network(e.to_string())))?;
        let send = self.send(target, group_id, Rpc::Snapshot, payload, option.hard_ttl());
        let reply = tokio::select! {
            reply = send => reply,
            closed = cancel => return Err(StreamingError::Closed(closed)),
        };
        let reply = reply.map_err(|err| match err {
            CallError::Unreachable(m) => StreamingError::Unreachable(unreachable(m)),
            CallError::Network(m) => StreamingError::Network(network(m)),
        })?;
        serde_json::from_slice(&reply).map_err(|e| StreamingError::Network(network(e.to_string())))
    }

    async fn transfer_leader(
        &self,
        target: NodeId,
        group_id: GroupId,
        request: TransferLeaderRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<TransferLeaderResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.call(target, group_id, Rpc::TransferLeader, &request, &option)
            .await
    }
}

/// A group's network: the shared router and the group's number.
pub type NetworkFactory = GroupNetworkFactory<Router, GroupId>;

impl RaftNetworkFactory<TypeConfig> for NetworkFactory {
    type Network = GroupNetworkAdapter<TypeConfig, GroupId, Router>;

    async fn new_client(&mut self, target: NodeId, node: &openraft::BasicNode) -> Self::Network {
        // A membership may name a node this one was not configured with (it joined later).
        self.factory.peers.learn(target, &node.addr);
        GroupNetworkAdapter::new(self.factory.clone(), target, self.group_id)
    }
}
