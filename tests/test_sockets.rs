//! `connect()` of `cloudflare:sockets` through a real `kiln dev`: a TCP exchange with a server on
//! 127.0.0.1 (write, half-close, read to the end), a refused connection, and a Dynamic Worker
//! with `globalOutbound: null` that may not connect at all.

use std::io::{Read, Write};
use std::net::TcpListener;

use crate::util;

const WORKER: &str = r#"
import { connect } from "cloudflare:sockets";
export default {
  async fetch(request, env) {
    const port = Number(new URL(request.url).searchParams.get("port"));
    const socket = connect({ hostname: "127.0.0.1", port });
    const info = await socket.opened;
    const writer = socket.writable.getWriter();
    await writer.write(new TextEncoder().encode("hello "));
    await writer.write("kiln");
    await writer.close();
    const text = await new Response(socket.readable).text();
    await socket.closed;
    let refused;
    try { await connect("127.0.0.1:1").opened; } catch (err) { refused = err.message; }
    const blocked = env.LOADER.get("blocked", () => ({
      compatibilityDate: "2025-01-01",
      mainModule: "m.js",
      modules: { "m.js": `import { connect } from "cloudflare:sockets";
        export default { fetch() {
          try { connect("127.0.0.1:80"); return new Response("connected"); }
          catch (err) { return new Response(err.message); } } };` },
      globalOutbound: null,
    }));
    const refusedOutbound = await (await blocked.getEntrypoint().fetch("http://x/")).text();
    return Response.json({ text, remote: info.remoteAddress, refused, refusedOutbound });
  },
};
"#;

#[test]
fn connect_exchanges_bytes_over_tcp_and_respects_a_blocked_outbound() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut received = String::new();
        stream
            .read_to_string(&mut received)
            .expect("read to the end");
        stream
            .write_all(received.to_uppercase().as_bytes())
            .expect("answer");
    });
    let dir = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "sockets", "main": "index.js", "compatibility_date": "2025-04-01",
                 "worker_loaders": [{ "binding": "LOADER" }] }"#,
        ),
        ("index.js", WORKER),
    ]);
    let node = util::dev(dir.path(), &[]);
    let (status, body) = node.get(&format!("/?port={port}"));
    assert_eq!(status, 200, "{body}");
    let got: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(got["text"], "HELLO KILN", "{body}");
    assert_eq!(got["remote"], format!("127.0.0.1:{port}"), "{body}");
    assert_eq!(
        got["refused"],
        "proxy request failed, cannot connect to the specified address"
    );
    assert!(
        got["refusedOutbound"]
            .as_str()
            .unwrap_or_default()
            .starts_with("This worker is not permitted to access the internet"),
        "{body}"
    );
    server.join().expect("server");
}

#[test]
fn a_hyperdrive_binding_describes_its_local_database_and_connects_to_it() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        stream.write_all(b"db says hi").expect("greet");
    });
    let dir = util::project(&[
        (
            "wrangler.jsonc",
            &format!(
                r#"{{ "name": "hd", "main": "index.js", "compatibility_date": "2025-04-01",
                     "hyperdrive": [{{ "binding": "HD", "id": "abc",
                       "localConnectionString": "postgres://ann:s%40cret@127.0.0.1:{port}/shop" }}] }}"#
            ),
        ),
        (
            "index.js",
            r#"export default { async fetch(request, env) {
                 const socket = env.HD.connect();
                 const greeting = await new Response(socket.readable).text();
                 return Response.json([env.HD.host, env.HD.port, env.HD.user, env.HD.password, env.HD.database, greeting]);
               } };"#,
        ),
    ]);
    let node = util::dev(dir.path(), &[]);
    let (status, body) = node.get("/");
    assert_eq!(status, 200, "{body}");
    let got: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(
        got,
        serde_json::json!(["127.0.0.1", port, "ann", "s@cret", "shop", "db says hi"])
    );
    server.join().expect("server");
}
