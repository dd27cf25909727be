//! The chat example in a real browser: Debian's headless Chromium loads the page, joins a room
//! over a WebSocket and sends messages; a second browser joins later and is shown the history.
//! Skips (and says so) where no Chromium is installed; `.ci/run` installs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util;

const BROWSER_TIMEOUT: Duration = Duration::from_secs(60);

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
}

/// Loads `url` headless and returns the chat log's HTML once the page has run for a while.
fn chat_log(browser: &Path, url: &str) -> String {
    let profile = tempfile::tempdir().expect("profile dir");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + BROWSER_TIMEOUT;
    while child.try_wait().expect("poll chromium").is_none() {
        assert!(Instant::now() < deadline, "chromium did not finish");
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("chromium output");
    let dom = String::from_utf8_lossy(&output.stdout).into_owned();
    let start = dom
        .find(r#"<div id="log""#)
        .expect("the page has a chat log");
    let end = dom[start..].find("</div>").map_or(dom.len(), |i| start + i);
    dom[start..end].to_owned()
}

#[test]
#[allow(clippy::print_stderr)]
fn chat_page_works_in_a_headless_browser() {
    let Some(browser) = chromium() else {
        eprintln!("SKIPPED chat_page_works_in_a_headless_browser: no chromium at /usr/bin/chromium (apt-get install chromium)");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/chat");
    let state = tempfile::tempdir().expect("tempdir");
    let persist = state.path().to_string_lossy().into_owned();
    let node = util::dev(&root, &["--persist-to", &persist]);
    let base = format!("http://127.0.0.1:{}", node.port);

    let first = chat_log(
        &browser,
        &format!("{base}/?room=web&name=ann&say=hello|world"),
    );
    assert!(first.contains("ann joined"), "{first}");
    assert!(first.contains("ann: hello"), "{first}");

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, history) = node.get("/api/room/web/history");
        if history.contains("world") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the messages were stored: {history}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let second = chat_log(&browser, &format!("{base}/?room=web&name=bob"));
    let hello = second
        .find("ann: hello")
        .unwrap_or_else(|| panic!("{second}"));
    let world = second
        .find("ann: world")
        .unwrap_or_else(|| panic!("{second}"));
    assert!(hello < world, "the history replays in order: {second}");
}
