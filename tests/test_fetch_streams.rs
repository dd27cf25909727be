//! `fetch()` with a request body the worker streams: the origin receives each chunk as the
//! worker writes it (chunked), not the whole body at the end.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::util;

/// An origin that reads one chunked request and answers with the milliseconds (since its
/// headers arrived) at which each body chunk arrived, and the chunks' text.
fn timing_origin() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let Some(Ok(mut stream)) = listener.incoming().next() else {
            return;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        for _ in 0..100 {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
        }
        let started = Instant::now();
        let mut chunks = Vec::new();
        for _ in 0..100 {
            let mut size = String::new();
            if reader.read_line(&mut size).unwrap_or(0) == 0 {
                break;
            }
            let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
                break;
            };
            let mut data = vec![0u8; size + 2];
            if std::io::Read::read_exact(&mut reader, &mut data).is_err() || size == 0 {
                break;
            }
            chunks.push(format!(
                "{}:{}",
                started.elapsed().as_millis(),
                String::from_utf8_lossy(&data[..size])
            ));
        }
        let body = chunks.join(",");
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    });
    port
}

#[test]
fn a_streamed_request_body_reaches_the_origin_as_it_is_written() {
    let port = timing_origin();
    let dir = util::project(&[
        (
            "wrangler.jsonc",
            &format!(
                r#"{{ "name": "upload", "main": "index.js", "compatibility_date": "2025-01-01",
                     "vars": {{ "ORIGIN": "http://127.0.0.1:{port}/" }} }}"#
            ),
        ),
        (
            "index.js",
            r#"export default {
              async fetch(request, env) {
                const encoder = new TextEncoder();
                const body = new ReadableStream({
                  async start(c) {
                    c.enqueue(encoder.encode("first"));
                    await new Promise((r) => setTimeout(r, 800));
                    c.enqueue(encoder.encode("second"));
                    c.close();
                  },
                });
                const response = await fetch(env.ORIGIN, { method: "POST", body, duplex: "half" });
                return new Response(await response.text());
              },
            };"#,
        ),
    ]);
    let node = util::dev(dir.path(), &[]);
    let (status, body) = node.get("/");
    assert_eq!(status, 200, "{body}");
    let chunks: Vec<(u128, &str)> = body
        .split(',')
        .filter_map(|c| {
            let (at, text) = c.split_once(':')?;
            Some((at.parse().ok()?, text))
        })
        .collect();
    let text: String = chunks.iter().map(|c| c.1).collect();
    assert_eq!(text, "firstsecond", "{body}");
    let first = chunks.first().expect("a chunk").0;
    let last = chunks.last().expect("a chunk").0;
    assert!(
        first < 500 && last >= 600,
        "the first chunk arrived at {first} ms and the last at {last} ms: the body was not streamed ({body})"
    );
}
