//! The cluster harness: starts N real `kiln serve` processes on 127.0.0.1 with their own data
//! directories, forms the cluster with `kiln cluster init`, and can kill -9 and restart nodes.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::util::{self, Node};

pub const CLUSTER_KEY: &str = "kiln-test-cluster-key-0123456789";
/// The upload API's token on every node.
pub const ADMIN_TOKEN: &str = "kiln-test-admin-token";
/// How long the cluster may take to elect leaders for every shard.
const FORMATION_TIMEOUT: Duration = Duration::from_secs(30);

/// One row of `kiln cluster status`: (shard, leader, term, commit index, applied index).
pub type ShardRow = (u32, Option<u64>, u64, u64, u64);

pub struct Cluster {
    pub worker: PathBuf,
    pub shards: u32,
    pub state: tempfile::TempDir,
    /// Peer (gRPC) ports by node id (index 0 is node 1).
    pub peer_ports: Vec<u16>,
    pub http_ports: Vec<u16>,
    /// Running nodes; `None` once killed (or not started yet, for spares).
    pub nodes: Vec<Option<Node>>,
    /// How many nodes the first nodes' configurations list (spares come after them).
    pub founders: usize,
    /// Environment variables every node starts with.
    pub env: Vec<(String, String)>,
}

/// Where the harness's ports start: below Linux's ephemeral range (32768 and up), which the
/// OS hands out both for `bind(0)` and as the source port of every outgoing connection. A
/// port taken from that range and bound again later by a node could meanwhile have become the
/// source port of some connection (the nodes' own peer connections, for one), and the node
/// would fail to start.
const PORT_BASE: u16 = 20_000;
/// Ports the harness may use, from `PORT_BASE`.
const PORT_SPAN: u16 = 12_000;

/// A port nobody listens on right now, outside the ephemeral range, never the same twice in
/// one test process (each test process starts at a different place, by its pid).
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let span = u32::from(PORT_SPAN);
    let start = std::process::id() % span;
    for _ in 0..span {
        let offset = (start + NEXT.fetch_add(1, Ordering::Relaxed)) % span;
        let port = PORT_BASE + offset as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!(
        "no free port between {PORT_BASE} and {}",
        PORT_BASE + PORT_SPAN
    );
}

impl Cluster {
    /// Starts `size` nodes serving the worker in `worker` and forms the cluster.
    pub fn start(worker: &Path, size: usize, shards: u32) -> Cluster {
        Cluster::start_with_spares(worker, size, 0, shards)
    }

    /// Starts `size` nodes and forms the cluster; `spares` more nodes get ports and ids (after
    /// the founders') but are not started: [`Cluster::start_spare`] starts one, to join.
    pub fn start_with_spares(worker: &Path, size: usize, spares: usize, shards: u32) -> Cluster {
        Cluster::start_with_env(worker, size, spares, shards, &[])
    }

    /// As [`Cluster::start_with_spares`], every node with the environment variables `env`.
    pub fn start_with_env(
        worker: &Path,
        size: usize,
        spares: usize,
        shards: u32,
        env: &[(&str, &str)],
    ) -> Cluster {
        let total = size + spares;
        let mut cluster = Cluster {
            worker: worker.to_owned(),
            shards,
            state: tempfile::tempdir().expect("tempdir"),
            peer_ports: (0..total).map(|_| free_port()).collect(),
            http_ports: (0..total).map(|_| free_port()).collect(),
            nodes: Vec::new(),
            founders: size,
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        };
        for id in 1..=size as u64 {
            let node = cluster.spawn(id);
            cluster.nodes.push(Some(node));
        }
        cluster.nodes.extend((0..spares).map(|_| None));
        let (ok, output) = util::run_to_exit({
            let mut command = util::kiln();
            command.args([
                "cluster",
                "init",
                "--node",
                &format!("127.0.0.1:{}", cluster.peer_ports[0]),
                "--cluster-key",
                CLUSTER_KEY,
            ]);
            command
        });
        assert!(ok, "cluster init failed: {output}");
        cluster.wait_for_preferred_leaders();
        cluster
    }

    /// Starts node `id` (1-based) with its data directory.
    pub fn spawn(&self, id: u64) -> Node {
        let index = (id - 1) as usize;
        let mut command = util::kiln();
        command
            .arg("serve")
            .arg(&self.worker)
            .args(["--node-id", &id.to_string()])
            .args(["--http", &format!("127.0.0.1:{}", self.http_ports[index])])
            .args(["--listen", &format!("127.0.0.1:{}", self.peer_ports[index])])
            .arg("--data-dir")
            .arg(self.state.path().join(format!("node{id}")))
            .args(["--cluster-key", CLUSTER_KEY])
            .args(["--admin-token", ADMIN_TOKEN])
            .args(["--shards", &self.shards.to_string()])
            .args(["--threads", "1"])
            .env(
                "KILN_OWNERSHIP_LOG",
                self.state.path().join(format!("ownership-{id}.log")),
            )
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        // Founders know each other; a spare knows everyone up to itself.
        let known = self.founders.max(id as usize);
        for (i, port) in self.peer_ports.iter().take(known).enumerate() {
            command.args(["--peer", &format!("{}=127.0.0.1:{port}", i + 1)]);
        }
        util::start(command)
    }

    /// Starts spare node `id` (it holds nothing until it joins).
    pub fn start_spare(&mut self, id: u64) {
        let node = self.spawn(id);
        self.nodes[(id - 1) as usize] = Some(node);
    }

    /// Runs `kiln cluster ARGS` against node `via`; returns (success, output).
    pub fn admin(&self, via: u64, args: &[&str]) -> (bool, String) {
        util::run_to_exit({
            let mut command = util::kiln();
            command
                .arg("cluster")
                .args(args)
                .args([
                    "--node",
                    &format!("127.0.0.1:{}", self.peer_ports[(via - 1) as usize]),
                ])
                .args(["--cluster-key", CLUSTER_KEY]);
            command
        })
    }

    /// The voters of every shard, each as the running node with the newest view of it (the
    /// highest commit index) sees them: a node removed from a shard stops hearing of it.
    pub fn voters(&self) -> Vec<Vec<u64>> {
        let mut best: Vec<(u64, Vec<u64>)> = vec![(0, Vec::new()); self.shards as usize];
        for id in self.alive() {
            let (ok, output) = self.admin(id, &["status"]);
            assert!(ok, "{output}");
            for line in output.lines() {
                let cells: Vec<&str> = line.split_whitespace().collect();
                let (Some(Ok(shard)), Some(Ok(commit)), Some(voters)) = (
                    cells.first().map(|c| c.parse::<usize>()),
                    cells.get(3).map(|c| c.parse::<u64>()),
                    cells.get(5),
                ) else {
                    continue;
                };
                if shard < best.len() && commit >= best[shard].0 {
                    best[shard] = (
                        commit,
                        voters.split(',').filter_map(|v| v.parse().ok()).collect(),
                    );
                }
            }
        }
        best.into_iter().map(|(_, voters)| voters).collect()
    }

    pub fn kill9(&mut self, id: u64) {
        if let Some(node) = self.nodes[(id - 1) as usize].take() {
            node.kill9();
        }
    }

    /// Sends node `id` a signal by name (`STOP`, `CONT`), as `kill -NAME` does.
    pub fn signal(&self, id: u64, name: &str) {
        if let Some(node) = &self.nodes[(id - 1) as usize] {
            let status = std::process::Command::new("kill")
                .arg(format!("-{name}"))
                .arg(node.pid().to_string())
                .status()
                .expect("run kill");
            assert!(status.success(), "kill -{name} failed");
        }
    }

    pub fn restart(&mut self, id: u64) {
        let node = self.spawn(id);
        self.nodes[(id - 1) as usize] = Some(node);
    }

    pub fn http_port(&self, id: u64) -> u16 {
        self.http_ports[(id - 1) as usize]
    }

    pub fn alive(&self) -> Vec<u64> {
        (1..=self.nodes.len() as u64)
            .filter(|id| self.nodes[(*id - 1) as usize].is_some())
            .collect()
    }

    /// `kiln cluster status` of node `id`, as rows of (shard, leader, term, commit, applied).
    pub fn status(&self, id: u64) -> Option<Vec<ShardRow>> {
        let (ok, output) = util::run_to_exit({
            let mut command = util::kiln();
            command.args([
                "cluster",
                "status",
                "--node",
                &format!("127.0.0.1:{}", self.peer_ports[(id - 1) as usize]),
                "--cluster-key",
                CLUSTER_KEY,
            ]);
            command
        });
        if !ok {
            return None;
        }
        let rows = output
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.split_whitespace().collect();
                let shard = cells.first()?.parse().ok()?;
                let leader = cells.get(1)?.parse().ok();
                let term = cells.get(2)?.parse().ok()?;
                let commit = cells.get(3)?.parse().ok()?;
                let applied = cells.get(4)?.parse().ok()?;
                Some((shard, leader, term, commit, applied))
            })
            .collect();
        Some(rows)
    }

    /// Waits until every shard is led by its preferred node (the rotation the nodes balance
    /// toward), so tests do not race a leadership hand-over.
    pub fn wait_for_preferred_leaders(&self) {
        let size = self.founders as u64;
        let deadline = Instant::now() + FORMATION_TIMEOUT;
        loop {
            let leaders = self.wait_for_leaders(1);
            let balanced = leaders
                .iter()
                .enumerate()
                .all(|(shard, leader)| *leader == shard as u64 % size + 1);

            if balanced {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "leaders did not settle: {leaders:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until node `via` sees a leader for every shard; returns the leaders.
    pub fn wait_for_leaders(&self, via: u64) -> Vec<u64> {
        let deadline = Instant::now() + FORMATION_TIMEOUT;
        loop {
            if let Some(rows) = self.status(via) {
                let leaders: Vec<u64> = rows
                    .iter()
                    .filter_map(|row| row.1)
                    .filter(|leader| self.nodes[(*leader - 1) as usize].is_some())
                    .collect();
                if rows.len() == self.shards as usize && leaders.len() == rows.len() {
                    return leaders;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the cluster elected no leader for some shard"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Cluster {
    /// The single-owner check over every node's ownership log (`KILN_OWNERSHIP_LOG`): for each
    /// object, no output released in an older term after one released in a newer term, and no
    /// term with outputs on two nodes. Returns (outputs checked, violations).
    pub fn ownership_violations(&self) -> (usize, Vec<String>) {
        let logs: Vec<(u64, String)> = (1..=self.nodes.len() as u64)
            .map(|node| {
                let path = self.state.path().join(format!("ownership-{node}.log"));
                (node, std::fs::read_to_string(path).unwrap_or_default())
            })
            .collect();
        check_ownership(&logs)
    }
}

/// The single-owner check over (node, ownership log text) pairs; see
/// [`Cluster::ownership_violations`].
pub fn check_ownership(logs: &[(u64, String)]) -> (usize, Vec<String>) {
    // object -> (µs, node, term)
    let mut outputs: std::collections::BTreeMap<String, Vec<(u128, u64, u64)>> =
        std::collections::BTreeMap::new();
    let mut count = 0;
    for (node, text) in logs {
        for line in text.lines() {
            let cells: Vec<&str> = line.split(' ').collect();
            // A line cut short by kill -9 is skipped.
            let (Some(Ok(at)), Some(object), Some(Ok(term))) = (
                cells.first().map(|c| c.parse::<u128>()),
                cells.get(1),
                cells.get(3).map(|c| c.parse::<u64>()),
            ) else {
                continue;
            };
            count += 1;
            outputs
                .entry((*object).to_owned())
                .or_default()
                .push((at, *node, term));
        }
    }
    let mut violations = Vec::new();
    for (object, mut events) in outputs {
        events.sort();
        let mut term_owner: std::collections::BTreeMap<u64, u64> =
            std::collections::BTreeMap::new();
        let mut newest = 0u64;
        for (at, node, term) in events {
            if let Some(owner) = term_owner.insert(term, node) {
                if owner != node {
                    violations.push(format!(
                        "object {object}: term {term} released output on nodes {owner} and {node}"
                    ));
                }
            }
            if term < newest {
                violations.push(format!(
                    "object {object}: node {node} released output of term {term} at {at} µs, after term {newest}"
                ));
            }
            newest = newest.max(term);
        }
    }
    (count, violations)
}

#[test]
fn the_single_owner_check_finds_stale_and_doubled_terms() {
    let good = vec![
        (1, "100 aa 0 3\n200 aa 0 3\n".to_owned()),
        (2, "300 aa 0 4\n400 bb 0 4\n".to_owned()),
    ];
    assert_eq!(check_ownership(&good), (4, Vec::new()));
    let stale = vec![
        (1, "100 aa 0 3\n500 aa 0 3\n".to_owned()),
        (2, "300 aa 0 4\n".to_owned()),
    ];
    assert_eq!(check_ownership(&stale).1.len(), 1, "term 3 after term 4");
    let doubled = vec![
        (1, "100 aa 0 3\n".to_owned()),
        (2, "200 aa 0 3\ncut".to_owned()),
    ];
    assert_eq!(
        check_ownership(&doubled),
        (
            2,
            vec!["object aa: term 3 released output on nodes 1 and 2".to_owned()]
        )
    );
}
