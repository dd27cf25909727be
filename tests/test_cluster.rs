//! A real 3-node cluster (`kiln serve` processes on 127.0.0.1): one owner per object whichever
//! node a request enters, failover after kill -9 of the owner without losing an acknowledged
//! write, a restarted node catching up, and peers that do not hold the cluster key refused.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::cluster_util::{Cluster, CLUSTER_KEY};
use crate::util;

/// Longest a test waits for a write to succeed again after a node was killed.
const FAILOVER_BUDGET: Duration = Duration::from_secs(8);

fn counter_example() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/counter")
}

/// POST /visits through node `id`: the new count, or None if the request failed.
fn increment(cluster: &Cluster, id: u64) -> Option<u64> {
    let (status, body) = util::post(cluster.http_port(id), "/visits");
    (status == 200).then(|| body.trim().parse().ok()).flatten()
}

/// Whether `node` has applied the first shard up to the commit index `leader` reports; and both
/// nodes' status rows, for the message of a test that waited in vain.
fn caught_up(
    cluster: &Cluster,
    leader: u64,
    node: u64,
) -> (
    bool,
    Vec<crate::cluster_util::ShardRow>,
    Vec<crate::cluster_util::ShardRow>,
) {
    let leader_rows = cluster.status(leader).unwrap_or_default();
    let mine = cluster.status(node).unwrap_or_default();
    let done = matches!(
        (leader_rows.first(), mine.first()),
        (Some(l), Some(m)) if m.4 >= l.3 && l.3 > 0
    );
    (done, mine, leader_rows)
}

#[test]
fn an_object_has_one_state_whichever_node_a_request_enters() {
    let cluster = Cluster::start(&counter_example(), 3, 4);
    let mut seen = Vec::new();
    for round in 0..9u64 {
        let node = round % 3 + 1;
        seen.push(increment(&cluster, node).expect("an increment"));
    }
    assert_eq!(seen, (1..=9).collect::<Vec<u64>>());
    for node in 1..=3 {
        let (status, body) = util::get_port(cluster.http_port(node), "/visits");
        assert_eq!((status, body.as_str()), (200, "9"), "node {node}");
    }
    let (status, body) = util::post(cluster.http_port(2), "/visits/rpc");
    assert_eq!(
        (status, body.as_str()),
        (200, "10"),
        "JS RPC through another node"
    );
}

#[test]
fn kill_9_of_the_owner_loses_no_acknowledged_write_and_the_node_catches_up() {
    // One shard, so its leader owns the counter.
    let mut cluster = Cluster::start(&counter_example(), 3, 1);
    let owner = cluster.wait_for_leaders(1)[0];
    let mut acknowledged = Vec::new();
    let mut attempted = 0u64;
    for i in 0..10u64 {
        attempted += 1;
        acknowledged.push(increment(&cluster, i % 3 + 1).expect("an increment"));
    }
    cluster.kill9(owner);
    let killed_at = Instant::now();
    let mut failover = None;
    let survivors = cluster.alive();
    let deadline = Instant::now() + FAILOVER_BUDGET * 3;
    let mut i = 0;
    while acknowledged.len() < 30 && Instant::now() < deadline {
        attempted += 1;
        let node = survivors[i % survivors.len()];
        i += 1;
        if let Some(value) = increment(&cluster, node) {
            failover.get_or_insert_with(|| killed_at.elapsed());
            acknowledged.push(value);
        }
    }
    let failover = failover.expect("writes resumed after the owner was killed");
    assert!(failover < FAILOVER_BUDGET, "failover took {failover:?}");
    assert_eq!(acknowledged.len(), 30, "writes kept succeeding");
    for pair in acknowledged.windows(2) {
        assert!(
            pair[0] < pair[1],
            "acknowledged counts increase: {acknowledged:?}"
        );
    }
    let last = *acknowledged.last().expect("some");
    let (_, body) = util::get_port(cluster.http_port(survivors[0]), "/visits");
    let final_count: u64 = body.trim().parse().expect("a count");
    assert!(
        final_count >= last && final_count <= attempted,
        "{final_count} vs {last}/{attempted}"
    );

    cluster.restart(owner);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (caught_up, mine, leader_rows) = caught_up(&cluster, survivors[0], owner);
        if caught_up {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the restarted node caught up: {mine:?} vs {leader_rows:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The restarted node is the shard's preferred leader: a request that meets the hand-back
    // of the leadership may fail (its object is reset), so it is asked again.
    let deadline = Instant::now() + Duration::from_secs(10);
    let (status, body) = loop {
        let (status, body) = util::get_port(cluster.http_port(owner), "/visits");
        if status == 200 || Instant::now() > deadline {
            break (status, body);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        (status, body.trim().parse::<u64>().ok()),
        (200, Some(final_count)),
        "the restarted node answered: {body}"
    );
}

#[test]
fn a_node_that_fell_far_behind_catches_up_by_installing_a_snapshot_under_load() {
    // Snapshots every 20 entries (4 kept after one): a node down for 200 writes has to be
    // sent a snapshot.
    let mut cluster = Cluster::start_with_env(
        &counter_example(),
        3,
        0,
        1,
        &[("KILN_SNAPSHOT_EVERY", "20")],
    );
    let owner = cluster.wait_for_leaders(1)[0];
    let lagging = (1..=3).find(|n| *n != owner).expect("a follower");
    cluster.kill9(lagging);
    let others: Vec<u64> = cluster.alive();
    let mut last = 0;
    for i in 0..200usize {
        last = increment(&cluster, others[i % others.len()]).expect("an increment");
    }
    cluster.restart(lagging);
    // Writes go on while the restarted node catches up.
    let mut during = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    let ports: Vec<u16> = others.iter().map(|n| cluster.http_port(*n)).collect();
    let node = cluster.nodes[(lagging - 1) as usize]
        .as_mut()
        .expect("restarted");
    while !node.wait_for_log("installed a snapshot", Duration::from_millis(50)) {
        assert!(
            Instant::now() < deadline,
            "the lagging node installed no snapshot"
        );
        let (status, body) = util::post(ports[during % ports.len()], "/visits");
        if let (200, Ok(value)) = (status, body.trim().parse()) {
            last = value;
            during += 1;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = util::get_port(cluster.http_port(lagging), "/visits");
        let seen: Option<u64> = body.trim().parse().ok();
        let (caught_up, mine, leader_rows) = caught_up(&cluster, owner, lagging);
        if status == 200 && seen >= Some(last) && caught_up {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the lagging node did not catch up: {status} {body}, {mine:?} vs {leader_rows:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(during > 0, "writes were acknowledged during the catch-up");
}

#[test]
fn peers_without_the_cluster_key_are_refused() {
    let cluster = Cluster::start(&counter_example(), 3, 2);
    let (ok, output) = util::run_to_exit({
        let mut command = util::kiln();
        command.args([
            "cluster",
            "status",
            "--node",
            &format!("127.0.0.1:{}", cluster.peer_ports[0]),
            "--cluster-key",
            "not-the-cluster-key-at-all",
        ]);
        command
    });
    assert!(!ok, "{output}");
    assert!(output.contains("not a member of this cluster"), "{output}");
    assert_ne!(CLUSTER_KEY, "not-the-cluster-key-at-all");
}

#[test]
fn leaderships_spread_over_the_nodes() {
    let cluster = Cluster::start(&counter_example(), 3, 6);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let mut leaders = cluster.wait_for_leaders(2);
        leaders.sort_unstable();
        leaders.dedup();
        if leaders == [1, 2, 3] {
            break;
        }
        assert!(Instant::now() < deadline, "leaders stayed on {leaders:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(increment(&cluster, 3), Some(1));
}

#[test]
fn a_chat_room_spans_the_nodes_in_one_order() {
    use crate::test_websockets::{connect, json, next_text, send};
    let chat = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/chat");
    let cluster = Cluster::start(&chat, 3, 4);
    let names = ["ann", "bob", "cat"];
    let mut clients: Vec<_> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut client = connect(cluster.http_port(i as u64 + 1), "/api/room/hall/websocket");
            send(&mut client, &format!(r#"{{"name":"{name}"}}"#));
            let backlog = json(&next_text(&mut client));
            assert!(backlog["backlog"].is_array(), "{backlog}");
            client
        })
        .collect();
    // Joins interleave with the sends below; keep only chat messages.
    for (i, client) in clients.iter_mut().enumerate() {
        for n in 0..2 {
            send(client, &format!(r#"{{"message":"{}{n}"}}"#, names[i]));
        }
    }
    let mut orders = Vec::new();
    for client in &mut clients {
        let mut order = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while order.len() < 6 {
            assert!(Instant::now() < deadline, "missing messages: {order:?}");
            let message = json(&next_text(client));
            if let Some(text) = message["message"].as_str() {
                order.push(text.to_owned());
            }
        }
        orders.push(order);
    }
    assert_eq!(orders[0], orders[1], "every client sees one order");
    assert_eq!(orders[1], orders[2], "every client sees one order");
    let mut sorted = orders[0].clone();
    sorted.sort();
    assert_eq!(sorted, ["ann0", "ann1", "bob0", "bob1", "cat0", "cat1"]);
}

const CLOCK_WORKER: &str = r#"
import { DurableObject } from "cloudflare:workers";
export class Clock extends DurableObject {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname.endsWith("/set")) {
      await this.ctx.storage.setAlarm(Date.now() + Number(url.searchParams.get("ms")));
      return new Response("set");
    }
    return Response.json((await this.ctx.storage.get("fired")) ?? 0);
  }
  async alarm() {
    await this.ctx.storage.put("fired", ((await this.ctx.storage.get("fired")) ?? 0) + 1);
  }
}
export default {
  fetch(request, env) {
    return env.CLOCK.getByName(new URL(request.url).pathname.split("/")[1]).fetch(request);
  },
};
"#;

fn fired(cluster: &Cluster, via: u64, name: &str) -> u64 {
    let (_, body) = util::get_port(cluster.http_port(via), &format!("/{name}/fired"));
    body.trim().parse().unwrap_or(0)
}

#[test]
fn alarms_fire_once_on_the_owner_and_after_it_dies() {
    let dir = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "clock", "main": "index.js", "compatibility_date": "2025-01-01",
                 "durable_objects": { "bindings": [{ "name": "CLOCK", "class_name": "Clock" }] },
                 "migrations": [{ "tag": "v1", "new_classes": ["Clock"] }] }"#,
        ),
        ("index.js", CLOCK_WORKER),
    ]);
    let mut cluster = Cluster::start(dir.path(), 3, 1);
    for (i, name) in ["a", "b", "c"].iter().enumerate() {
        let (status, body) = util::post(
            cluster.http_port(i as u64 + 1),
            &format!("/{name}/set?ms=200"),
        );
        assert_eq!((status, body.as_str()), (200, "set"));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while ["a", "b", "c"]
        .iter()
        .any(|name| fired(&cluster, 2, name) == 0)
    {
        assert!(Instant::now() < deadline, "alarms fired");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    for name in ["a", "b", "c"] {
        assert_eq!(fired(&cluster, 3, name), 1, "{name} fired exactly once");
    }

    // An alarm due after its owner died fires on the new owner.
    let owner = cluster.wait_for_leaders(1)[0];
    let via = cluster
        .alive()
        .into_iter()
        .find(|id| *id != owner)
        .expect("a survivor");
    assert_eq!(util::post(cluster.http_port(via), "/d/set?ms=1500").0, 200);
    cluster.kill9(owner);
    let deadline = Instant::now() + Duration::from_secs(15);
    while fired(&cluster, via, "d") == 0 {
        assert!(Instant::now() < deadline, "the new owner fired the alarm");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `GET /notes/log/add?text=...` of the SQL suite through node `id`: the row count, or None.
fn sql_add(cluster: &Cluster, id: u64, text: &str) -> Option<u64> {
    let (status, body) = util::get_port(
        cluster.http_port(id),
        &format!("/notes/log/add?text={text}"),
    );
    (status == 200).then(|| body.trim().parse().ok()).flatten()
}

#[test]
fn sql_rows_survive_kill_9_of_the_owner_through_the_raft_log() {
    let dir = crate::test_sql_storage::project();
    // One shard, so its leader owns the object.
    let mut cluster = Cluster::start(dir.path(), 3, 1);
    let owner = cluster.wait_for_leaders(1)[0];
    let mut acknowledged = Vec::new();
    for i in 0..6u64 {
        let text = format!("before{i}");
        let count = sql_add(&cluster, i % 3 + 1, &text).expect("an insert");
        assert_eq!(count, i + 1);
        acknowledged.push(text);
    }
    cluster.kill9(owner);
    let survivors = cluster.alive();
    let deadline = Instant::now() + FAILOVER_BUDGET * 3;
    let mut i = 0;
    while acknowledged.len() < 12 && Instant::now() < deadline {
        let text = format!("after{i}");
        if sql_add(&cluster, survivors[i % survivors.len()], &text).is_some() {
            acknowledged.push(text);
        }
        i += 1;
    }
    assert_eq!(acknowledged.len(), 12, "inserts resumed on the new owner");
    let (status, body) = util::get_port(cluster.http_port(survivors[1]), "/notes/log/all");
    assert_eq!(status, 200, "{body}");
    let rows: Vec<String> = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    let mut found = rows.iter().filter(|row| acknowledged.contains(row));
    for text in &acknowledged {
        assert_eq!(
            found.next(),
            Some(text),
            "acknowledged rows in order: {rows:?}"
        );
    }
}

#[test]
fn kv_written_through_any_node_is_read_through_every_node() {
    let dir = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "kv-suite", "main": "index.js", "compatibility_date": "2025-01-01",
                 "kv_namespaces": [{ "binding": "KV", "id": "cluster-kv" }] }"#,
        ),
        ("index.js", include_str!("js/kv_suite.js")),
    ]);
    let cluster = Cluster::start(dir.path(), 3, 4);
    // The suite writes and reads back at once through each node: forwarded writes are read
    // back on the node that made them.
    for node in 1..=3 {
        for check in ["values", "list"] {
            let (status, body) =
                util::get_port(cluster.http_port(node), &format!("/check/{check}"));
            assert_eq!(
                (status, body.as_str()),
                (200, "[]"),
                "{check} through node {node}"
            );
        }
    }
    let (status, _) = util::request(
        cluster.http_port(1),
        "POST /put/shared HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nConnection: close\r\n\r\nyes",
    );
    assert_eq!(status, 200);
    for node in 2..=3 {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let (_, body) = util::get_port(cluster.http_port(node), "/get/shared");
            if body == "yes" {
                break;
            }
            assert!(Instant::now() < deadline, "node {node} never saw the write");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn a_node_joins_under_load_and_another_leaves_without_losing_writes() {
    let mut cluster = Cluster::start_with_spares(&counter_example(), 3, 1, 4);
    let ports: Vec<u16> = (1..=3).map(|id| cluster.http_port(id)).collect();
    // A writer keeps incrementing through the founders while the membership changes.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = std::sync::Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut acknowledged = Vec::new();
            let mut attempted = 0u64;
            let deadline = Instant::now() + Duration::from_secs(120);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && Instant::now() < deadline {
                attempted += 1;
                let (status, body) = util::post(ports[attempted as usize % 3], "/visits");
                if status == 200 {
                    acknowledged.push(body.trim().parse::<u64>().expect("a count"));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            (acknowledged, attempted)
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    cluster.start_spare(4);
    let address = format!("127.0.0.1:{}", cluster.peer_ports[3]);
    let (ok, output) = cluster.admin(1, &["join", "--id", "4", "--address", &address]);
    assert!(ok, "join failed: {output}");
    // Over four nodes with three replicas, every node holds three of the four shards.
    let voters = cluster.voters();
    assert_eq!(voters.len(), 4, "{voters:?}");
    let holding_four = voters.iter().filter(|v| v.contains(&4)).count();
    assert_eq!(holding_four, 3, "node 4 holds three shards: {voters:?}");
    assert!(voters.iter().all(|v| v.len() == 3), "{voters:?}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let leads = |cluster: &Cluster| {
        cluster
            .status(4)
            .unwrap_or_default()
            .iter()
            .any(|row| row.1 == Some(4))
    };
    while !leads(&cluster) {
        assert!(Instant::now() < deadline, "node 4 never took a leadership");
        std::thread::sleep(Duration::from_millis(200));
    }

    let (ok, output) = cluster.admin(1, &["leave", "--id", "2"]);
    assert!(ok, "leave failed: {output}");
    let voters = cluster.voters();
    assert!(
        voters.iter().all(|v| !v.contains(&2)),
        "node 2 holds nothing: {voters:?}"
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (acknowledged, attempted) = writer.join().expect("writer");
    assert!(
        acknowledged.len() > 10,
        "writes went on during the changes: {acknowledged:?}"
    );
    for pair in acknowledged.windows(2) {
        assert!(
            pair[0] < pair[1],
            "acknowledged counts increase: {acknowledged:?}"
        );
    }
    cluster.kill9(2);
    // A write in flight to the node just killed has an unknown outcome; a client retries.
    let deadline = Instant::now() + Duration::from_secs(15);
    let after: u64 = loop {
        let (status, body) = util::post(cluster.http_port(4), "/visits");
        if status == 200 {
            break body.trim().parse().expect("a count");
        }
        assert!(
            Instant::now() < deadline,
            "no write succeeded after the drain: {status} {body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let last = *acknowledged.last().expect("some writes");
    assert!(after > last, "{after} after {last} ({attempted} attempted)");
}

/// Reads `client` until a broadcast chat message arrives; panics on a close or a timeout.
fn next_chat_message(client: &mut crate::test_websockets::Client, who: &str) -> serde_json::Value {
    use tokio_tungstenite::tungstenite::Message;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "{who}: no message arrived");
        match client.read() {
            Ok(Message::Text(text)) => {
                let value: serde_json::Value =
                    serde_json::from_str(text.as_str()).expect("JSON from the room");
                if value.get("message").is_some() {
                    return value;
                }
            }
            Ok(Message::Close(frame)) => panic!("{who}: the socket was closed: {frame:?}"),
            Ok(_) => continue,
            Err(err) => panic!("{who}: the connection failed: {err}"),
        }
    }
}

/// Two clients of a chat room, Ann and Bob: each joins with its name.
fn join_chat(ann: &mut crate::test_websockets::Client, bob: &mut crate::test_websockets::Client) {
    use crate::test_websockets::{json, next_text, send};
    for (client, name) in [(ann, "ann"), (bob, "bob")] {
        send(client, &format!(r#"{{"name":"{name}"}}"#));
        assert!(json(&next_text(client))["backlog"].is_array());
    }
}

/// Sends `text` as `from` (Ann or Bob) and checks that both clients receive it from them.
fn chat_round_trip(
    ann: &mut crate::test_websockets::Client,
    bob: &mut crate::test_websockets::Client,
    from: &str,
    text: &str,
) {
    let sender = if from == "ann" { &mut *ann } else { &mut *bob };
    crate::test_websockets::send(sender, &format!(r#"{{"message":"{text}"}}"#));
    for (client, who) in [(ann, "ann"), (bob, "bob")] {
        let message = next_chat_message(client, who);
        assert_eq!(
            (message["name"].as_str(), message["message"].as_str()),
            (Some(from), Some(text)),
            "{who}: {message}"
        );
    }
}

/// The messages a new member of `room` is given, joining through node `via`.
fn chat_backlog(cluster: &Cluster, via: u64, room: &str) -> Vec<String> {
    use crate::test_websockets::{connect, json, next_text, send};
    let mut carol = connect(
        cluster.http_port(via),
        &format!("/api/room/{room}/websocket"),
    );
    send(&mut carol, r#"{"name":"carol"}"#);
    let backlog = json(&next_text(&mut carol));
    backlog["backlog"]
        .as_array()
        .expect("a backlog")
        .iter()
        .filter_map(|entry| entry["message"].as_str().map(str::to_owned))
        .collect()
}

/// Waits until node 1 no longer leads the (only) shard, as node 2 sees it.
fn wait_for_new_owner(cluster: &Cluster, within: Duration) {
    let deadline = Instant::now() + within;
    while cluster.wait_for_leaders(2).contains(&1) {
        assert!(Instant::now() < deadline, "node 1 still leads the shard");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sequential clients each sending RPC increments to its own counter.
const EXACTLY_ONCE_CLIENTS: usize = 2;

#[test]
fn rpc_calls_cut_off_by_kill_9_of_the_owner_are_retried_and_run_exactly_once() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    // One shard: its leader owns every counter; the clients enter through the other nodes,
    // whose workers call the counters over RPC (`stub.increment(1)`).
    let mut cluster = Cluster::start(&counter_example(), 3, 1);
    let owner = cluster.wait_for_leaders(1)[0];
    let entries: Vec<u16> = (1..=3)
        .filter(|node| *node != owner)
        .map(|node| cluster.http_port(node))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..EXACTLY_ONCE_CLIENTS)
        .map(|client| {
            let (port, stop) = (entries[client % entries.len()], stop.clone());
            std::thread::spawn(move || {
                let mut answers = Vec::new();
                while !stop.load(Ordering::Relaxed) && answers.len() < 100_000 {
                    answers.push(util::post(port, &format!("/exactly-{client}/rpc")));
                }
                answers
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1000));
    cluster.kill9(owner);
    // Through the failover and a while after it.
    std::thread::sleep(Duration::from_millis(3000));
    stop.store(true, Ordering::Relaxed);
    for (client, thread) in clients.into_iter().enumerate() {
        let answers = thread.join().expect("a client");
        let failed: Vec<_> = answers
            .iter()
            .filter(|(status, _)| *status != 200)
            .collect();
        assert!(
            failed.is_empty(),
            "client {client}: every call is answered, whatever happened to the owner: {failed:?}"
        );
        // Each call ran once: the answers count 1, 2, 3, ... with no gap (a call run twice
        // would skip a value) and no repeat.
        let values: Vec<u64> = answers
            .iter()
            .map(|(_, body)| body.trim().parse().expect("a count"))
            .collect();
        let expected: Vec<u64> = (1..=values.len() as u64).collect();
        assert_eq!(values, expected, "client {client}");
        let survivor = entries[client % entries.len()];
        let (status, body) = util::get_port(survivor, &format!("/exactly-{client}"));
        assert_eq!(
            (status, body.trim().parse::<u64>().ok()),
            (200, Some(values.len() as u64)),
            "client {client}: no call ran unseen"
        );
    }
}

#[test]
fn hibernatable_sockets_follow_their_object_to_its_new_owner() {
    use crate::test_websockets::{connect, send};
    let chat = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/chat");
    // One shard, so node 1 owns every room until it leaves.
    let cluster = Cluster::start(&chat, 3, 1);
    // Ann reaches the room through node 2 (a tunnel to the owner), Bob on the owner itself.
    let mut ann = connect(cluster.http_port(2), "/api/room/moving/websocket");
    let mut bob = connect(cluster.http_port(1), "/api/room/moving/websocket");
    join_chat(&mut ann, &mut bob);
    chat_round_trip(&mut ann, &mut bob, "ann", "before");
    let (ok, output) = cluster.admin(2, &["leave", "--id", "1"]);
    assert!(ok, "{output}");
    // The room moves twice: node 1 hands the shard to one node, which hands it on to its
    // preferred leader, node 2. Both sockets follow it each time. (A message whose event
    // fails while its room moves is not delivered again, as on Cloudflare a failed event is
    // not retried: the messages go once the room has settled.)
    let deadline = Instant::now() + Duration::from_secs(15);
    while cluster.wait_for_leaders(2) != [2] {
        assert!(Instant::now() < deadline, "node 2 did not become the owner");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    let after: Vec<String> = (1..=MESSAGES_AFTER_MOVES)
        .map(|n| format!("m{n}"))
        .collect();
    for text in &after {
        send(&mut ann, &format!(r#"{{"message":"{text}"}}"#));
    }
    // Both sockets moved to the new owner with their attachments (the names) instead of closing.
    for (client, who) in [(&mut ann, "ann"), (&mut bob, "bob")] {
        let heard: Vec<String> = after
            .iter()
            .map(|_| {
                next_chat_message(client, who)["message"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned()
            })
            .collect();
        assert_eq!(heard, after, "{who}");
    }
    chat_round_trip(&mut ann, &mut bob, "bob", "from bob");
    let mut expected = vec!["before".to_owned()];
    expected.extend(after);
    expected.push("from bob".to_owned());
    assert_eq!(chat_backlog(&cluster, 3, "moving"), expected);
}

/// Messages Ann sends once her room moved (within the room's rate limit of a burst of ten).
const MESSAGES_AFTER_MOVES: usize = 8;

#[test]
fn hibernatable_sockets_survive_kill_9_of_their_owner() {
    use crate::test_websockets::connect;
    let chat = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/chat");
    // One shard, so node 1 owns every room; the clients reach it through nodes 2 and 3.
    let mut cluster = Cluster::start(&chat, 3, 1);
    let mut ann = connect(cluster.http_port(2), "/api/room/dying/websocket");
    let mut bob = connect(cluster.http_port(3), "/api/room/dying/websocket");
    join_chat(&mut ann, &mut bob);
    chat_round_trip(&mut ann, &mut bob, "ann", "before");
    cluster.kill9(1);
    wait_for_new_owner(&cluster, FAILOVER_BUDGET);
    // The nodes holding the clients re-attach their sockets, with the names in their
    // attachments, to the new owner.
    std::thread::sleep(Duration::from_millis(1000));
    chat_round_trip(&mut ann, &mut bob, "ann", "after");
    assert_eq!(chat_backlog(&cluster, 3, "dying"), ["before", "after"]);
}

#[test]
fn a_script_uploaded_through_one_node_is_dispatched_on_every_node() {
    let dispatcher = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "dispatcher", "main": "index.js", "compatibility_date": "2025-01-01",
                 "dispatch_namespaces": [{ "binding": "DISPATCHER", "namespace": "tenants" }] }"#,
        ),
        (
            "index.js",
            r#"export default {
              async fetch(request, env) {
                const name = new URL(request.url).pathname.slice(1);
                try { return await env.DISPATCHER.get(name).fetch(request); }
                catch (err) { return new Response(err.message, { status: 404 }); }
              },
            };"#,
        ),
    ]);
    let tenant = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "acme", "main": "index.js", "compatibility_date": "2025-01-01" }"#,
        ),
        (
            "index.js",
            r#"export default { fetch() { return new Response("acme's worker"); } };"#,
        ),
    ]);
    let cluster = Cluster::start(dispatcher.path(), 3, 4);
    let (ok, output) = util::run_to_exit({
        let mut command = util::kiln();
        command
            .arg("deploy")
            .arg(tenant.path())
            .args(["--dispatch-namespace", "tenants"])
            .args([
                "--url",
                &format!("http://127.0.0.1:{}", cluster.http_port(1)),
            ])
            .args(["--token", crate::cluster_util::ADMIN_TOKEN]);
        command
    });
    assert!(ok, "{output}");
    for node in 1..=3 {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (status, body) = util::get_port(cluster.http_port(node), "/acme");
            if status == 200 {
                assert_eq!(body, "acme's worker");
                break;
            }
            assert!(Instant::now() < deadline, "node {node}: {status} {body}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn a_worker_deployed_through_one_node_runs_on_every_node_with_one_state_per_object() {
    let counter = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "tally", "main": "index.js", "compatibility_date": "2025-01-01",
                 "durable_objects": { "bindings": [{ "name": "TALLY", "class_name": "Tally" }] },
                 "migrations": [{ "tag": "v1", "new_sqlite_classes": ["Tally"] }] }"#,
        ),
        (
            "index.js",
            r#"import { DurableObject } from "cloudflare:workers";
            export class Tally extends DurableObject {
              add() {
                const n = (this.ctx.storage.kv.get("n") ?? 0) + 1;
                this.ctx.storage.kv.put("n", n);
                return n;
              }
            }
            export default {
              async fetch(request, env) {
                if (request.method === "GET") return new Response("ready");
                return new Response(String(await env.TALLY.getByName("t").add()));
              },
            };"#,
        ),
    ]);
    let cluster = Cluster::start(&counter_example(), 3, 4);
    let (ok, output) = util::run_to_exit({
        let mut command = util::kiln();
        command
            .arg("deploy")
            .arg(counter.path())
            .args([
                "--url",
                &format!("http://127.0.0.1:{}", cluster.http_port(1)),
            ])
            .args(["--token", crate::cluster_util::ADMIN_TOKEN]);
        command
    });
    assert!(ok, "{output}");
    let add = |node: u64| {
        util::request(
            cluster.http_port(node),
            "POST / HTTP/1.1\r\nHost: tally.localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )
    };
    // Every node builds the upload once its replica has it; until then the host is the
    // node's own worker (the counter example).
    for node in 1..=3 {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let answer = util::request(
                cluster.http_port(node),
                "GET / HTTP/1.1\r\nHost: tally.localhost\r\nConnection: close\r\n\r\n",
            );
            if answer == (200, "ready".to_owned()) {
                break;
            }
            assert!(Instant::now() < deadline, "node {node}: {answer:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let seen: Vec<(u16, String)> = (0..9u64).map(|round| add(round % 3 + 1)).collect();
    let expected: Vec<(u16, String)> = (1..=9).map(|n| (200, n.to_string())).collect();
    assert_eq!(seen, expected);
}

#[test]
fn rpc_stubs_and_callbacks_cross_nodes_to_the_isolate_that_made_them() {
    let dir = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "stubs", "main": "index.js", "compatibility_date": "2025-01-01",
                 "durable_objects": { "bindings": [{ "name": "HOME", "class_name": "Home" }] },
                 "migrations": [{ "tag": "v1", "new_classes": ["Home"] }] }"#,
        ),
        (
            "index.js",
            r#"import { DurableObject, RpcTarget } from "cloudflare:workers";
            class Tally extends RpcTarget {
              #n = 0;
              add(k) { this.#n += k; return this.#n; }
            }
            export class Home extends DurableObject {
              open() { return new Tally(); }
              async twice(fn) { return (await fn(21)) + (await fn(0)); }
              ticks() {
                let i = 0;
                return new ReadableStream({ async pull(c) {
                  if (i === 3) return c.close();
                  if (i > 0) await new Promise((r) => setTimeout(r, 400));
                  c.enqueue(new TextEncoder().encode(`t${i++};`));
                } });
              }
            }
            export default {
              async fetch(request, env) {
                const home = env.HOME.getByName("h");
                if (new URL(request.url).pathname === "/ticks") {
                  return new Response(await home.ticks());
                }
                const tally = await home.open();
                const a = await tally.add(1);
                const b = await tally.add(2);
                const c = await home.twice((x) => x * 2);
                return new Response(`${a},${b},${c}`);
              },
            };"#,
        ),
    ]);
    let cluster = Cluster::start(dir.path(), 3, 4);
    for node in 1..=3 {
        assert_eq!(
            util::get_port(cluster.http_port(node), "/"),
            (200, "1,3,42".into()),
            "through node {node}"
        );
        let (first, whole) = time_to_marker(cluster.http_port(node), "/ticks", "t0;");
        assert!(
            whole.contains("t0;") && whole.contains("t2;"),
            "node {node}: {whole}"
        );
        let first = first.expect("the first chunk arrived");
        assert!(
            first < 600,
            "node {node}: a stream returned by RPC arrived after {first} ms: buffered"
        );
    }
}

/// Reads a response from `port` over a raw socket: (milliseconds until `marker` arrived, the
/// whole response). Bounded by a 20-second read timeout.
fn time_to_marker(port: u16, path: &str, marker: &str) -> (Option<u128>, String) {
    use std::io::{Read, Write};
    let started = Instant::now();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let (mut seen, mut at) = (Vec::new(), None);
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.extend_from_slice(&buffer[..n]),
        }
        if at.is_none() && String::from_utf8_lossy(&seen).contains(marker) {
            at = Some(started.elapsed().as_millis());
        }
    }
    (at, String::from_utf8_lossy(&seen).into_owned())
}

#[test]
fn a_response_body_streams_from_an_object_on_another_node() {
    let dir = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "streams", "main": "index.js", "compatibility_date": "2025-01-01",
                 "durable_objects": { "bindings": [{ "name": "FEED", "class_name": "Feed" }] },
                 "migrations": [{ "tag": "v1", "new_classes": ["Feed"] }] }"#,
        ),
        (
            "index.js",
            r#"import { DurableObject } from "cloudflare:workers";
            export class Feed extends DurableObject {
              async fetch(request) {
                if (new URL(request.url).pathname === "/big") {
                  // 3 MiB in 64 KiB chunks, with a known length.
                  const chunk = new Uint8Array(65536).fill(97);
                  const { readable, writable } = new FixedLengthStream(48 * 65536);
                  const writer = writable.getWriter();
                  (async () => { for (let i = 0; i < 48; i++) await writer.write(chunk); await writer.close(); })();
                  return new Response(readable);
                }
                const { readable, writable } = new TransformStream();
                const writer = writable.getWriter();
                const encoder = new TextEncoder();
                writer.write(encoder.encode("data: first\n\n"));
                setTimeout(async () => {
                  await writer.write(encoder.encode("data: second\n\n"));
                  await writer.close();
                }, 1500);
                return new Response(readable, { headers: { "content-type": "text/event-stream" } });
              }
            }
            export default {
              async fetch(request, env) {
                return env.FEED.getByName("feed").fetch(request);
              },
            };"#,
        ),
    ]);
    let cluster = Cluster::start(dir.path(), 3, 4);
    cluster.wait_for_leaders(1);
    for node in 1..=3 {
        let (first, whole) = time_to_marker(cluster.http_port(node), "/sse", "data: first");
        assert!(whole.starts_with("HTTP/1.1 200"), "node {node}: {whole}");
        assert!(
            whole.contains("data: first\n\n") && whole.contains("data: second\n\n"),
            "node {node}: the whole stream arrives: {whole}"
        );
        let first = first.expect("the first event arrived");
        assert!(
            first < 1200,
            "node {node}: the first event came after {first} ms, not before the second was written"
        );
        let (_, big) = time_to_marker(cluster.http_port(node), "/big", "\r\n\r\n");
        let lower = big.to_ascii_lowercase();
        assert!(
            lower.contains("content-length: 3145728"),
            "node {node}: the known length crosses nodes: {}",
            &big[..big.len().min(300)]
        );
        let body = &big[big.find("\r\n\r\n").expect("a head") + 4..];
        assert_eq!(body.len(), 3 * 1024 * 1024, "node {node}");
        assert!(body.bytes().all(|b| b == b'a'), "node {node}");
    }
}
