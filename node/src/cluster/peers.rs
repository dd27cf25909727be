//! Connections to the other nodes: one lazily connected gRPC channel per peer, every call
//! carrying the cluster's peer token, and the check of that token on the receiving side.
//!
//! The token is a hash of the cluster key, never the key itself. A call without it, or with
//! another cluster's, is refused with `Unauthenticated` and logged with the caller's address.

use std::collections::BTreeMap;
use std::time::Duration;

use kiln_proto::cluster::admin_client::AdminClient;
use kiln_proto::cluster::objects_client::ObjectsClient;
use kiln_proto::cluster::raft_client::RaftClient;
use sha2::{Digest, Sha256};
use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

use super::node_config::NodeConfig;

/// The metadata key the peer token travels in.
pub const TOKEN_HEADER: &str = "x-kiln-cluster-token";
/// How long a connection attempt to a peer may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// The largest message a node accepts from a peer (an object call's body plus headers).
pub const PEER_MESSAGE_BYTES_MAX: usize = 40 * 1024 * 1024;

/// The token peers of one cluster present to each other.
pub fn peer_token(cluster_key: &str) -> String {
    let digest = Sha256::digest(format!("kiln peer token {cluster_key}").as_bytes());
    kiln_runtime::object::to_hex(&digest)
}

/// Adds the peer token to every outgoing call.
#[derive(Clone)]
pub struct WithToken(MetadataValue<tonic::metadata::Ascii>);

impl tonic::service::Interceptor for WithToken {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        request.metadata_mut().insert(TOKEN_HEADER, self.0.clone());
        Ok(request)
    }
}

/// Refuses incoming calls without this cluster's token.
#[derive(Clone)]
pub struct RequireToken(pub String);

impl tonic::service::Interceptor for RequireToken {
    fn call(&mut self, request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let presented = request
            .metadata()
            .get(TOKEN_HEADER)
            .and_then(|v| v.to_str().ok());
        if presented == Some(self.0.as_str()) {
            return Ok(request);
        }
        let from = request
            .remote_addr()
            .map_or_else(|| "unknown".to_owned(), |a| a.to_string());
        tracing::warn!(target: "kiln::cluster", %from, "refused a peer call without the cluster key");
        Err(tonic::Status::unauthenticated(
            "not a member of this cluster",
        ))
    }
}

type Intercepted = InterceptedService<Channel, WithToken>;

/// Channels to every peer: those the configuration names, and those the shard groups'
/// memberships name (a node that joined after this one started).
pub struct Peers {
    me: u64,
    channels: std::sync::RwLock<BTreeMap<u64, (String, Channel)>>,
    token: WithToken,
}

impl Peers {
    pub fn new(
        config: &NodeConfig,
    ) -> Result<Peers, tonic::metadata::errors::InvalidMetadataValue> {
        let token = WithToken(peer_token(&config.cluster_key).parse()?);
        let channels = config
            .peers
            .iter()
            .filter(|(id, _)| **id != config.node_id)
            .filter_map(|(id, address)| Some((*id, (address.clone(), channel(address)?))))
            .collect();
        Ok(Peers {
            me: config.node_id,
            channels: std::sync::RwLock::new(channels),
            token,
        })
    }

    /// Learns (or updates) where node `id` is reached.
    pub fn learn(&self, id: u64, address: &str) {
        if id == self.me {
            return;
        }
        let mut channels = self.channels.write().unwrap_or_else(|p| p.into_inner());
        if channels.get(&id).is_some_and(|(known, _)| known == address) {
            return;
        }
        if let Some(new) = channel(address) {
            channels.insert(id, (address.to_owned(), new));
        }
    }

    /// Every peer this node knows, by id.
    pub fn ids(&self) -> Vec<u64> {
        let channels = self.channels.read().unwrap_or_else(|p| p.into_inner());
        channels.keys().copied().collect()
    }

    /// Where node `id` is reached, if known.
    pub fn address(&self, id: u64) -> Option<String> {
        let channels = self.channels.read().unwrap_or_else(|p| p.into_inner());
        channels.get(&id).map(|(address, _)| address.clone())
    }

    fn channel_to(&self, node: u64) -> Option<Channel> {
        let channels = self.channels.read().unwrap_or_else(|p| p.into_inner());
        channels.get(&node).map(|(_, channel)| channel.clone())
    }

    pub fn objects(&self, node: u64) -> Option<ObjectsClient<Intercepted>> {
        let channel = self.channel_to(node)?;
        Some(
            ObjectsClient::with_interceptor(channel, self.token.clone())
                .max_decoding_message_size(PEER_MESSAGE_BYTES_MAX)
                .max_encoding_message_size(PEER_MESSAGE_BYTES_MAX),
        )
    }

    pub fn admin(&self, node: u64) -> Option<AdminClient<Intercepted>> {
        let channel = self.channel_to(node)?;
        Some(AdminClient::with_interceptor(channel, self.token.clone()))
    }

    pub fn raft(&self, node: u64) -> Option<RaftClient<Intercepted>> {
        let channel = self.channel_to(node)?;
        Some(
            RaftClient::with_interceptor(channel, self.token.clone())
                .max_decoding_message_size(PEER_MESSAGE_BYTES_MAX)
                .max_encoding_message_size(PEER_MESSAGE_BYTES_MAX),
        )
    }
}

/// HTTP/2 pings on every peer connection, and how long an unanswered one may wait before the
/// connection counts as dead.
const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(1);
const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(2);

/// A lazily connected channel to `address` (`host:port`; a name is resolved on connect).
pub fn channel(address: &str) -> Option<Channel> {
    let endpoint = Endpoint::from_shared(format!("http://{address}")).ok()?;
    Some(
        endpoint
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            // A peer cut off by the network (no reset, no answer) is found out within
            // seconds, so calls waiting on it fail and the next ones go to the new owner.
            .http2_keep_alive_interval(KEEP_ALIVE_INTERVAL)
            .keep_alive_timeout(KEEP_ALIVE_TIMEOUT)
            .keep_alive_while_idle(true)
            .connect_lazy(),
    )
}

/// An admin client for the command line (`kiln cluster status`).
pub fn admin_at(address: &str, cluster_key: &str) -> anyhow::Result<AdminClient<Intercepted>> {
    let channel = channel(address).ok_or_else(|| anyhow::anyhow!("bad address {address}"))?;
    let token = WithToken(peer_token(cluster_key).parse()?);
    Ok(AdminClient::with_interceptor(channel, token))
}
