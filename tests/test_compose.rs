//! The docker-compose cluster (`docker-compose.yml` at the top of the repository) as a user runs
//! it: three containers on their own network serving the chat example, a chat exchange through
//! two of them, `docker kill` of one, and the chat and its history going on.
//!
//! It needs a Docker engine and a local base image (`tests/compose/make-base-image.sh` makes
//! `kiln-base:local`; `KILN_COMPOSE_BASE_IMAGE` names another). Where either is missing it says
//! that it skipped, loudly, and passes. The image is the `kiln` binary this test suite built,
//! on that base image (`tests/compose/Dockerfile`): nothing is pulled from a registry. The test
//! talks only to its own containers, through ports published on 127.0.0.1, and removes them
//! (and their volumes) when it ends.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::cluster_util::free_port;
use crate::test_websockets::{json, next_text, send, Client};

/// The compose project (it prefixes the test's containers, network and volumes).
const PROJECT: &str = "kilncomposetest";
/// The image the test builds and the compose file runs.
const IMAGE: &str = "kiln:compose-test";
const DEFAULT_BASE_IMAGE: &str = "kiln-base:local";
/// Longest wait for the cluster to form and serve the chat after `up`.
const FORMING_BUDGET: Duration = Duration::from_secs(90);
/// The compose file's shard count and default cluster key.
const SHARDS: u32 = 16;
const COMPOSE_CLUSTER_KEY: &str = "change-me-to-a-long-shared-secret";

/// Longest wait for the chat to work again after a container was killed.
const RECOVERY_BUDGET: Duration = Duration::from_secs(30);

/// Runs `docker ARGS`; returns (success, stdout and stderr).
fn docker(args: &[&str], env: &[(&str, String)]) -> (bool, String) {
    let mut command = Command::new("docker");
    command.args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    match command.output() {
        Ok(output) => (
            output.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        ),
        Err(err) => (false, format!("cannot run docker: {err}")),
    }
}

/// Why the test cannot run here, if it cannot.
fn skip_reason(base: &str) -> Option<String> {
    let (engine, output) = docker(&["info", "--format", "{{.ServerVersion}}"], &[]);
    if !engine {
        return Some(format!("no Docker engine is reachable ({})", output.trim()));
    }
    let (compose, output) = docker(&["compose", "version"], &[]);
    if !compose {
        return Some(format!(
            "`docker compose` does not work ({})",
            output.trim()
        ));
    }
    let (image, _) = docker(&["image", "inspect", base], &[]);
    if !image {
        return Some(format!(
            "the base image {base} is missing (tests/compose/make-base-image.sh makes it)"
        ));
    }
    None
}

/// `docker compose` for the test's project, with its image and ports.
struct Compose {
    file: PathBuf,
    env: Vec<(&'static str, String)>,
    ports: [u16; 3],
}

impl Compose {
    fn run(&self, args: &[&str]) -> (bool, String) {
        let file = self.file.to_string_lossy().into_owned();
        let mut all = vec!["compose", "-f", &file, "-p", PROJECT];
        all.extend_from_slice(args);
        docker(&all, &self.env)
    }

    fn port(&self, node: usize) -> u16 {
        self.ports[node - 1]
    }
}

impl Drop for Compose {
    fn drop(&mut self) {
        let (ok, output) = self.run(&["down", "-v", "--remove-orphans"]);
        if !ok && !std::thread::panicking() {
            panic!("docker compose down failed: {output}");
        }
    }
}

/// Builds the image from the test's `kiln` binary and the examples.
fn build_image(base: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let context = tempfile::tempdir().expect("tempdir");
    std::fs::copy(env!("CARGO_BIN_EXE_kiln"), context.path().join("kiln")).expect("copy kiln");
    let (ok, output) = crate::util::run_to_exit({
        let mut command = Command::new("cp");
        command
            .arg("-r")
            .arg(root.join("examples"))
            .arg(context.path().join("examples"));
        command
    });
    assert!(ok, "copy the examples: {output}");
    let dockerfile = root.join("tests/compose/Dockerfile");
    let context_dir = context.path().to_string_lossy().into_owned();
    let (ok, output) = docker(
        &[
            "build",
            "-q",
            "-f",
            &dockerfile.to_string_lossy(),
            "--build-arg",
            &format!("RUN_IMAGE={base}"),
            "-t",
            IMAGE,
            &context_dir,
        ],
        &[],
    );
    assert!(ok, "docker build failed: {output}");
}

/// A chat client in `room` through node `node`, joined with `name`; returns it and the backlog.
fn join(compose: &Compose, node: usize, room: &str, name: &str) -> Option<(Client, Vec<String>)> {
    let port = compose.port(node);
    let stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let url = format!("ws://127.0.0.1:{port}/api/room/{room}/websocket");
    let (mut client, _) = tokio_tungstenite::tungstenite::client(url.as_str(), stream).ok()?;
    send(&mut client, &format!(r#"{{"name":"{name}"}}"#));
    let backlog = json(&next_text(&mut client));
    let messages = backlog["backlog"]
        .as_array()?
        .iter()
        .filter_map(|entry| entry["message"].as_str().map(str::to_owned))
        .collect();
    Some((client, messages))
}

/// Joins, retrying until `budget` runs out (the cluster is forming or failing over).
fn join_within(
    compose: &Compose,
    node: usize,
    room: &str,
    name: &str,
    budget: Duration,
) -> (Client, Vec<String>) {
    let deadline = Instant::now() + budget;
    loop {
        let joined = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            join(compose, node, room, name)
        }));
        if let Ok(Some(joined)) = joined {
            return joined;
        }
        assert!(
            Instant::now() < deadline,
            "{name} could not join {room} through node {node}: {}",
            compose.run(&["logs", "--tail", "30"]).1
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Waits until every shard is led by its preferred node (shard % 3 + 1), as node 2 reports it:
/// the cluster has formed and its leaderships stopped moving (a message sent while its room
/// moves may be lost).
fn wait_for_balanced_leaders(compose: &Compose, budget: Duration) {
    let deadline = Instant::now() + budget;
    loop {
        let (ok, output) = compose.run(&[
            "exec",
            "-T",
            "node2",
            "kiln",
            "cluster",
            "status",
            "--node",
            "node2:7001",
            "--cluster-key",
            COMPOSE_CLUSTER_KEY,
        ]);
        let leaders: Vec<(u32, Option<u64>)> = output
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.split_whitespace().collect();
                Some((cells.first()?.parse().ok()?, cells.get(1)?.parse().ok()))
            })
            .collect();
        let balanced = ok
            && leaders.len() == SHARDS as usize
            && leaders
                .iter()
                .all(|(shard, leader)| *leader == Some(u64::from(shard % 3 + 1)));
        if balanced {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the compose cluster's leaders did not settle: {output}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The next chat message `client` receives (skipping joins and quits), as (name, message).
fn next_message(client: &mut Client) -> (String, String) {
    for _ in 0..20 {
        let value = json(&next_text(client));
        if let Some(message) = value["message"].as_str() {
            return (
                value["name"].as_str().unwrap_or_default().to_owned(),
                message.to_owned(),
            );
        }
    }
    panic!("no chat message among 20 frames");
}

#[test]
#[allow(clippy::print_stderr)] // the loud skip
fn the_compose_cluster_keeps_chatting_after_docker_kill_of_a_node() {
    let base =
        std::env::var("KILN_COMPOSE_BASE_IMAGE").unwrap_or_else(|_| DEFAULT_BASE_IMAGE.into());
    if let Some(reason) = skip_reason(&base) {
        eprintln!("SKIPPED the docker-compose test: {reason}");
        return;
    }
    build_image(&base);
    let ports = [free_port(), free_port(), free_port()];
    let compose = Compose {
        file: Path::new(env!("CARGO_MANIFEST_DIR")).join("../docker-compose.yml"),
        env: vec![
            ("KILN_IMAGE", IMAGE.to_owned()),
            ("KILN_PORT_1", ports[0].to_string()),
            ("KILN_PORT_2", ports[1].to_string()),
            ("KILN_PORT_3", ports[2].to_string()),
        ],
        ports,
    };
    // A project left by an interrupted run goes first.
    let _ = compose.run(&["down", "-v", "--remove-orphans"]);
    let (ok, output) = compose.run(&["up", "-d", "--no-build"]);
    assert!(ok, "docker compose up failed: {output}");

    // Ann on node 1, Bob on node 2: one room across the cluster.
    let (mut ann, _) = join_within(&compose, 1, "lobby", "ann", FORMING_BUDGET);
    wait_for_balanced_leaders(&compose, FORMING_BUDGET);
    let (mut bob, _) = join_within(&compose, 2, "lobby", "bob", FORMING_BUDGET);
    send(&mut ann, r#"{"message":"hello from node 1"}"#);
    for client in [&mut ann, &mut bob] {
        assert_eq!(
            next_message(client),
            ("ann".to_owned(), "hello from node 1".to_owned())
        );
    }

    // docker kill node 1 (Ann's node, perhaps the room's owner).
    let (ok, id) = compose.run(&["ps", "-q", "node1"]);
    assert!(ok && !id.trim().is_empty(), "node 1's container: {id}");
    let (ok, output) = docker(&["kill", id.trim()], &[]);
    assert!(ok, "docker kill failed: {output}");

    // Ann comes back through node 3 and Bob through node 2: the history is there, and the chat
    // goes on.
    let (mut ann, backlog) = join_within(&compose, 3, "lobby", "ann", RECOVERY_BUDGET);
    assert_eq!(backlog, ["hello from node 1"]);
    let (mut bob, backlog) = join_within(&compose, 2, "lobby", "bob", RECOVERY_BUDGET);
    assert_eq!(backlog, ["hello from node 1"]);
    send(&mut bob, r#"{"message":"still here"}"#);
    for client in [&mut ann, &mut bob] {
        assert_eq!(
            next_message(client),
            ("bob".to_owned(), "still here".to_owned())
        );
    }
    let (_, backlog) = join_within(&compose, 2, "lobby", "carol", RECOVERY_BUDGET);
    assert_eq!(backlog, ["hello from node 1", "still here"]);
}
