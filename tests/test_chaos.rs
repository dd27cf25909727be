//! The quick chaos run (fixed seed, about 20 s): a 3-node cluster takes unique adds to several
//! objects through random nodes while nodes are killed with SIGKILL and restarted; after the
//! cluster heals, every acknowledged add must be present and every replica of a shard must hold
//! the same data. `KILN_CHAOS_SECONDS` lengthens the run and `KILN_CHAOS_SEED` picks the seed.
//! It prints a report: operations attempted, acknowledged, unknown and failed, the faults
//! injected, the time from each kill to the next acknowledged write, and the violations.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::cluster_util::Cluster;
use crate::util;

const SET_WORKER: &str = r#"
import { DurableObject } from "cloudflare:workers";
export class Set extends DurableObject {
  async add(item) { await this.ctx.storage.put(`item:${item}`, true); return true; }
  async items() { return [...(await this.ctx.storage.list({ prefix: "item:" })).keys()].map((k) => k.slice(5)); }
}
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, name, action] = url.pathname.split("/");
    const set = env.SETS.getByName(name);
    if (action === "add") return Response.json(await set.add(url.searchParams.get("item")));
    return Response.json(await set.items());
  },
};
"#;

/// Objects the adds spread over (so several shards and owners are involved).
const SETS: usize = 4;
const WRITERS: usize = 3;

/// A tiny deterministic generator (xorshift), so a failing seed reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// What one request came to.
enum Outcome {
    Acknowledged,
    /// Never reached the node (refused): certainly not applied.
    Failed,
    /// Anything else: it may or may not have been applied.
    Unknown,
}

fn add(port: u16, set: usize, item: &str) -> Outcome {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return Outcome::Failed;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(15)));
    let request = format!(
        "POST /s{set}/add?item={item} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return Outcome::Unknown;
    }
    let mut response = String::new();
    if stream.read_to_string(&mut response).is_err() {
        return Outcome::Unknown;
    }
    if response.starts_with("HTTP/1.1 200") && response.ends_with("true") {
        Outcome::Acknowledged
    } else {
        Outcome::Unknown
    }
}

#[derive(Default)]
struct Tally {
    attempted: u64,
    acknowledged: Vec<(usize, String)>,
    unknown: u64,
    failed: u64,
    /// When each acknowledgement arrived, in order.
    ack_times: Vec<Instant>,
}

#[test]
#[allow(clippy::print_stderr)]
fn acknowledged_writes_survive_repeated_kill_9_and_replicas_converge() {
    let seconds: u64 = std::env::var("KILN_CHAOS_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("KILN_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_cafe);
    let dir = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "chaos", "main": "index.js", "compatibility_date": "2025-01-01",
                 "durable_objects": { "bindings": [{ "name": "SETS", "class_name": "Set" }] },
                 "migrations": [{ "tag": "v1", "new_classes": ["Set"] }] }"#,
        ),
        ("index.js", SET_WORKER),
    ]);
    let mut cluster = Cluster::start(dir.path(), 3, 4);
    let ports: Vec<u16> = (1..=3).map(|id| cluster.http_port(id)).collect();
    let tally = Arc::new(Mutex::new(Tally::default()));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let tally = Arc::clone(&tally);
            let ports = ports.clone();
            std::thread::spawn(move || {
                let mut rng = Rng(seed ^ (writer as u64 + 1).wrapping_mul(0x9e37_79b9));
                let mut n = 0u64;
                while Instant::now() < deadline {
                    n += 1;
                    let item = format!("w{writer}-{n}");
                    let set = (rng.next() % SETS as u64) as usize;
                    let port = ports[(rng.next() % ports.len() as u64) as usize];
                    let outcome = add(port, set, &item);
                    let mut tally = tally.lock().expect("tally");
                    tally.attempted += 1;
                    match outcome {
                        Outcome::Acknowledged => {
                            tally.acknowledged.push((set, item));
                            tally.ack_times.push(Instant::now());
                        }
                        Outcome::Unknown => tally.unknown += 1,
                        Outcome::Failed => tally.failed += 1,
                    }
                }
            })
        })
        .collect();

    // Faults: every couple of seconds kill -9 a random node, restart it a second later.
    let mut rng = Rng(seed);
    let mut failovers = Vec::new();
    let mut kills = 0;
    while Instant::now() + Duration::from_secs(3) < deadline {
        std::thread::sleep(Duration::from_millis(1500 + rng.next() % 1000));
        let victim = rng.next() % 3 + 1;
        cluster.kill9(victim);
        kills += 1;
        let killed_at = Instant::now();
        std::thread::sleep(Duration::from_millis(1000));
        // The first write acknowledged after the kill (through any surviving node).
        let resumed = tally
            .lock()
            .expect("tally")
            .ack_times
            .iter()
            .find(|at| **at > killed_at)
            .copied();
        failovers.push(resumed.map(|at| at - killed_at));
        cluster.restart(victim);
    }
    for writer in writers {
        writer.join().expect("writer");
    }

    // Heal: everyone is up; every acknowledged add is there, seen through every node.
    let tally = tally.lock().expect("tally");
    let mut present: Vec<BTreeSet<String>> = vec![BTreeSet::new(); SETS];
    for (set, items) in present.iter_mut().enumerate() {
        let heal_deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (status, body) = util::get_port(ports[set % 3], &format!("/s{set}/items"));
            if status == 200 {
                let listed: Vec<String> = serde_json::from_str(&body).expect("JSON");
                items.extend(listed);
                break;
            }
            assert!(
                Instant::now() < heal_deadline,
                "s{set} unreadable after heal: {status} {body}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let lost: Vec<&(usize, String)> = tally
        .acknowledged
        .iter()
        .filter(|(set, item)| !present[*set].contains(item))
        .collect();

    // Replicas converge: at the same applied index, a shard's replicas hold the same bytes.
    let converge_deadline = Instant::now() + Duration::from_secs(30);
    let diverged = loop {
        let mut views: Vec<Vec<(u64, String)>> = vec![Vec::new(); 4];
        for node in 1..=3 {
            let (ok, output) = cluster.admin(node, &["status"]);
            assert!(ok, "{output}");
            for line in output.lines() {
                let cells: Vec<&str> = line.split_whitespace().collect();
                if let (Some(Ok(shard)), Some(Ok(applied)), Some(hash)) = (
                    cells.first().map(|c| c.parse::<usize>()),
                    cells.get(4).map(|c| c.parse::<u64>()),
                    cells.get(6),
                ) {
                    if shard < views.len() {
                        views[shard].push((applied, (*hash).to_owned()));
                    }
                }
            }
        }
        let settled = views
            .iter()
            .all(|v| v.len() == 3 && v.iter().all(|x| x.0 == v[0].0));
        let diverged: Vec<usize> = (0..views.len())
            .filter(|s| views[*s].iter().any(|x| x.1 != views[*s][0].1))
            .collect();
        if settled || Instant::now() > converge_deadline {
            break if settled { diverged } else { vec![usize::MAX] };
        }
        std::thread::sleep(Duration::from_millis(200));
    };

    eprintln!(
        "chaos report (seed {seed}, {seconds} s): attempted {}, acknowledged {}, unknown {}, failed {}; \
         kills {kills}; first write acknowledged after each kill: {failovers:?}; lost acknowledged adds: {}; diverged shards: {diverged:?}",
        tally.attempted,
        tally.acknowledged.len(),
        tally.unknown,
        tally.failed,
        lost.len()
    );
    assert!(tally.acknowledged.len() > 20, "the workload made progress");
    assert!(lost.is_empty(), "acknowledged adds were lost: {lost:?}");
    assert!(
        diverged.is_empty(),
        "replicas diverged (or never settled): {diverged:?}"
    );
}
