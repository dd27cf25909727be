//! `kiln tail <script>`: live trace items of a script (what a Tail Worker would get: outcome,
//! request, `console` logs, exceptions), one JSON object per line, as `wrangler tail --format
//! json` prints them. The node streams them from its admin API (`GET {PREFIX}tail/<script>`,
//! token-protected); this module holds both ends.
//!
//! Guarantees: a watcher too slow to keep up is told how many items it missed
//! (`{"lagged": n}`) instead of slowing the worker; the stream ends when the client leaves.

use std::io::{BufRead, BufReader, Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

use anyhow::Context as _;
use bytes::Bytes;
use kiln_runtime::{Body, Runtime};
use tokio::sync::{broadcast, mpsc};

use crate::admin_client::NodeArgs;

/// Lines queued for one watcher's connection.
const WATCHER_LINES_MAX: usize = 256;

/// A response body fed line by line from a channel.
struct LineBody(mpsc::Receiver<Bytes>);

impl http_body::Body for LineBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|line| line.map(|bytes| Ok(http_body::Frame::data(bytes))))
    }
}

/// The admin API's answer to `GET tail/<script>`: a stream that stays open while the client
/// reads it.
pub fn stream(runtime: &Runtime, script: &str) -> http::Response<Body> {
    let Some(mut items) = runtime.tails().subscribe(script) else {
        let mut response = http::Response::new(kiln_runtime::full(
            "{\"error\":\"too many scripts are tailed at once\"}",
        ));
        *response.status_mut() = http::StatusCode::SERVICE_UNAVAILABLE;
        return response;
    };
    let (lines, body) = mpsc::channel(WATCHER_LINES_MAX);
    tokio::spawn(async move {
        loop {
            let line = match items.recv().await {
                Ok(item) => format!("{item}\n"),
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    format!("{{\"lagged\":{missed}}}\n")
                }
                Err(broadcast::error::RecvError::Closed) => break,
            };
            if lines.send(Bytes::from(line)).await.is_err() {
                break;
            }
        }
    });
    let mut response = http::Response::new(kiln_runtime::boxed(LineBody(body)));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/x-ndjson"),
    );
    response
}

#[derive(clap::Args, Debug)]
pub struct TailArgs {
    /// The script (worker name) to watch.
    pub script: String,
    #[command(flatten)]
    pub node: NodeArgs,
}

/// Prints the script's trace items as they come, until the node closes the stream.
pub fn run(args: TailArgs) -> anyhow::Result<()> {
    let (url, token) = args.node.resolve()?;
    let host = url.host_str().context("the URL has no host")?.to_owned();
    let port = url.port_or_known_default().unwrap_or(80);
    let mut stream = std::net::TcpStream::connect((host.as_str(), port))
        .with_context(|| format!("connecting to {url}"))?;
    let script: String = url::form_urlencoded::byte_serialize(args.script.as_bytes()).collect();
    let head = format!(
        "GET {}tail/{script} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n",
        crate::admin::PREFIX
    );
    stream.write_all(head.as_bytes())?;
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line)?;
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut chunked = false;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        chunked |= lower.starts_with("transfer-encoding:") && lower.contains("chunked");
    }
    if status != 200 {
        let mut body = String::new();
        reader.take(64 * 1024).read_to_string(&mut body)?;
        anyhow::bail!("the node answered {status}: {}", body.trim());
    }
    // The command's own output to its user, as wrangler tail says it (stdout is the items).
    #[allow(clippy::print_stderr)]
    {
        eprintln!("Connected to {}, waiting for logs...", args.script);
    }
    let stdout = std::io::stdout();
    if !chunked {
        for line in reader.lines() {
            writeln!(stdout.lock(), "{}", line?)?;
        }
        return Ok(());
    }
    loop {
        let mut size_line = String::new();
        if reader.read_line(&mut size_line)? == 0 {
            return Ok(());
        }
        let size_text = size_line
            .trim()
            .split(';')
            .next()
            .unwrap_or_default()
            .to_owned();
        let size = usize::from_str_radix(&size_text, 16)
            .with_context(|| format!("a chunk size of {size_text:?}"))?;
        if size == 0 {
            return Ok(());
        }
        let mut chunk = vec![0u8; size + 2];
        reader.read_exact(&mut chunk)?;
        let mut out = stdout.lock();
        out.write_all(&chunk[..size])?;
        out.flush()?;
    }
}
