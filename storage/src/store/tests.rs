use super::*;
use kiln_proto::storage::{mutation, Alarm, DeleteAll, Mutation, Put};

fn put(key: &str, value: &str) -> Mutation {
    Mutation {
        kind: Some(mutation::Kind::Put(Put {
            key: key.as_bytes().to_vec(),
            value: value.as_bytes().to_vec(),
        })),
    }
}

fn batch(id: ObjectId, mutations: Vec<Mutation>) -> Batch {
    Batch {
        namespace: "ns".into(),
        object_id: id.to_vec(),
        name: Some("room".into()),
        replies: Vec::new(),
        mutations,
    }
}

fn open(dir: &Path) -> Store {
    Store::open(StoreOptions {
        dir: dir.to_owned(),
        flush_delay: Duration::ZERO,
    })
    .expect("open store")
}

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

#[test]
fn committed_batches_are_readable_and_survive_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let id = [7u8; 32];
    {
        let store = open(dir.path());
        block_on(store.commit(batch(id, vec![put("b", "2"), put("a", "1"), put("c", "3")])))
            .expect("commit");
        assert_eq!(store.get(&id, b"a").expect("get"), Some(b"1".to_vec()));
        let range = ListRange {
            start: Some(b"b".to_vec()),
            reverse: true,
            ..ListRange::default()
        };
        let listed = store.list(&id, &range).expect("list");
        assert_eq!(
            listed,
            vec![
                (b"c".to_vec(), b"3".to_vec()),
                (b"b".to_vec(), b"2".to_vec())
            ]
        );
        let entries = store.objects("ns").expect("objects");
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].name.as_deref(), Some("room"));
    }
    let store = open(dir.path());
    assert_eq!(store.get(&id, b"c").expect("get"), Some(b"3".to_vec()));
}

#[test]
fn the_log_is_replayed_into_sled_after_a_crash() {
    let dir = tempfile::tempdir().expect("tempdir");
    let id = [9u8; 32];
    // Write a log record by hand, as if the node died after the fsync and before sled applied.
    {
        let (mut wal, _) = Wal::open(&dir.path().join("wal.log")).expect("wal");
        let record = LogRecord {
            index: 1,
            batch: Some(batch(id, vec![put("k", "v")])),
        };
        wal.append(&record.encode_to_vec()).expect("append");
        wal.sync().expect("sync");
    }
    let store = open(dir.path());
    assert_eq!(store.get(&id, b"k").expect("get"), Some(b"v".to_vec()));
    // The next commit continues after the replayed index and is not shadowed by it.
    block_on(store.commit(batch(id, vec![put("k", "w")]))).expect("commit");
    drop(store);
    let store = open(dir.path());
    assert_eq!(store.get(&id, b"k").expect("get"), Some(b"w".to_vec()));
}

#[test]
fn a_batch_a_crash_left_half_applied_is_whole_after_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let id = [7u8; 32];
    {
        let (mut wal, _) = Wal::open(&dir.path().join("wal.log")).expect("wal");
        let record = LogRecord {
            index: 1,
            batch: Some(batch(id, vec![put("a", "1"), put("b", "2")])),
        };
        wal.append(&record.encode_to_vec()).expect("append");
        wal.sync().expect("sync");
    }
    // As if sled kept the index and "b" but lost "a" in the crash: sled's key-by-key writes
    // promise no order on disk between syncs.
    {
        let db = open_sled(&dir.path().join("objects")).expect("sled");
        let tree = db
            .open_tree(format!("shard-{:02}", kiln_router::shard_of(&id, SHARDS)))
            .expect("tree");
        tree.insert(keys::data_key(&id, b"b"), b"2".as_slice())
            .expect("insert");
        tree.insert(keys::LAST_APPLIED, 1u64.to_be_bytes().as_slice())
            .expect("insert");
        db.flush().expect("flush");
    }
    let store = open(dir.path());
    assert_eq!(store.get(&id, b"a").expect("get"), Some(b"1".to_vec()));
    assert_eq!(store.get(&id, b"b").expect("get"), Some(b"2".to_vec()));
    // Replaying checkpointed sled and emptied the log; the next commit follows index 1.
    block_on(store.commit(batch(id, vec![put("a", "3")]))).expect("commit");
    drop(store);
    let store = open(dir.path());
    assert_eq!(store.get(&id, b"a").expect("get"), Some(b"3".to_vec()));
    assert_eq!(store.get(&id, b"b").expect("get"), Some(b"2".to_vec()));
}

#[test]
fn delete_all_keeps_the_alarm_and_alarms_are_indexed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let id = [3u8; 32];
    let store = open(dir.path());
    let alarm = Mutation {
        kind: Some(mutation::Kind::Alarm(Alarm {
            time_ms: Some(1234),
        })),
    };
    block_on(store.commit(batch(id, vec![put("x", "1"), alarm]))).expect("commit");
    let delete_all = Mutation {
        kind: Some(mutation::Kind::DeleteAll(DeleteAll {})),
    };
    block_on(store.commit(batch(id, vec![delete_all]))).expect("commit");
    assert_eq!(store.get(&id, b"x").expect("get"), None);
    assert_eq!(store.get_alarm(&id).expect("alarm"), Some(1234));
    let due = store.due_alarms(2000, 10);
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].namespace, "ns");
    assert!(store.due_alarms(1000, 10).is_empty());
    drop(store);
    let store = open(dir.path());
    assert_eq!(store.next_alarm_ms(), Some(1234));
}

#[test]
fn namespace_keys_are_stable_across_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = open(dir.path()).namespace_key("Counter").expect("key");
    let second = open(dir.path()).namespace_key("Counter").expect("key");
    assert_eq!(first, second);
    let other = open(dir.path()).namespace_key("Other").expect("key");
    assert_ne!(first, other);
}
