//! Simulated power loss: every node of a 3-node cluster loses, at once, whatever its Raft log
//! had written but not yet fsynced, and no acknowledged write is lost.
//!
//! The nodes run with `KILN_SYNC_LEDGER` (`node/src/cluster/sync_ledger.rs`): each fsync of a
//! shard's log records the offset up to which the log is durable. The test kills every node
//! with SIGKILL in the middle of a write load, cuts each log's chunk files back to the last
//! recorded offset (what a power cut leaves of an append-only file: the synced prefix), and
//! restarts them. Each node's sled database (the state the log is applied to) goes too, the
//! worst a power cut can do to a store sled had not flushed: the nodes rebuild it from what
//! their logs kept (the run is far shorter than a snapshot interval, so no log was purged). A
//! write acknowledged before its log entry was fsynced on a majority would then be missing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::cluster_util::Cluster;
use crate::util;

/// Counters the load spreads over (they land on several shards).
const OBJECTS: usize = 8;
/// Writers, each sending increments one at a time through the nodes in turn.
const WRITERS: usize = 3;
/// How long the load runs before the power cut.
const LOAD_BEFORE_CUT: Duration = Duration::from_millis(2500);
/// Kiln's entries between snapshots (`SNAPSHOT_EVERY_ENTRIES` in `node/src/cluster/groups.rs`).
const SNAPSHOT_EVERY_ENTRIES: u64 = 5000;
/// Longest wait for the restarted cluster to answer a read of every counter.
const RECOVERY_BUDGET: Duration = Duration::from_secs(30);

/// Cuts every chunk file of every WAL under `dir` back to the synced prefix `ledger` records
/// (a WAL with no record keeps nothing); returns the bytes dropped.
fn drop_unsynced(dir: &Path, ledger: &str) -> u64 {
    let mut synced: BTreeMap<PathBuf, u64> = BTreeMap::new();
    for line in ledger.lines() {
        let Some((wal, offset)) = line.rsplit_once(' ') else {
            continue;
        };
        let offset: u64 = offset.parse().expect("a synced offset");
        let entry = synced.entry(PathBuf::from(wal)).or_default();
        *entry = (*entry).max(offset);
    }
    let mut dropped = 0;
    for wal in wal_dirs(dir) {
        let durable = synced.get(&wal).copied().unwrap_or(0);
        for entry in std::fs::read_dir(&wal).expect("a WAL directory").flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(start) = chunk_start(&name) else {
                continue;
            };
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(entry.path())
                .expect("a chunk file");
            let length = file.metadata().expect("its length").len();
            let keep = durable.saturating_sub(start).min(length);
            file.set_len(keep).expect("truncate a chunk file");
            dropped += length - keep;
        }
    }
    dropped
}

/// The global offset a chunk file `r-<offset with underscores>.wal` starts at.
fn chunk_start(name: &str) -> Option<u64> {
    let digits: String = name
        .strip_prefix("r-")?
        .strip_suffix(".wal")?
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The directories under `dir` holding WAL chunk files.
fn wal_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(next) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&next) else {
            continue;
        };
        let mut has_chunks = false;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if chunk_start(&entry.file_name().to_string_lossy()).is_some() {
                has_chunks = true;
            }
        }
        if has_chunks {
            found.push(next);
        }
    }
    found
}

#[test]
#[allow(clippy::print_stderr)] // the run's report
fn a_power_cut_of_every_node_loses_no_acknowledged_write() {
    let counter = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/counter");
    let ledger_dir = tempfile::tempdir().expect("tempdir");
    let ledger = ledger_dir.path().join("syncs.log");
    let ledger_text = ledger.to_string_lossy().into_owned();
    let mut cluster = Cluster::start_with_env(
        &counter,
        3,
        0,
        4,
        &[("KILN_SYNC_LEDGER", ledger_text.as_str())],
    );
    let ports: Vec<u16> = (1..=3).map(|id| cluster.http_port(id)).collect();
    // The highest value each counter acknowledged.
    let acknowledged = Arc::new(Mutex::new(vec![0u64; OBJECTS]));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let (acknowledged, stop, ports) = (acknowledged.clone(), stop.clone(), ports.clone());
            std::thread::spawn(move || {
                let mut sent = 0usize;
                while !stop.load(Ordering::Relaxed) && sent < 100_000 {
                    let object = (writer + sent) % OBJECTS;
                    let port = ports[(writer + sent) % ports.len()];
                    sent += 1;
                    let (status, body) = util::post(port, &format!("/power-{object}"));
                    if status != 200 {
                        continue; // the cut came first: its outcome is unknown
                    }
                    let value: u64 = body.trim().parse().expect("a count");
                    let mut acknowledged = acknowledged.lock().expect("lock");
                    acknowledged[object] = acknowledged[object].max(value);
                }
            })
        })
        .collect();
    std::thread::sleep(LOAD_BEFORE_CUT);
    // The power cut: every node at once, writes in flight.
    for id in 1..=3 {
        cluster.kill9(id);
    }
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.join().expect("a writer");
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(
        acknowledged.iter().all(|&value| value > 0),
        "every counter took writes before the cut: {acknowledged:?}"
    );
    let syncs = std::fs::read_to_string(&ledger).expect("the sync ledger");
    assert!(!syncs.is_empty(), "the nodes recorded their log syncs");
    let dropped = drop_unsynced(cluster.state.path(), &syncs);
    let writes: u64 = acknowledged.iter().sum();
    assert!(
        writes < SNAPSHOT_EVERY_ENTRIES,
        "{writes} writes: a log may have been purged behind a snapshot"
    );
    for id in 1..=3 {
        let objects = cluster.state.path().join(format!("node{id}/objects"));
        std::fs::remove_dir_all(&objects).expect("remove the applied state");
    }
    for id in 1..=3 {
        cluster.restart(id);
    }
    for (object, &least) in acknowledged.iter().enumerate() {
        let deadline = Instant::now() + RECOVERY_BUDGET;
        let value: u64 = loop {
            let (status, body) =
                util::get_port(ports[object % ports.len()], &format!("/power-{object}"));
            if status == 200 {
                break body.trim().parse().expect("a count");
            }
            assert!(
                Instant::now() < deadline,
                "counter {object} unreadable after the restart: {status} {body}"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        assert!(
            value >= least,
            "counter {object} is {value} after the power cut, but {least} was acknowledged \
             ({dropped} unsynced log bytes dropped)"
        );
    }
    // The report: what the cut took.
    eprintln!(
        "power cut: {writes} acknowledged increments kept over {OBJECTS} counters; \
         {dropped} unsynced log bytes dropped"
    );
}

#[test]
fn the_power_cut_keeps_exactly_the_synced_prefix_of_each_chunk() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wal = dir.path().join("node1/raft/shard-0000");
    std::fs::create_dir_all(&wal).expect("mkdir");
    // Two chunks: [0, 100) and [100, 250); the log was synced up to 180.
    let first = wal.join("r-00_000_000_000_000_000_000.wal");
    let second = wal.join("r-00_000_000_000_000_000_100.wal");
    std::fs::write(&first, [1u8; 100]).expect("write");
    std::fs::write(&second, [2u8; 150]).expect("write");
    let other = dir.path().join("node2/raft/shard-0000");
    std::fs::create_dir_all(&other).expect("mkdir");
    let never_synced = other.join("r-00_000_000_000_000_000_000.wal");
    std::fs::write(&never_synced, [3u8; 40]).expect("write");
    let ledger = format!("{} 90\n{} 180\n", wal.display(), wal.display());
    assert_eq!(drop_unsynced(dir.path(), &ledger), 70 + 40);
    let length = |path: &Path| std::fs::metadata(path).expect("metadata").len();
    assert_eq!(
        (length(&first), length(&second), length(&never_synced)),
        (100, 80, 0)
    );
}
