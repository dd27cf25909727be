//! The command line's side of a node's token-protected HTTP APIs (`kiln objects`, `kiln
//! deploy`, `kiln kv`): the flags that name the node, its admin token, and one HTTP/1.1
//! exchange.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

/// The answer's body may not be larger than this (a KV value at its limit, and then some).
const RESPONSE_BYTES_MAX: u64 = 64 * 1024 * 1024;

/// The flags that name a running node and its admin token.
#[derive(clap::Args, Debug, Clone)]
pub struct NodeArgs {
    /// The node's URL.
    #[arg(
        long,
        global = true,
        default_value = "http://127.0.0.1:8787",
        env = "KILN_URL"
    )]
    pub url: String,
    /// The admin token (default: read from the node's state directory).
    #[arg(long, global = true, env = "KILN_ADMIN_TOKEN")]
    pub token: Option<String>,
    /// The node's state directory, where `kiln dev` wrote its admin token.
    #[arg(long, global = true, default_value = ".kiln", env = "KILN_PERSIST_TO")]
    pub persist_to: PathBuf,
}

impl NodeArgs {
    /// The node's URL, parsed, and its admin token.
    pub fn resolve(&self) -> anyhow::Result<(url::Url, String)> {
        let url = url::Url::parse(&self.url).with_context(|| format!("--url {}", self.url))?;
        Ok((url, token(self.token.clone(), &self.persist_to)?))
    }
}

/// `--token`, or the token `kiln dev` wrote into its state directory.
pub fn token(given: Option<String>, persist_to: &Path) -> anyhow::Result<String> {
    if let Some(token) = given {
        return Ok(token);
    }
    let path = persist_to.join("admin-token");
    Ok(std::fs::read_to_string(&path)
        .with_context(|| {
            format!(
                "reading the admin token from {} (pass --token or --persist-to)",
                path.display()
            )
        })?
        .trim()
        .to_owned())
}

/// One HTTP/1.1 exchange with the node; `path` is absolute (an API's prefix and the route).
/// Returns (status, body).
pub fn exchange(
    url: &url::Url,
    method: &str,
    path: &str,
    token: &str,
    content_type: &str,
    body: &[u8],
) -> anyhow::Result<(u16, Vec<u8>)> {
    let host = url.host_str().context("the URL has no host")?.to_owned();
    let port = url.port_or_known_default().unwrap_or(80);
    let mut stream = std::net::TcpStream::connect((host.as_str(), port))
        .with_context(|| format!("connecting to {url}"))?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(60)))?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut response = Vec::new();
    stream.take(RESPONSE_BYTES_MAX).read_to_end(&mut response)?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("the node's answer has no header end")?;
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let body = response[split + 4..].to_vec();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let chunked = head.lines().any(|line| {
        let line = line.to_ascii_lowercase();
        line.starts_with("transfer-encoding:") && line.contains("chunked")
    });
    let body = if chunked { dechunk(&body)? } else { body };
    Ok((status, body))
}

/// The bytes of a chunked HTTP/1.1 body.
fn dechunk(mut rest: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .context("a chunk size line has no end")?;
        let size_text = String::from_utf8_lossy(&rest[..line_end]);
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .with_context(|| format!("a chunk size of {size_text:?}"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = rest.get(..size).context("a chunk is cut short")?;
        out.extend_from_slice(chunk);
        rest = rest.get(size + 2..).context("a chunk is cut short")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_are_joined_and_cut_ones_refused() {
        let body = b"5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n";
        assert_eq!(dechunk(body).expect("dechunk"), b"hello world");
        assert!(dechunk(b"5\r\nhel").is_err());
        assert!(dechunk(b"zz\r\n").is_err());
    }
}
