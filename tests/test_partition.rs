//! A network partition that cuts a shard's owner off from the other two nodes, with real network
//! namespaces and veth pairs (root only; the test says loudly that it skipped otherwise). Each
//! node lives in its own namespace with two links: one to the peers' network (Raft and object
//! calls) and one to the clients' network (HTTP), so a client can still reach the cut-off node.
//!
//! Proven: the majority elects a new owner and keeps acknowledging writes; the cut-off former
//! owner stops answering (its leader lease runs out) instead of serving a stale value; after
//! the partition heals it catches up, every acknowledged increment is there, and the replicas
//! hold the same data.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::util;

const CLUSTER_KEY: &str = "partition-test-key";
const PEER_PORT: u16 = 7001;
const HTTP_PORT: u16 = 8787;
/// Longest wait for one HTTP answer (a cut-off node may hold a call until its deadline).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);
/// The timeout of the probe that measures how soon the majority acknowledges writes again.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

const WORKER: &str = r#"
import { DurableObject } from "cloudflare:workers";
export class Counter extends DurableObject {
  async inc() { const n = ((await this.ctx.storage.get("n")) ?? 0) + 1; await this.ctx.storage.put("n", n); return n; }
  async value() { return (await this.ctx.storage.get("n")) ?? 0; }
}
export default {
  async fetch(request, env) {
    const counter = env.COUNTERS.getByName("hot");
    return Response.json(request.method === "POST" ? await counter.inc() : await counter.value());
  },
};
"#;

/// The namespaces, bridges and links of one test, removed on drop (after the nodes are gone).
struct Net {
    tag: String,
    namespaces: Vec<String>,
}

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .status()
        .is_ok_and(|s| s.success())
}

/// Adds (`-I`) or removes (`-D`) a rule accepting packets forwarded within `bridge`, where
/// iptables exists (without it nothing filters them).
fn iptables_forward(action: &str, bridge: &str) {
    let _ = Command::new("iptables")
        .args([
            action, "FORWARD", "-i", bridge, "-o", bridge, "-j", "ACCEPT",
        ])
        .stderr(std::process::Stdio::null())
        .status();
}

impl Net {
    /// Two bridges (peers: 10.231.0.0/24, clients: 10.232.0.0/24) and `size` namespaces, node
    /// i at 10.231.0.i and 10.232.0.i. None if this machine cannot make them.
    fn create(size: usize) -> Option<Net> {
        let tag = format!("{}", std::process::id() % 100_000);
        let mut net = Net {
            tag: tag.clone(),
            namespaces: Vec::new(),
        };
        for (bridge, subnet) in [("p", "10.231.0"), ("h", "10.232.0")] {
            let name = format!("kb{bridge}{tag}");
            if !(ip(&["link", "add", &name, "type", "bridge"])
                && ip(&["addr", "add", &format!("{subnet}.254/24"), "dev", &name])
                && ip(&["link", "set", &name, "up"]))
            {
                return None;
            }
            // A machine whose firewall drops forwarded packets (Docker sets the FORWARD
            // policy to DROP, and bridged frames pass it) lets this bridge's through.
            iptables_forward("-I", &name);
        }
        for i in 1..=size {
            let ns = format!("kiln{tag}n{i}");
            if !ip(&["netns", "add", &ns]) {
                return None;
            }
            net.namespaces.push(ns.clone());
            ip(&["-n", &ns, "link", "set", "lo", "up"]);
            for (bridge, subnet) in [("p", "10.231.0"), ("h", "10.232.0")] {
                let host = format!("kv{bridge}{tag}n{i}");
                let inside = format!("e{bridge}");
                let ok = ip(&[
                    "link", "add", &host, "type", "veth", "peer", "name", &inside, "netns", &ns,
                ]) && ip(&["link", "set", &host, "master", &format!("kb{bridge}{tag}")])
                    && ip(&["link", "set", &host, "up"])
                    && ip(&[
                        "-n",
                        &ns,
                        "addr",
                        "add",
                        &format!("{subnet}.{i}/24"),
                        "dev",
                        &inside,
                    ])
                    && ip(&["-n", &ns, "link", "set", &inside, "up"]);
                if !ok {
                    return None;
                }
            }
        }
        Some(net)
    }

    /// Cuts node i's link to its peers (or heals it).
    fn peers_link(&self, node: usize, up: bool) {
        let host = format!("kvp{}n{node}", self.tag);
        assert!(
            ip(&["link", "set", &host, if up { "up" } else { "down" }]),
            "ip link set {host}"
        );
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for ns in &self.namespaces {
            ip(&["netns", "del", ns]);
        }
        for bridge in ["p", "h"] {
            let name = format!("kb{bridge}{}", self.tag);
            iptables_forward("-D", &name);
            ip(&["link", "del", &name]);
        }
    }
}

fn peer_addr(node: usize) -> String {
    format!("10.231.0.{node}:{PEER_PORT}")
}

fn http_addr(node: usize) -> SocketAddr {
    SocketAddr::from(([10, 232, 0, node as u8], HTTP_PORT))
}

/// A request to node `node`: the JSON number it answered with, or None (refused, timed out,
/// failed).
fn counter(node: usize, method: &str) -> Option<u64> {
    counter_within(node, method, REQUEST_TIMEOUT)
}

fn counter_within(node: usize, method: &str, timeout: Duration) -> Option<u64> {
    let mut stream = TcpStream::connect_timeout(&http_addr(node), timeout).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    write!(
        stream,
        "{method} / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    if !response.starts_with("HTTP/1.1 200") {
        return None;
    }
    response.split("\r\n\r\n").nth(1)?.trim().parse().ok()
}

fn admin(args: &[&str], via: usize) -> Option<String> {
    let mut command = util::kiln();
    command.arg("cluster").args(args).args([
        "--node",
        &peer_addr(via),
        "--cluster-key",
        CLUSTER_KEY,
    ]);
    let (ok, output) = util::run_to_exit(command);
    ok.then_some(output)
}

/// The leader of shard 0 as node `via` sees it.
fn leader(via: usize) -> Option<u64> {
    let output = admin(&["status"], via)?;
    output.lines().find_map(|line| {
        let cells: Vec<&str> = line.split_whitespace().collect();
        (cells.first() == Some(&"0")).then(|| cells.get(1)?.parse().ok())?
    })
}

/// (applied index, content hash) of shard 0 on node `via`.
fn replica(via: usize) -> Option<(u64, String)> {
    let output = admin(&["status"], via)?;
    output.lines().find_map(|line| {
        let cells: Vec<&str> = line.split_whitespace().collect();
        if cells.first() != Some(&"0") {
            return None;
        }
        Some((cells.get(4)?.parse().ok()?, (*cells.get(6)?).to_owned()))
    })
}

fn wait_until<T>(what: &str, timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < deadline, "{what} (waited {timeout:?})");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
#[allow(clippy::print_stderr)]
fn a_partitioned_owner_stops_answering_and_the_majority_carries_on() {
    let Some(net) = Net::create(3) else {
        eprintln!(
            "SKIPPED a_partitioned_owner_stops_answering_and_the_majority_carries_on: this machine \
             cannot create network namespaces and veth pairs (it needs root and iproute2)"
        );
        return;
    };
    let dir = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "partition", "main": "index.js", "compatibility_date": "2025-01-01",
                 "durable_objects": { "bindings": [{ "name": "COUNTERS", "class_name": "Counter" }] },
                 "migrations": [{ "tag": "v1", "new_classes": ["Counter"] }] }"#,
        ),
        ("index.js", WORKER),
    ]);
    let state = tempfile::tempdir().expect("tempdir");
    let nodes: Vec<util::Node> = (1..=3)
        .map(|node| {
            let mut command = Command::new("ip");
            command
                .args(["netns", "exec", &net.namespaces[node - 1]])
                .arg(env!("CARGO_BIN_EXE_kiln"))
                .env("NO_COLOR", "1")
                .env("RUST_LOG", "info")
                .arg("serve")
                .arg(dir.path())
                .args(["--node-id", &node.to_string()])
                .args(["--http", &http_addr(node).to_string()])
                .args(["--listen", &peer_addr(node)])
                .arg("--data-dir")
                .arg(state.path().join(format!("node{node}")))
                .args([
                    "--cluster-key",
                    CLUSTER_KEY,
                    "--shards",
                    "1",
                    "--threads",
                    "1",
                ]);
            for peer in 1..=3 {
                command.args(["--peer", &format!("{peer}={}", peer_addr(peer))]);
            }
            util::start(command)
        })
        .collect();
    wait_until("cluster init", Duration::from_secs(30), || {
        admin(&["init"], 1)
    });
    let owner = wait_until("a leader", Duration::from_secs(30), || leader(2)) as usize;
    let majority: Vec<usize> = (1..=3).filter(|n| *n != owner).collect();
    let mut acknowledged = 0u64;
    for round in 0..6 {
        let via = [owner, majority[0], majority[1]][round % 3];
        wait_until(
            "an increment before the partition",
            Duration::from_secs(15),
            || counter(via, "POST"),
        );
        acknowledged += 1;
    }

    // Cut the owner off from its peers; clients still reach it.
    net.peers_link(owner, false);
    let cut_at = Instant::now();
    // Probed with short timeouts: a write forwarded to the old owner before the majority
    // learned of the new one waits until the dead connection is found out.
    let resumed = wait_until(
        "the majority acknowledges writes again",
        Duration::from_secs(15),
        || counter_within(majority[0], "POST", PROBE_TIMEOUT),
    );
    acknowledged += 1;
    let failover = cut_at.elapsed();
    for _ in 0..5 {
        if counter(majority[1], "POST").is_some() {
            acknowledged += 1;
        }
    }
    let latest = wait_until(
        "a read through the majority",
        Duration::from_secs(15),
        || counter(majority[0], "GET"),
    );
    assert!(latest > resumed, "reads see the new writes");
    // The former owner's lease has run out: it must not answer with an old value.
    let stale = counter(owner, "GET");
    assert!(
        stale.is_none() || stale == Some(latest),
        "the cut-off node answered {stale:?} while the majority is at {latest}"
    );
    // A write through the cut-off node cannot be acknowledged (it has no majority).
    assert_eq!(
        counter(owner, "POST"),
        None,
        "a write through the minority was acknowledged"
    );

    // Heal: the former owner catches up and everything acknowledged is there.
    net.peers_link(owner, true);
    let value = wait_until(
        "the healed node answers with the latest value",
        Duration::from_secs(30),
        || counter(owner, "GET").filter(|v| *v >= latest),
    );
    assert!(
        value >= acknowledged,
        "{value} < {acknowledged} acknowledged increments"
    );
    let converged = wait_until("replicas converge", Duration::from_secs(30), || {
        let views: Vec<(u64, String)> = (1..=3).filter_map(replica).collect();
        (views.len() == 3 && views.iter().all(|v| v.0 == views[0].0)).then_some(views)
    });
    assert!(
        converged.iter().all(|v| v.1 == converged[0].1),
        "replicas diverged: {converged:?}"
    );
    eprintln!(
        "partition: owner {owner} cut off; the majority acknowledged again after {failover:?}; \
         {acknowledged} increments acknowledged, final value {value}; the cut-off node answered \
         {stale:?} to a read during the partition"
    );
    drop(nodes);
    drop(net);
}
