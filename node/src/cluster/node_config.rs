//! A cluster node's own configuration: `kiln.toml`, every setting of which is also a flag and an
//! environment variable (flags and variables win over the file).
//!
//! ```toml
//! node_id = 1
//! http = "127.0.0.1:8787"          # where Workers are served
//! listen = "127.0.0.1:7001"        # where peers reach this node (gRPC)
//! data_dir = "data/node1"
//! cluster_key = "a shared secret of at least 16 characters"
//! shards = 64                       # fixed at the first start
//! [peers]                           # every node of the cluster, this one included
//! 1 = "127.0.0.1:7001"
//! 2 = "127.0.0.1:7002"
//! 3 = "127.0.0.1:7003"
//! ```
//!
//! Guarantees: a configuration that cannot work (no node id, a node missing from its own peers,
//! a short key, a shard count out of range) is refused with what is wrong and, for the file,
//! where; a data directory keeps the cluster's identity, and a node started on one with another
//! cluster key, node id or shard count refuses to start.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Shards when the configuration names none (the cluster design's default).
pub const SHARDS_DEFAULT: u32 = 64;
/// The most shards a cluster may have: each is a Raft group in every replica's process.
pub const SHARDS_MAX: u32 = 1024;
/// The shortest cluster key accepted.
pub const CLUSTER_KEY_CHARS_MIN: usize = 16;
/// The file in a data directory that records which cluster and node it belongs to.
const IDENTITY_FILE: &str = "cluster-identity.json";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    File(#[from] crate::config::Error),
    #[error("{0}")]
    Invalid(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// `kiln.toml` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeFile {
    pub node_id: Option<u64>,
    pub http: Option<SocketAddr>,
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub cluster_key: Option<String>,
    pub shards: Option<u32>,
    #[serde(default)]
    pub peers: BTreeMap<String, String>,
}

/// Settings given as flags or environment variables; each overrides the file's.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct NodeFlags {
    /// The node's configuration file.
    #[arg(long, value_name = "PATH", env = "KILN_CONFIG")]
    pub config: Option<PathBuf>,
    /// This node's id (a positive integer, unique in the cluster).
    #[arg(long, env = "KILN_NODE_ID")]
    pub node_id: Option<u64>,
    /// Where Workers are served over HTTP.
    #[arg(long, env = "KILN_HTTP")]
    pub http: Option<SocketAddr>,
    /// Where peers reach this node (gRPC).
    #[arg(long, env = "KILN_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Where the node keeps its Raft logs and object data.
    #[arg(long, env = "KILN_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The secret every node of the cluster shares.
    #[arg(long, env = "KILN_CLUSTER_KEY", hide_env_values = true)]
    pub cluster_key: Option<String>,
    /// Shards of the object id space (fixed when the cluster is first started).
    #[arg(long, env = "KILN_SHARDS")]
    pub shards: Option<u32>,
    /// Token for the upload API (dispatch namespaces); the API is off without one.
    #[arg(long, env = "KILN_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// A node of the cluster, as ID=HOST:PORT (repeat, or comma-separate in KILN_PEERS).
    #[arg(
        long = "peer",
        value_name = "ID=ADDR",
        env = "KILN_PEERS",
        value_delimiter = ','
    )]
    pub peers: Vec<String>,
}

/// A node's settings, checked.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub node_id: u64,
    pub http: SocketAddr,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub cluster_key: String,
    pub shards: u32,
    /// Every node, this one included: `host:port` (a name or an address).
    pub peers: BTreeMap<u64, String>,
}

impl NodeConfig {
    /// The file (if any) overlaid with the flags, checked.
    pub fn resolve(flags: &NodeFlags) -> Result<NodeConfig, ConfigError> {
        let file = match &flags.config {
            Some(path) => read_file(path)?,
            None => NodeFile::default(),
        };
        let invalid = |message: String| ConfigError::Invalid(message);
        let node_id = flags
            .node_id
            .or(file.node_id)
            .ok_or_else(|| invalid("no node id: set node_id, --node-id or KILN_NODE_ID".into()))?;
        if node_id == 0 {
            return Err(invalid("the node id must be a positive integer".into()));
        }
        let mut peers = BTreeMap::new();
        for (id, address) in &file.peers {
            let id: u64 = id
                .parse()
                .map_err(|_| invalid(format!("peers: {id:?} is not a node id")))?;
            peers.insert(id, check_peer(address).map_err(invalid)?);
        }
        if !flags.peers.is_empty() {
            peers.clear();
            for peer in &flags.peers {
                let (id, address) = peer
                    .split_once('=')
                    .ok_or_else(|| invalid(format!("--peer {peer:?}: expected ID=HOST:PORT")))?;
                let id: u64 = id
                    .trim()
                    .parse()
                    .map_err(|_| invalid(format!("--peer {peer:?}: {id:?} is not a node id")))?;
                let address = check_peer(address.trim()).map_err(|_| {
                    invalid(format!("--peer {peer:?}: {address:?} is not HOST:PORT"))
                })?;
                peers.insert(id, address);
            }
        }
        let listen = flags
            .listen
            .or(file.listen)
            .or_else(|| peers.get(&node_id).and_then(|a| a.parse().ok()))
            .ok_or_else(|| {
                invalid("no peer address: set listen, --listen or KILN_LISTEN".into())
            })?;
        peers.entry(node_id).or_insert_with(|| listen.to_string());
        if peers.contains_key(&0) {
            return Err(invalid("node ids must be positive integers".into()));
        }
        let cluster_key = flags
            .cluster_key
            .clone()
            .or(file.cluster_key)
            .ok_or_else(|| {
                invalid("no cluster key: set cluster_key, --cluster-key or KILN_CLUSTER_KEY".into())
            })?;
        if cluster_key.chars().count() < CLUSTER_KEY_CHARS_MIN {
            return Err(invalid(format!(
                "the cluster key must be at least {CLUSTER_KEY_CHARS_MIN} characters"
            )));
        }
        let shards = flags.shards.or(file.shards).unwrap_or(SHARDS_DEFAULT);
        if !(1..=SHARDS_MAX).contains(&shards) {
            return Err(invalid(format!(
                "shards must be between 1 and {SHARDS_MAX}"
            )));
        }
        Ok(NodeConfig {
            node_id,
            http: flags
                .http
                .or(file.http)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8787))),
            listen,
            data_dir: flags
                .data_dir
                .clone()
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from(format!("kiln-data-{node_id}"))),
            cluster_key,
            shards,
            peers,
        })
    }

    /// A fingerprint of the cluster key (never the key itself), to recognise the cluster.
    pub fn cluster_fingerprint(&self) -> String {
        let digest = Sha256::digest(format!("kiln cluster {}", self.cluster_key).as_bytes());
        kiln_runtime::object::to_hex(&digest[..16])
    }

    /// Creates the data directory, or checks that it belongs to this node of this cluster.
    pub fn claim_data_dir(&self) -> Result<(), ConfigError> {
        let io = |path: &Path, source| ConfigError::Io {
            path: path.to_owned(),
            source,
        };
        std::fs::create_dir_all(&self.data_dir).map_err(|e| io(&self.data_dir, e))?;
        let path = self.data_dir.join(IDENTITY_FILE);
        let mine = Identity {
            cluster: self.cluster_fingerprint(),
            node_id: self.node_id,
            shards: self.shards,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let found: Identity = serde_json::from_str(&text).map_err(|err| {
                    ConfigError::Invalid(format!(
                        "{}: not a Kiln data directory ({err})",
                        path.display()
                    ))
                })?;
                if found.cluster != mine.cluster {
                    return Err(ConfigError::Invalid(format!(
                        "{} belongs to another cluster: the cluster key does not match the one it was created with",
                        self.data_dir.display()
                    )));
                }
                if found.node_id != mine.node_id {
                    return Err(ConfigError::Invalid(format!(
                        "{} belongs to node {}, not node {}",
                        self.data_dir.display(),
                        found.node_id,
                        mine.node_id
                    )));
                }
                if found.shards != mine.shards {
                    return Err(ConfigError::Invalid(format!(
                        "{} was created with {} shards; the shard count cannot change (configured: {})",
                        self.data_dir.display(),
                        found.shards,
                        mine.shards
                    )));
                }
                Ok(())
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let text = serde_json::to_string_pretty(&mine)
                    .map_err(|err| ConfigError::Invalid(err.to_string()))?;
                write_synced(&path, text.as_bytes()).map_err(|e| io(&path, e))
            }
            Err(err) => Err(io(&path, err)),
        }
    }
}

/// A peer address: `host:port`, the host a name or an address.
fn check_peer(address: &str) -> Result<String, String> {
    let (host, port) = address
        .rsplit_once(':')
        .ok_or_else(|| format!("peer address {address:?} is not HOST:PORT"))?;
    if host.is_empty() || port.parse::<u16>().is_err() {
        return Err(format!("peer address {address:?} is not HOST:PORT"));
    }
    Ok(address.to_owned())
}

#[derive(Debug, Serialize, Deserialize)]
struct Identity {
    cluster: String,
    node_id: u64,
    shards: u32,
}

fn read_file(path: &Path) -> Result<NodeFile, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_owned(),
        source,
    })?;
    toml::from_str(&text).map_err(|err| crate::config::toml_error(path, &text, err).into())
}

/// Writes a small file and fsyncs it and its directory.
fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut file = std::fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(config: Option<PathBuf>) -> NodeFlags {
        NodeFlags {
            config,
            ..NodeFlags::default()
        }
    }

    #[test]
    fn flags_override_the_file_and_errors_name_the_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("kiln.toml");
        std::fs::write(
            &path,
            "node_id = 2\ncluster_key = \"0123456789abcdef\"\n[peers]\n1 = \"127.0.0.1:7001\"\n2 = \"127.0.0.1:7002\"\n",
        )
        .expect("write");
        let mut given = flags(Some(path.clone()));
        given.shards = Some(8);
        let config = NodeConfig::resolve(&given).expect("valid");
        assert_eq!(config.node_id, 2);
        assert_eq!(config.shards, 8);
        assert_eq!(config.listen, "127.0.0.1:7002".parse().expect("addr"));
        assert_eq!(config.peers.len(), 2);

        std::fs::write(&path, "node_id = 1\nshards = \"many\"\n").expect("write");
        let err = NodeConfig::resolve(&flags(Some(path.clone()))).expect_err("a type error");
        assert!(err.to_string().contains("kiln.toml:2:"), "{err}");
        std::fs::write(&path, "node_id = 1\nshard = 3\n").expect("write");
        let err = NodeConfig::resolve(&flags(Some(path))).expect_err("an unknown key");
        assert!(err.to_string().contains("unknown field"), "{err}");
    }

    #[test]
    fn a_data_dir_refuses_another_cluster_or_node() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut given = NodeFlags {
            node_id: Some(1),
            listen: Some("127.0.0.1:7001".parse().expect("addr")),
            data_dir: Some(dir.path().join("data")),
            cluster_key: Some("0123456789abcdef".into()),
            ..NodeFlags::default()
        };
        NodeConfig::resolve(&given)
            .expect("valid")
            .claim_data_dir()
            .expect("new dir");
        NodeConfig::resolve(&given)
            .expect("valid")
            .claim_data_dir()
            .expect("same node");
        given.cluster_key = Some("fedcba9876543210".into());
        let err = NodeConfig::resolve(&given)
            .expect("valid")
            .claim_data_dir()
            .expect_err("other key");
        assert!(
            err.to_string().contains("cluster key does not match"),
            "{err}"
        );
        given.cluster_key = Some("0123456789abcdef".into());
        given.node_id = Some(2);
        let err = NodeConfig::resolve(&given)
            .expect("valid")
            .claim_data_dir()
            .expect_err("other node");
        assert!(err.to_string().contains("belongs to node 1"), "{err}");
        given.cluster_key = Some("short".into());
        assert!(NodeConfig::resolve(&given).is_err());
    }
}
