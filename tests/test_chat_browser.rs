//! The chat example in a real browser: Debian's headless Chromium, driven over the DevTools
//! protocol, loads the page in one tab that joins a room over a WebSocket and sends messages;
//! a second tab joins later and is shown the history in order. Skips (and says so) where no
//! Chromium is installed; `.ci/run` installs it.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio_tungstenite::tungstenite::{self, Message, WebSocket};

use crate::util;

/// How long the browser may take to start, and a page to show what it should.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(30);

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
}

/// A headless browser and a DevTools connection to it.
struct Browser {
    child: Child,
    devtools: WebSocket<TcpStream>,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    fn start(path: &Path) -> Browser {
        let profile = tempfile::tempdir().expect("profile dir");
        let mut child = Command::new(path)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chromium");
        let stderr = child.stderr.take().expect("stderr");
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.split("DevTools listening on ").nth(1) {
                    let _ = sender.send(url.trim().to_owned());
                }
            }
        });
        let url = receiver
            .recv_timeout(BROWSER_TIMEOUT)
            .expect("chromium printed its DevTools address");
        let authority = url
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .expect("host:port")
            .to_owned();
        let stream = TcpStream::connect(&authority).expect("connect to DevTools");
        stream
            .set_read_timeout(Some(BROWSER_TIMEOUT))
            .expect("timeout");
        let (devtools, _) = tungstenite::client(url.as_str(), stream).expect("DevTools handshake");
        Browser {
            child,
            devtools,
            next_id: 0,
            _profile: profile,
        }
    }

    /// Sends a DevTools command and returns its result, skipping events.
    fn command(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: serde_json::Value,
    ) -> serde_json::Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = serde_json::json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = session.into();
        }
        self.devtools
            .send(Message::Text(message.to_string().into()))
            .expect("send to DevTools");
        let deadline = Instant::now() + BROWSER_TIMEOUT;
        while Instant::now() < deadline {
            let Message::Text(text) = self.devtools.read().expect("read DevTools") else {
                continue;
            };
            let reply: serde_json::Value = serde_json::from_str(text.as_str()).expect("JSON");
            if reply["id"] == id {
                assert!(reply.get("error").is_none(), "{method}: {reply}");
                return reply["result"].clone();
            }
        }
        panic!("DevTools did not answer {method}");
    }

    /// Opens `url` in a new tab; returns the tab's session.
    fn open(&mut self, url: &str) -> String {
        let target = self.command(
            None,
            "Target.createTarget",
            serde_json::json!({ "url": url }),
        );
        let attached = self.command(
            None,
            "Target.attachToTarget",
            serde_json::json!({ "targetId": target["targetId"], "flatten": true }),
        );
        attached["sessionId"]
            .as_str()
            .expect("a session")
            .to_owned()
    }

    /// The chat log's text in a tab.
    fn log(&mut self, session: &str) -> String {
        let result = self.command(
            Some(session),
            "Runtime.evaluate",
            serde_json::json!({
                "expression": "document.getElementById('log')?.innerText ?? ''",
                "returnByValue": true
            }),
        );
        result["result"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Waits until the tab's chat log holds every one of `lines`, in this order.
    fn wait_for(&mut self, session: &str, lines: &[&str]) -> String {
        let deadline = Instant::now() + BROWSER_TIMEOUT;
        loop {
            let log = self.log(session);
            let mut from = 0;
            let in_order = lines.iter().all(|line| match log[from..].find(line) {
                Some(at) => {
                    from += at + line.len();
                    true
                }
                None => false,
            });
            if in_order {
                return log;
            }
            assert!(
                Instant::now() < deadline,
                "the page showed {log:?}, not {lines:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
#[allow(clippy::print_stderr)]
fn chat_page_works_in_a_headless_browser() {
    let Some(path) = chromium() else {
        eprintln!("SKIPPED chat_page_works_in_a_headless_browser: no chromium at /usr/bin/chromium (apt-get install chromium)");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/chat");
    let state = tempfile::tempdir().expect("tempdir");
    let persist = state.path().to_string_lossy().into_owned();
    let node = util::dev(&root, &["--persist-to", &persist]);
    let base = format!("http://127.0.0.1:{}", node.port);

    let mut browser = Browser::start(&path);
    let ann = browser.open(&format!("{base}/?room=web&name=ann&say=hello|world"));
    browser.wait_for(&ann, &["ann joined", "ann: hello", "ann: world"]);
    let bob = browser.open(&format!("{base}/?room=web&name=bob"));
    browser.wait_for(&bob, &["ann: hello", "ann: world", "bob joined"]);
    browser.wait_for(&ann, &["ann: world", "bob joined"]);
}
