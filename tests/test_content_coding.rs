//! Content codings end to end: a gzip response from an origin reaches the worker decoded (its
//! `Content-Encoding` header kept), so `text()` and HTMLRewriter see the page; the origin is
//! asked only for codings Kiln decodes; a response whose header says gzip leaves the node
//! gzip-compressed; `encodeBody: "manual"` sends a body the worker compressed itself as is; and
//! stream bodies of known length (bytes, FixedLengthStream, R2) go out with Content-Length.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::util;

const PAGE: &str = "<html><body><h1>Hello</h1><p>origin page</p></body></html>";
/// Connections the origin serves before it stops (the test makes three).
const ORIGIN_CONNECTIONS_MAX: usize = 8;

const WORKER: &str = r#"
export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    if (path === "/read") {
      const response = await fetch(env.ORIGIN);
      return Response.json({ encoding: response.headers.get("content-encoding"), text: await response.text() });
    }
    if (path === "/proxy") {
      const upstream = await fetch(env.ORIGIN, { headers: request.headers });
      return new HTMLRewriter().on("h1", { element(e) { e.setInnerContent("Rewritten"); } }).transform(upstream);
    }
    if (path === "/manual") {
      const body = new Response("compressed by the worker").body.pipeThrough(new CompressionStream("gzip"));
      return new Response(body, { headers: { "content-encoding": "gzip" }, encodeBody: "manual" });
    }
    return new Response("not found", { status: 404 });
  },
};
"#;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

fn gunzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .expect("a gzip body");
    text
}

/// An origin that answers every request with the page, gzip-compressed whatever it was asked,
/// and records each request's Accept-Encoding.
fn origin() -> (u16, Arc<Mutex<Vec<Option<String>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming().take(ORIGIN_CONNECTIONS_MAX) {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut accept = None;
            for _ in 0..100 {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("accept-encoding") {
                        accept = Some(value.trim().to_owned());
                    }
                }
            }
            record.lock().expect("lock").push(accept);
            let body = gzip(PAGE.as_bytes());
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    (port, seen)
}

/// A raw HTTP/1.1 GET: the response's headers (lowercased names) and its body, de-chunked.
fn get_raw(port: u16, path: &str, accept_encoding: &str) -> (Vec<(String, String)>, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: {accept_encoding}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header block");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(name, value)| name == "transfer-encoding" && value.contains("chunked"))
    {
        let mut plain = Vec::new();
        let mut rest = &body[..];
        for _ in 0..100_000 {
            let line_end = rest
                .windows(2)
                .position(|w| w == b"\r\n")
                .expect("chunk size");
            let size = usize::from_str_radix(
                std::str::from_utf8(&rest[..line_end]).expect("hex").trim(),
                16,
            )
            .expect("chunk size");
            if size == 0 {
                break;
            }
            plain.extend_from_slice(&rest[line_end + 2..line_end + 2 + size]);
            rest = &rest[line_end + 2 + size + 2..];
        }
        body = plain;
    }
    (headers, body)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn gzip_responses_are_decoded_for_the_worker_and_encoded_for_the_client() {
    let (origin_port, seen) = origin();
    let dir = util::project(&[
        (
            "wrangler.toml",
            "name = \"coding\"\nmain = \"index.js\"\ncompatibility_date = \"2025-01-01\"\n",
        ),
        ("index.js", WORKER),
    ]);
    let origin_var = format!("ORIGIN:http://127.0.0.1:{origin_port}/");
    let node = util::dev(dir.path(), &["--var", &origin_var]);

    let (status, body) = node.get("/read");
    assert_eq!(status, 200, "{body}");
    let read: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(
        read,
        serde_json::json!({ "encoding": "gzip", "text": PAGE })
    );

    let (headers, body) = get_raw(node.port, "/proxy", "gzip, br");
    assert_eq!(
        header(&headers, "content-encoding"),
        Some("gzip"),
        "{headers:?}"
    );
    assert_eq!(
        gunzip(&body),
        "<html><body><h1>Rewritten</h1><p>origin page</p></body></html>"
    );
    let asked = seen.lock().expect("lock").clone();
    assert_eq!(
        asked,
        vec![None, Some("gzip".to_owned())],
        "the origin is asked only for what Kiln decodes"
    );

    let (headers, body) = get_raw(node.port, "/manual", "gzip");
    assert_eq!(
        header(&headers, "content-encoding"),
        Some("gzip"),
        "{headers:?}"
    );
    assert_eq!(
        gunzip(&body),
        "compressed by the worker",
        "compressed once, not twice"
    );
}

#[test]
fn stream_bodies_of_known_length_go_out_with_content_length() {
    let worker = r#"
export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    if (path === "/r2") {
      await env.FILES.put("f.txt", "0123456789");
      const object = await env.FILES.get("f.txt");
      return new Response(object.body);
    }
    if (path === "/fixed") {
      const { readable, writable } = new FixedLengthStream(5);
      const writer = writable.getWriter();
      writer.write(new TextEncoder().encode("hel")).then(() => writer.write(new TextEncoder().encode("lo"))).then(() => writer.close());
      return new Response(readable);
    }
    if (path === "/rewrap") {
      const original = new Response("hello world");
      return new Response(original.body, original);
    }
    return new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("unknown")); c.close(); } }));
  },
};"#;
    let dir = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "lengths", "main": "index.js", "compatibility_date": "2025-01-01",
                 "r2_buckets": [{ "binding": "FILES", "bucket_name": "lengths" }] }"#,
        ),
        ("index.js", worker),
    ]);
    let node = util::dev(dir.path(), &[]);
    for (path, length, body) in [
        ("/r2", "10", "0123456789"),
        ("/fixed", "5", "hello"),
        ("/rewrap", "11", "hello world"),
    ] {
        let (headers, got) = get_raw(node.port, path, "identity");
        assert_eq!(
            header(&headers, "content-length"),
            Some(length),
            "{path}: {headers:?}"
        );
        assert_eq!(String::from_utf8_lossy(&got), body, "{path}");
    }
    let (headers, got) = get_raw(node.port, "/stream", "identity");
    assert_eq!(
        header(&headers, "transfer-encoding"),
        Some("chunked"),
        "{headers:?}"
    );
    assert_eq!(String::from_utf8_lossy(&got), "unknown");
}
