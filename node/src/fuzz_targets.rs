//! Fuzzing of what users and peers hand a node, in process: the wrangler config parser (and the
//! worker built from what it accepts), every protobuf message a peer sends, the Raft payloads
//! inside them, and a peer's batch applied to a shard tree. Each target runs for a bounded time
//! ([`crate::fuzz_mutator`]); a panic anywhere fails the test with the seed that found it. The
//! live node's HTTP edge and peer port are fuzzed by `tests/test_fuzz_inputs.rs`.

use std::collections::BTreeMap;

use kiln_proto::cluster as wire_msg;
use kiln_proto::storage::{mutation, Alarm, Batch, DeleteAll, Mutation, Put};
use kiln_proto::Message;

use crate::fuzz_mutator::Fuzz;

const JSONC: &str = r#"{
  // a comment
  "name": "fuzzed", "main": "index.js", "compatibility_date": "2025-01-01",
  "compatibility_flags": ["nodejs_compat"],
  "vars": { "A": "b", "N": 3, "O": { "x": [1, 2] } },
  "kv_namespaces": [{ "binding": "KV", "id": "abc" }],
  "services": [{ "binding": "S", "service": "other", "entrypoint": "E" }],
  "durable_objects": { "bindings": [{ "name": "C", "class_name": "Tally" }] },
  "migrations": [{ "tag": "v1", "new_classes": ["Counter"] },
                 { "tag": "v2", "renamed_classes": [{ "from": "Counter", "to": "Tally" }] }],
  "triggers": { "crons": ["*/5 * * * *"] },
  "rules": [{ "type": "Text", "globs": ["**/*.txt"] }],
  "limits": { "cpu_ms": 100 },
  "tail_consumers": [{ "service": "tail" }],
}"#;

const TOML: &str = r#"name = "fuzzed"
main = "index.js"
compatibility_date = "2025-01-01"
compatibility_flags = ["nodejs_compat"]

[vars]
A = "b"

[[kv_namespaces]]
binding = "KV"
id = "abc"

[[durable_objects.bindings]]
name = "C"
class_name = "Counter"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Counter"]

[triggers]
crons = ["0 * * * *"]
"#;

#[test]
fn the_wrangler_config_parser_never_panics_and_names_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("index.js"),
        "export class Counter {} export class Tally {} export default {}",
    )
    .expect("write");
    let seeds = [("wrangler.jsonc", JSONC), ("wrangler.toml", TOML)];
    for (file, seed) in seeds {
        let path = dir.path().join(file);
        let loaded = crate::config::parse(&path, seed).expect("the seed parses");
        crate::config::worker_script(&loaded, &BTreeMap::new()).expect("the seed builds");
    }
    let mut fuzz = Fuzz::new("wrangler config");
    while fuzz.keep_going() {
        let (file, seed) = *fuzz.pick(&seeds);
        let path = dir.path().join(file);
        let text = String::from_utf8_lossy(&fuzz.mutate(seed.as_bytes())).into_owned();
        match crate::config::parse(&path, &text) {
            Ok(loaded) => {
                let _ = crate::config::worker_script(&loaded, &BTreeMap::new());
            }
            Err(err) => assert!(
                err.to_string().contains(file),
                "an error names the file: {err}"
            ),
        }
    }
}

fn batch_seed() -> Batch {
    let put = |key: &[u8], value: &[u8]| Mutation {
        kind: Some(mutation::Kind::Put(Put {
            key: key.to_vec(),
            value: value.to_vec(),
        })),
    };
    Batch {
        namespace: "Counter".into(),
        object_id: vec![7; 32],
        name: Some("hot".into()),
        replies: vec![kiln_proto::storage::Reply {
            request_id: vec![3; 16],
            result: "[true,1]".into(),
            recorded_at_ms: 1_700_000_000_000,
        }],
        mutations: vec![
            put(b"a", b"[\"n\",\"1\"]"),
            put(b"b", b"2"),
            Mutation {
                kind: Some(mutation::Kind::Delete(b"a".to_vec())),
            },
            Mutation {
                kind: Some(mutation::Kind::Alarm(Alarm {
                    time_ms: Some(1_700_000_000_000),
                })),
            },
            Mutation {
                kind: Some(mutation::Kind::DeleteAll(DeleteAll {})),
            },
            put(b"c", b"3"),
        ],
    }
}

/// Decodes `bytes` as `M` and, when that works, re-encodes it (the round trip a relay does).
fn decode_as<M: Message + Default>(bytes: &[u8]) -> Option<M> {
    let message = M::decode(bytes).ok()?;
    let again = message.encode_to_vec();
    assert!(
        M::decode(again.as_slice()).is_ok(),
        "a decoded message re-encodes"
    );
    Some(message)
}

#[test]
fn peer_messages_never_panic_their_decoders_or_the_shard_tree() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = kiln_storage::ObjectDb::open(dir.path()).expect("sled");
    let tree = db.tree("shard-0").expect("tree");
    let address = wire_msg::ObjectAddress {
        worker: "w".into(),
        binding: 0,
        id: vec![9; 32],
        name: Some("n".into()),
    };
    let header = wire_msg::Header {
        name: "content-type".into(),
        value: b"text/plain".to_vec(),
    };
    let seeds: Vec<(&str, Vec<u8>)> = vec![
        ("batch", batch_seed().encode_to_vec()),
        (
            "fetch",
            wire_msg::FetchRequest {
                object: Some(address.clone()),
                method: "POST".into(),
                url: "http://x/y?z".into(),
                headers: vec![header.clone(), header],
                body: b"hello".to_vec(),
            }
            .encode_to_vec(),
        ),
        (
            "call",
            wire_msg::CallRequest {
                object: Some(address.clone()),
                method: "increment".into(),
                args: "[\"a\",0,[1]]".into(),
                request_id: vec![7; 16],
            }
            .encode_to_vec(),
        ),
        (
            "error",
            wire_msg::CallError {
                kind: wire_msg::call_error::Kind::NotLeader as i32,
                message: "m".into(),
                leader_hint: Some(2),
                http_status: 503,
            }
            .encode_to_vec(),
        ),
        (
            "commit",
            wire_msg::CommitRequest {
                batch: batch_seed().encode_to_vec(),
            }
            .encode_to_vec(),
        ),
        (
            "frame",
            wire_msg::SocketFrame {
                kind: Some(wire_msg::socket_frame::Kind::Open(wire_msg::FetchRequest {
                    object: Some(address),
                    method: "GET".into(),
                    url: "http://x/".into(),
                    ..Default::default()
                })),
            }
            .encode_to_vec(),
        ),
    ];
    let mut fuzz = Fuzz::new("peer messages");
    let mut index = 0u64;
    while fuzz.keep_going() {
        let (kind, seed) = fuzz.pick(&seeds).clone();
        let bytes = fuzz.mutate(&seed);
        match kind {
            "batch" | "commit" => {
                let batch = if kind == "commit" {
                    decode_as::<wire_msg::CommitRequest>(&bytes)
                        .and_then(|c| decode_as::<Batch>(&c.batch))
                } else {
                    decode_as::<Batch>(&bytes)
                };
                if let Some(batch) = batch {
                    index += 1;
                    let _ = tree.apply(index, &batch, None);
                    let _ = tree.apply_replayable(index, &batch);
                }
            }
            "fetch" => {
                if let Some(request) = decode_as::<wire_msg::FetchRequest>(&bytes) {
                    let _ = request.object.as_ref().map(crate::cluster::wire::target);
                    let _ = crate::cluster::wire::header_map(&request.headers);
                    let _ = http::Method::from_bytes(request.method.as_bytes());
                    let _ = request.url.parse::<http::Uri>();
                }
            }
            "call" => {
                if let Some(request) = decode_as::<wire_msg::CallRequest>(&bytes) {
                    let _ = request.object.as_ref().map(crate::cluster::wire::target);
                }
            }
            "error" => {
                if let Some(error) = decode_as::<wire_msg::CallError>(&bytes) {
                    let _ = crate::cluster::wire::runtime_error(&error);
                }
            }
            _ => {
                let _ = decode_as::<wire_msg::SocketFrame>(&bytes);
            }
        }
    }
}

#[test]
fn raft_payloads_from_peers_decode_or_fail_cleanly() {
    use crate::cluster::types::TypeConfig;
    use openraft::raft::{AppendEntriesRequest, VoteRequest};
    let vote = r#"{"vote":{"leader_id":{"term":3,"node_id":1},"committed":false},"last_log_id":{"leader_id":{"term":2,"node_id":1},"index":17}}"#;
    let append = r#"{"vote":{"leader_id":{"term":3,"node_id":1},"committed":true},"prev_log_id":{"leader_id":{"term":3,"node_id":1},"index":4},"entries":[{"log_id":{"leader_id":{"term":3,"node_id":1},"index":5},"payload":{"Normal":{"batch":[10,1,65]}}},{"log_id":{"leader_id":{"term":3,"node_id":1},"index":6},"payload":"Blank"}],"leader_commit":{"leader_id":{"term":3,"node_id":1},"index":4}}"#;
    serde_json::from_str::<VoteRequest<TypeConfig>>(vote).expect("the vote seed decodes");
    serde_json::from_str::<AppendEntriesRequest<TypeConfig>>(append)
        .expect("the append seed decodes");
    let mut fuzz = Fuzz::new("raft payloads");
    while fuzz.keep_going() {
        if fuzz.below(2) == 0 {
            let bytes = fuzz.mutate(vote.as_bytes());
            let _ = serde_json::from_slice::<VoteRequest<TypeConfig>>(&bytes);
        } else {
            let bytes = fuzz.mutate(append.as_bytes());
            if let Ok(request) = serde_json::from_slice::<AppendEntriesRequest<TypeConfig>>(&bytes)
            {
                for entry in &request.entries {
                    if let openraft::EntryPayload::Normal(command) = &entry.payload {
                        let _ = Batch::decode(command.batch.as_slice());
                    }
                }
            }
        }
    }
}
