//! The harness: starts `kiln dev` on an ephemeral port and speaks plain HTTP/1.1 to it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Longest wait for a node to report it is ready.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Node {
    child: Child,
    pub port: u16,
    log: mpsc::Receiver<String>,
    pub lines: Vec<String>,
}

impl Drop for Node {
    #[allow(clippy::print_stderr)] // the log tail is for whoever reads a failed test's output
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // A failing test shows the last of what its nodes logged (the first clue to a flake).
        if std::thread::panicking() {
            let deadline = Instant::now() + Duration::from_secs(1);
            while let Ok(line) = self.log.recv_timeout(Duration::from_millis(100)) {
                self.lines.push(line);
                if Instant::now() > deadline {
                    break;
                }
            }
            let start = self.lines.len().saturating_sub(LOG_TAIL_ON_FAILURE);
            eprintln!("---- last log lines of kiln (pid {}) ----", self.child.id());
            for line in &self.lines[start..] {
                eprintln!("{line}");
            }
        }
    }
}

/// How many of a node's last log lines a failing test prints.
const LOG_TAIL_ON_FAILURE: usize = 60;

pub fn kiln() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kiln"));
    command.env("NO_COLOR", "1").env("RUST_LOG", "info");
    command
}

/// Starts `kiln dev DIR --port 0`, waiting for its "Ready on" line.
pub fn dev(dir: &Path, extra: &[&str]) -> Node {
    let mut command = kiln();
    command
        .arg("dev")
        .arg(dir)
        .args(["--port", "0"])
        .args(extra);
    start(command)
}

/// Starts a `kiln` command that serves HTTP, waiting for its "Ready on" line.
pub fn start(mut command: Command) -> Node {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kiln");
    let stderr = child.stderr.take().expect("stderr");
    let (sender, log) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let mut node = Node {
        child,
        port: 0,
        log,
        lines: Vec::new(),
    };
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    while Instant::now() < deadline {
        match node.log.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => {
                if let Some(rest) = line.split("Ready on http://").nth(1) {
                    let address = rest.split_whitespace().next().unwrap_or_default();
                    node.port = address
                        .rsplit(':')
                        .next()
                        .and_then(|p| p.parse().ok())
                        .unwrap_or(0);
                }
                node.lines.push(line);
                if node.port != 0 {
                    return node;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    panic!("kiln did not become ready: {:#?}", node.lines);
}

impl Node {
    /// Collects log lines until one contains `needle` or `timeout` passes.
    pub fn wait_for_log(&mut self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        if self.lines.iter().any(|l| l.contains(needle)) {
            return true;
        }
        while Instant::now() < deadline {
            if let Ok(line) = self.log.recv_timeout(Duration::from_millis(50)) {
                let found = line.contains(needle);
                self.lines.push(line);
                if found {
                    return true;
                }
            }
        }
        false
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        request(
            self.port,
            &format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
        )
    }
}

/// Sends a raw request and reads the whole response; returns (status, body). A connection that
/// fails (nobody listens, the node died) is status 0 with the error as the body.
pub fn request(port: u16, raw: &str) -> (u16, String) {
    let mut stream = match TcpStream::connect(("127.0.0.1", port)) {
        Ok(stream) => stream,
        Err(err) => return (0, format!("connect: {err}")),
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    if let Err(err) = stream.write_all(raw.as_bytes()) {
        return (0, format!("write: {err}"));
    }
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    let body = if text
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(&body)
    } else {
        body
    };
    (status, body)
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || after.len() < size {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}

/// Writes a worker project into a fresh temporary directory.
pub fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, content) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, content).expect("write");
    }
    dir
}

/// Runs `kiln` to completion with a time bound; returns (exit success, stderr then stdout).
pub fn run_to_exit(mut command: Command) -> (bool, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut output = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = pipe.read_to_string(&mut output);
            }
            if let Some(mut pipe) = child.stdout.take() {
                let _ = pipe.read_to_string(&mut output);
            }
            return (status.success(), output);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("kiln did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `kiln dev DIR` expecting it to exit (a startup failure); returns (success, stderr).
pub fn dev_until_exit(dir: &Path) -> (bool, String) {
    let mut command = kiln();
    command.arg("dev").arg(dir).args(["--port", "0"]);
    run_to_exit(command)
}

/// `GET path` on `port`; returns (status, body).
pub fn get_port(port: u16, path: &str) -> (u16, String) {
    request(
        port,
        &format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
    )
}

/// `POST path` with an empty body; returns (status, body).
pub fn post(port: u16, path: &str) -> (u16, String) {
    request(
        port,
        &format!("POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
    )
}

impl Node {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process with SIGKILL, as a crash would, and waits for it to be gone.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
