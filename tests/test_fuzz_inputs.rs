//! Fuzzing a live node with what clients and peers send: malformed HTTP at the edge of `kiln
//! dev`, and, at a cluster node's peer port (with the cluster key), object calls whose
//! serialized arguments (the structured-clone decoder's input), methods, addresses, headers and
//! URLs are mutated. The node must answer every input or refuse it, and keep serving. Bounded in
//! time like the in-process targets (`node/src/fuzz_targets.rs`); the mutator is
//! `node/src/fuzz_mutator.rs`.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use kiln_proto::cluster::objects_client::ObjectsClient;
use kiln_proto::cluster::{CallRequest, FetchRequest, Header, ObjectAddress};
use kiln_proto::Message;
use sha2::Digest;

use crate::cluster_util::{Cluster, CLUSTER_KEY};
use crate::fuzz_mutator::Fuzz;
use crate::util;

/// Longest a fuzzed exchange waits for the node's answer.
const EXCHANGE_TIMEOUT: Duration = Duration::from_millis(300);

const ECHO: &str = r#"
export default {
  async fetch(request) {
    const body = await request.arrayBuffer();
    return new Response(`${request.method} ${new URL(request.url).pathname} ${body.byteLength}`);
  },
};
"#;

const HTTP_SEEDS: &[&str] = &[
    "GET /a/b?c=d HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\nCookie: x=1; y=2\r\n\r\n",
    "POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
    "PUT /chunks HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n",
    "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    "GET /__kiln/admin/objects/X HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer nope\r\n\r\n",
    "GET http://other.example/abs HTTP/1.1\r\nHost: api.localhost\r\n\r\n",
];

/// Sends `raw` on a new connection, closes the sending side and reads what comes back.
fn exchange(port: u16, raw: &[u8]) {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        panic!("the node stopped accepting connections");
    };
    let _ = stream.set_read_timeout(Some(EXCHANGE_TIMEOUT));
    let _ = stream.write_all(raw);
    let _ = stream.shutdown(Shutdown::Write);
    let mut sink = [0u8; 4096];
    let deadline = Instant::now() + EXCHANGE_TIMEOUT;
    while Instant::now() < deadline {
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

#[test]
fn the_edge_answers_or_refuses_malformed_http_and_keeps_serving() {
    let project = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "echo", "main": "index.js", "compatibility_date": "2025-01-01" }"#,
        ),
        ("index.js", ECHO),
    ]);
    let node = util::dev(project.path(), &[]);
    let mut fuzz = Fuzz::new("http edge");
    while fuzz.keep_going() {
        let seed = *fuzz.pick(HTTP_SEEDS);
        let raw = fuzz.mutate(seed.as_bytes());
        exchange(node.port, &raw);
    }
    assert!(fuzz.done > 10, "the run tried {} inputs", fuzz.done);
    assert_eq!(node.get("/after"), (200, "GET /after 0".into()));
}

fn peer_token() -> String {
    let digest = sha2::Sha256::digest(format!("kiln peer token {CLUSTER_KEY}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn with_token<T>(message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Ok(value) = peer_token().parse() {
        request.metadata_mut().insert("x-kiln-cluster-token", value);
    }
    request.set_timeout(Duration::from_secs(5));
    request
}

#[test]
fn a_peer_sending_mutated_object_calls_gets_answers_and_the_node_keeps_serving() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/counter");
    let cluster = Cluster::start(&example, 1, 1);
    let address = ObjectAddress {
        worker: "counter".into(),
        binding: 0,
        id: vec![5; 32],
        name: None,
    };
    // Arguments as the runtime serializes them: `increment(by)` with values of every tag.
    let call_seeds: Vec<Vec<u8>> = [
        r#"["a",0,[1]]"#,
        r#"["a",0,[["n","NaN"]]]"#,
        r#"["a",0,[["o",1,{"x":["d",2,0],"y":["r",3,"a+","g"],"z":["b","12"]}]]]"#,
        r#"["a",0,[["m",1,[[["s",2,["u"]],["ab",3,"AAEC"]]]]]]"#,
        r#"["a",0,[["t",1,"Uint8Array",["ab",2,"AAECAw=="],1,2],["dv",3,["@",2],0,2],["e",4,"TypeError","m",null],["B",5,true]]]"#,
    ]
    .iter()
    .map(|s| CallRequest {
        object: Some(address.clone()),
        method: "increment".into(),
        args: (*s).into(),
        request_id: Vec::new(),
    }
    .encode_to_vec())
    .collect();
    let fetch_seed = FetchRequest {
        object: Some(address.clone()),
        method: "POST".into(),
        url: "http://counter/fuzz".into(),
        headers: vec![Header {
            name: "content-type".into(),
            value: b"text/plain".to_vec(),
        }],
        body: b"x".to_vec(),
    }
    .encode_to_vec();
    let io = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let peer = format!("http://127.0.0.1:{}", cluster.peer_ports[0]);
    let (calls, fetches) = io.block_on(async {
        let mut client = ObjectsClient::connect(peer)
            .await
            .expect("connect to the peer port");
        let first = client
            .call(with_token(CallRequest {
                object: Some(address.clone()),
                method: "increment".into(),
                args: r#"["a",0,[1]]"#.into(),
                request_id: Vec::new(),
            }))
            .await
            .expect("a valid call");
        assert_eq!(
            first.into_inner().result,
            r#"["a",0,[true,1]]"#,
            "the seed call works (ok, 1)"
        );
        let mut fuzz = Fuzz::new("peer object calls");
        let (mut calls, mut fetches) = (0u32, 0u32);
        while fuzz.keep_going() {
            if fuzz.below(3) == 0 {
                let bytes = fuzz.mutate(&fetch_seed);
                let Ok(request) = FetchRequest::decode(bytes.as_slice()) else {
                    continue;
                };
                fetches += 1;
                // Read the answer to its end: the body streams after the head.
                if let Ok(parts) = client.fetch_stream(with_token(request)).await {
                    let mut parts = parts.into_inner();
                    while let Ok(Some(_)) = parts.message().await {}
                }
            } else {
                let seed = fuzz.pick(&call_seeds).clone();
                let bytes = fuzz.mutate(&seed);
                let Ok(request) = CallRequest::decode(bytes.as_slice()) else {
                    continue;
                };
                calls += 1;
                let _ = client.call(with_token(request)).await;
            }
        }
        (calls, fetches)
    });
    assert!(
        calls > 10 && fetches > 3,
        "{calls} calls, {fetches} fetches"
    );
    let port = cluster.http_port(1);
    assert_eq!(util::post(port, "/after/rpc"), (200, "1".into()));
    assert_eq!(util::post(port, "/after"), (200, "2".into()));
}
