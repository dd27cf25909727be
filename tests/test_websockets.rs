//! WebSockets through a real `kiln dev` process and real client connections: accepted sockets,
//! hibernatable sockets that outlive their object's eviction, the auto-response, the output
//! gate on frames, close codes, misuse errors, and the chat example across kill -9.

use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message, WebSocket};

use crate::util;

/// Longest wait for one frame.
const FRAME_TIMEOUT: Duration = Duration::from_secs(10);

const WRANGLER: &str = r#"{
  "name": "ws-suite",
  "main": "index.js",
  "compatibility_date": "2025-01-01",
  "durable_objects": { "bindings": [{ "name": "HUB", "class_name": "Hub" }] },
  "migrations": [{ "tag": "v1", "new_sqlite_classes": ["Hub"] }]
}"#;

fn suite_project() -> tempfile::TempDir {
    util::project(&[
        ("wrangler.jsonc", WRANGLER),
        ("index.js", include_str!("js/ws_suite.js")),
    ])
}

pub type Client = WebSocket<TcpStream>;

pub fn connect(port: u16, path: &str) -> Client {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(FRAME_TIMEOUT))
        .expect("read timeout");
    let url = format!("ws://127.0.0.1:{port}{path}");
    let (socket, response) = tungstenite::client(url.as_str(), stream).expect("handshake");
    assert_eq!(response.status(), 101);
    socket
}

/// The next data frame (text, or binary as hex), skipping pings and pongs.
pub fn next(client: &mut Client) -> Message {
    let deadline = Instant::now() + FRAME_TIMEOUT;
    while Instant::now() < deadline {
        match client.read().expect("read a frame") {
            Message::Ping(_) | Message::Pong(_) => continue,
            other => return other,
        }
    }
    panic!("no frame within {FRAME_TIMEOUT:?}");
}

pub fn next_text(client: &mut Client) -> String {
    match next(client) {
        Message::Text(text) => text.as_str().to_owned(),
        other => panic!("expected text, got {other:?}"),
    }
}

pub fn send(client: &mut Client, text: &str) {
    client.send(Message::Text(text.into())).expect("send");
}

pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|err| panic!("not JSON ({err}): {text}"))
}

/// The close frame the server answers with.
fn closed_with(client: &mut Client) -> Option<(u16, String)> {
    loop {
        match client.read() {
            Ok(Message::Close(frame)) => {
                return frame.map(|f| (u16::from(f.code), f.reason.as_str().to_owned()))
            }
            Ok(_) => continue,
            Err(err) => panic!("connection ended without a close frame: {err}"),
        }
    }
}

#[test]
fn accepted_sockets_echo_text_and_binary_and_close_both_ways() {
    let dir = suite_project();
    let mut node = util::dev(dir.path(), &[]);
    let mut client = connect(node.port, "/echo");
    send(&mut client, "hello");
    assert_eq!(next_text(&mut client), "echo hello");
    client
        .send(Message::Binary(vec![1u8, 2, 3].into()))
        .expect("send binary");
    assert_eq!(next(&mut client), Message::Binary(vec![1u8, 2, 3].into()));
    send(&mut client, "close-me");
    assert_eq!(closed_with(&mut client), Some((4000, "asked".into())));

    // Client-initiated: the server's close event fires and Cloudflare's auto-reply echoes it.
    let mut client = connect(node.port, "/echo");
    client
        .close(Some(CloseFrame {
            code: CloseCode::from(3001),
            reason: "done".into(),
        }))
        .expect("close");
    assert_eq!(closed_with(&mut client), Some((3001, "done".into())));
    assert!(
        node.wait_for_log("echo socket closed 3001 done true", Duration::from_secs(10)),
        "the server saw the close: {:?}",
        node.lines
    );
}

#[test]
fn workers_open_websockets_with_the_constructor_and_with_fetch() {
    let dir = suite_project();
    let node = util::dev(dir.path(), &[]);
    let (status, body) = node.get(&format!("/outbound?host=127.0.0.1:{}", node.port));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        json(&body),
        serde_json::json!({
            "viaConstructor": ["state 0", "open 1", "echo one", "close 1000 enough true"],
            "viaFetch": [101, "echo two"],
            "refused": "Failed to establish the WebSocket connection: expected server to reply with HTTP status code 101 (switching protocols), but received 404 instead.",
            "badScheme": "SyntaxError: WebSocket Constructor: The url scheme must be ws or wss.",
        })
    );
}

#[test]
fn a_websocket_response_to_a_plain_request_is_an_error() {
    let dir = suite_project();
    let node = util::dev(dir.path(), &[]);
    let (status, _) = node.get("/not-upgraded");
    assert_eq!(status, 500);
}

#[test]
fn hibernatable_sockets_outlive_eviction_and_keep_tags_and_attachments() {
    let dir = suite_project();
    let node = util::dev(dir.path(), &["--object-idle-evict-ms", "200"]);
    let mut red = connect(node.port, "/hub/h1?tag=red&who=ann");
    let mut blue = connect(node.port, "/hub/h1?tag=blue&who=bob");
    send(&mut red, "who");
    let first = json(&next_text(&mut red));
    assert_eq!(first["sockets"], 2, "{first}");
    assert_eq!(first["red"], 1, "{first}");
    assert_eq!(first["attachment"], serde_json::json!({"joined": "ann"}));
    assert_eq!(first["tags"], serde_json::json!(["red", "all"]));
    let constructed = first["constructions"].as_u64().expect("a count");

    // The auto-response answers without an event, even while the object is evicted.
    std::thread::sleep(Duration::from_millis(1500));
    send(&mut blue, "ping");
    assert_eq!(next_text(&mut blue), "pong");
    send(&mut blue, "who");
    let after = json(&next_text(&mut blue));
    assert!(
        after["constructions"].as_u64() > Some(constructed),
        "the object was evicted and re-created: {after}"
    );
    assert_eq!(after["sockets"], 2, "{after}");
    assert_eq!(after["attachment"], serde_json::json!({"joined": "bob"}));
    assert_eq!(after["tags"], serde_json::json!(["blue", "all"]));
    assert_eq!(after["autoResponseSeen"], true, "{after}");

    // Fan-out from a re-created object reaches every socket.
    send(&mut red, "all:hi everyone");
    assert_eq!(next_text(&mut red), "hi everyone");
    assert_eq!(next_text(&mut blue), "hi everyone");
    red.send(Message::Binary(vec![1u8, 2, 3].into()))
        .expect("send");
    assert_eq!(next(&mut red), Message::Binary(vec![3u8, 2, 1].into()));
}

#[test]
fn closes_reach_the_object_with_their_code_and_cleanliness() {
    let dir = suite_project();
    let node = util::dev(dir.path(), &[]);
    let mut clean = connect(node.port, "/hub/h2?who=clean");
    clean
        .close(Some(CloseFrame {
            code: CloseCode::from(4321),
            reason: "leaving".into(),
        }))
        .expect("close");
    let _ = clean.flush();
    let gone = connect(node.port, "/hub/h2?who=gone");
    drop(gone); // no close frame: the TCP connection just ends
    let mut server_closed = connect(node.port, "/hub/h2?who=told");
    send(&mut server_closed, "bye");
    assert_eq!(
        closed_with(&mut server_closed),
        Some((4001, "as you wish".into()))
    );
    let _ = server_closed.flush();

    let deadline = Instant::now() + Duration::from_secs(10);
    let closes = loop {
        let (status, body) = node.get("/hub/h2/closes");
        assert_eq!(status, 200, "{body}");
        let closes = json(&body);
        if closes.as_array().map_or(0, Vec::len) >= 3 || Instant::now() > deadline {
            break closes;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut closes: Vec<serde_json::Value> = closes.as_array().cloned().unwrap_or_default();
    closes.sort_by_key(|c| c[0].as_str().unwrap_or_default().to_owned());
    assert_eq!(
        serde_json::Value::Array(closes),
        serde_json::json!([
            ["clean", 4321, "leaving", true],
            [
                "gone",
                1006,
                "WebSocket disconnected without sending Close frame.",
                false
            ],
            ["told", 4001, "as you wish", true],
        ])
    );
}

#[test]
fn a_protocol_error_reaches_web_socket_error_and_no_close_follows() {
    let dir = suite_project();
    let node = util::dev(dir.path(), &[]);
    let mut client = connect(node.port, "/hub/h5?who=big");
    // One byte over the message limit: the server's WebSocket fails with a capacity error.
    let big = "x".repeat(kiln_runtime::limits::WEBSOCKET_MESSAGE_BYTES_MAX + 1);
    let _ = client.send(Message::Text(big.into()));
    let deadline = Instant::now() + Duration::from_secs(10);
    let errors = loop {
        let (status, body) = node.get("/hub/h5/errors");
        assert_eq!(status, 200, "{body}");
        let errors = json(&body);
        if errors.as_array().is_some_and(|e| !e.is_empty()) || Instant::now() > deadline {
            break errors;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let errors = errors.as_array().cloned().unwrap_or_default();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0][0], "big");
    assert_eq!(errors[0][1], true, "webSocketError gets an Error");
    assert!(
        errors[0][2].as_str().is_some_and(|m| m.contains("too long")
            || m.contains("too big")
            || m.contains("Space limit")),
        "{errors:?}"
    );
    let (status, body) = node.get("/hub/h5/closes");
    assert_eq!(
        (status, body.as_str()),
        (200, "[]"),
        "no close after an error"
    );
}

#[test]
fn an_event_past_its_hibernatable_timeout_lets_the_next_one_in() {
    let dir = suite_project();
    let node = util::dev(dir.path(), &[]);
    let mut client = connect(node.port, "/hub/h6?who=slow");
    send(&mut client, "timeout:300");
    assert_eq!(next_text(&mut client), "timeout 300");
    let started = Instant::now();
    send(&mut client, "sleep");
    send(&mut client, "after");
    // Frames are delivered one event at a time: "after" waits for "sleep" to end, which the
    // timeout cuts to 300 ms instead of its 3 s.
    assert_eq!(next_text(&mut client), "echo after");
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "the next event waited {:?}",
        started.elapsed()
    );
}

#[test]
fn a_frame_sent_after_a_write_leaves_only_once_the_write_survives_kill_9() {
    let dir = suite_project();
    let state = tempfile::tempdir().expect("tempdir");
    let persist = state.path().to_string_lossy().into_owned();
    let node = util::dev(
        dir.path(),
        &["--persist-to", &persist, "--test-slow-flush-ms", "300"],
    );
    let mut client = connect(node.port, "/hub/h3");
    let started = Instant::now();
    send(&mut client, "store:42");
    assert_eq!(next_text(&mut client), "stored 42");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "the frame waited for the fsync"
    );
    node.kill9();
    let node = util::dev(dir.path(), &["--persist-to", &persist]);
    let mut client = connect(node.port, "/hub/h3");
    send(&mut client, "get");
    assert_eq!(next_text(&mut client), "value 42");
}

#[test]
fn misuse_throws_the_errors_cloudflare_throws() {
    let dir = suite_project();
    let node = util::dev(dir.path(), &[]);
    let (status, body) = node.get("/hub/h4/misuse");
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body), serde_json::json!([]), "{body}");
}

#[test]
fn chat_example_fans_out_in_order_and_keeps_history_across_kill_9() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/chat");
    let state = tempfile::tempdir().expect("tempdir");
    let persist = state.path().to_string_lossy().into_owned();
    let node = util::dev(&root, &["--persist-to", &persist]);
    let (status, page) = node.get("/");
    assert_eq!(status, 200);
    assert!(page.contains("<title>Kiln chat</title>"), "{page}");

    let mut alice = connect(node.port, "/api/room/lobby/websocket");
    send(&mut alice, r#"{"name":"alice"}"#);
    assert_eq!(
        json(&next_text(&mut alice)),
        serde_json::json!({"backlog": []})
    );
    assert_eq!(
        json(&next_text(&mut alice)),
        serde_json::json!({"joined": "alice"})
    );
    let mut bob = connect(node.port, "/api/room/lobby/websocket");
    send(&mut bob, r#"{"name":"bob"}"#);
    assert_eq!(
        json(&next_text(&mut bob)),
        serde_json::json!({"backlog": []})
    );
    assert_eq!(
        json(&next_text(&mut bob)),
        serde_json::json!({"joined": "bob"})
    );
    assert_eq!(
        json(&next_text(&mut alice)),
        serde_json::json!({"joined": "bob"})
    );

    for i in 0..5 {
        send(&mut alice, &format!(r#"{{"message":"m{i}"}}"#));
    }
    for client in [&mut alice, &mut bob] {
        for i in 0..5 {
            let entry = json(&next_text(client));
            assert_eq!(entry["name"], "alice");
            assert_eq!(
                entry["message"],
                format!("m{i}"),
                "messages arrive in order"
            );
        }
    }
    send(&mut bob, "ping");
    assert_eq!(next_text(&mut bob), "pong");

    // The rate limiter (per client IP, shared by alice and bob): a burst of 10, then one a
    // second. Alice already used 5; of 10 more sent at once, some are refused.
    for i in 5..15 {
        send(&mut alice, &format!(r#"{{"message":"m{i}"}}"#));
    }
    let (mut accepted, mut refused) = (0, 0);
    for _ in 5..15 {
        let reply = json(&next_text(&mut alice));
        if reply["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("rate limited"))
        {
            refused += 1;
        } else {
            assert_eq!(reply["name"], "alice", "{reply}");
            accepted += 1;
        }
    }
    assert!(
        refused >= 3,
        "a burst past the limit is refused ({accepted} accepted)"
    );
    assert!(
        accepted >= 5,
        "the burst allowance is honoured ({refused} refused)"
    );
    for _ in 0..accepted {
        assert_eq!(json(&next_text(&mut bob))["name"], "alice");
    }

    node.kill9();
    let node = util::dev(&root, &["--persist-to", &persist]);
    let (status, history) = node.get("/api/room/lobby/history");
    assert_eq!(status, 200, "{history}");
    let messages: Vec<String> = json(&history)
        .as_array()
        .expect("an array")
        .iter()
        .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(messages.len(), 5 + accepted, "{messages:?}");
    assert_eq!(messages[..5], ["m0", "m1", "m2", "m3", "m4"]);
    let mut carol = connect(node.port, "/api/room/lobby/websocket");
    send(&mut carol, r#"{"name":"carol"}"#);
    let backlog = json(&next_text(&mut carol));
    assert_eq!(
        backlog["backlog"].as_array().map(Vec::len),
        Some(5 + accepted),
        "{backlog}"
    );
}
