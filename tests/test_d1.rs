//! D1 through a real `kiln dev`: migrations applied with `kiln d1 migrations apply` (each once),
//! queries with `prepare`/`bind`/`all`/`first`/`run`/`raw`, a batch that rolls back as a whole,
//! D1's error messages, `kiln d1 execute`, one database shared by two workers, and rows that
//! survive kill -9.

use std::path::Path;

use crate::util;

const TOKEN: &str = "d1-test-token";

const USERS: &str = r#"
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method === "POST" && url.pathname === "/users") {
      const { meta } = await env.DB.prepare("INSERT INTO users (name, admin) VALUES (?1, ?2)")
        .bind(url.searchParams.get("name"), url.searchParams.has("admin")).run();
      return Response.json({ id: meta.last_row_id, changes: meta.changes });
    }
    if (url.pathname === "/users") {
      const { results } = await env.DB.prepare("SELECT id, name, admin FROM users ORDER BY id").all();
      return Response.json(results);
    }
    if (url.pathname === "/other") return env.OTHER.fetch("http://other/users");
    if (url.pathname === "/session") {
      const session = env.DB.withSession(url.searchParams.get("bookmark") ?? "first-primary");
      const before = session.getBookmark();
      await session.prepare("SELECT count(*) FROM users").first();
      const afterRead = session.getBookmark();
      await session.prepare("INSERT INTO users (name) VALUES ('session')").run();
      return Response.json({ before, afterRead, afterWrite: session.getBookmark() });
    }
    if (url.pathname === "/first") {
      return Response.json(await env.DB.prepare("SELECT name FROM users WHERE id = ?").bind(Number(url.searchParams.get("id"))).first("name"));
    }
    if (url.pathname === "/raw") {
      return Response.json(await env.DB.prepare("SELECT id, name FROM users ORDER BY id").raw({ columnNames: true }));
    }
    if (url.pathname === "/batch-fails") {
      try {
        await env.DB.batch([
          env.DB.prepare("INSERT INTO users (name) VALUES ('never')"),
          env.DB.prepare("INSERT INTO missing VALUES (1)"),
        ]);
        return new Response("the batch succeeded");
      } catch (err) {
        const { n } = await env.DB.prepare("SELECT count(*) AS n FROM users WHERE name = 'never'").first();
        return Response.json({ error: err.message, kept: n });
      }
    }
    return new Response("not found", { status: 404 });
  },
};
"#;

fn project(name: &str, extra: &str) -> tempfile::TempDir {
    util::project(&[
        (
            "wrangler.jsonc",
            &format!(
                r#"{{ "name": "{name}", "main": "index.js", "compatibility_date": "2025-04-01", {extra}
                     "d1_databases": [{{ "binding": "DB", "database_name": "people", "database_id": "6c1e5f8a-0000-4000-8000-000000000001" }}] }}"#
            ),
        ),
        ("index.js", USERS),
        (
            "migrations/0001_users.sql",
            "CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, admin INTEGER NOT NULL DEFAULT 0);",
        ),
        (
            "migrations/0002_seed.sql",
            "INSERT INTO users (name, admin) VALUES ('root', 1);\nCREATE INDEX users_name ON users (name);",
        ),
    ])
}

fn d1(dir: &Path, port: u16, args: &[&str]) -> (bool, String) {
    util::run_to_exit({
        let mut command = util::kiln();
        command
            .arg("d1")
            .args(args)
            .arg("--dir")
            .arg(dir)
            .args(["--url", &format!("http://127.0.0.1:{port}")])
            .args(["--token", TOKEN]);
        command
    })
}

#[test]
fn d1_runs_migrations_queries_and_batches_and_keeps_rows_across_kill_9() {
    let users = project("users", "");
    let node = util::dev(users.path(), &["--admin-token", TOKEN]);

    let (status, body) = node.get("/users");
    assert_eq!(status, 500, "no table before the migrations: {body}");
    let (ok, output) = d1(
        users.path(),
        node.port,
        &["migrations", "apply", "people", "--local"],
    );
    assert!(ok, "{output}");
    assert!(
        output.contains("applied\t0001_users.sql") && output.contains("applied\t0002_seed.sql"),
        "{output}"
    );
    let (ok, output) = d1(users.path(), node.port, &["migrations", "apply", "DB"]);
    assert!(ok, "{output}");
    assert!(output.contains("No migrations to apply."), "{output}");

    assert_eq!(
        util::post(node.port, "/users?name=ann&admin"),
        (200, r#"{"id":2,"changes":1}"#.into())
    );
    assert_eq!(
        node.get("/users"),
        (
            200,
            r#"[{"id":1,"name":"root","admin":1},{"id":2,"name":"ann","admin":1}]"#.into()
        )
    );
    assert_eq!(node.get("/first?id=2"), (200, r#""ann""#.into()));
    assert_eq!(node.get("/first?id=9"), (200, "null".into()));
    assert_eq!(
        node.get("/raw"),
        (200, r#"[["id","name"],[1,"root"],[2,"ann"]]"#.into())
    );
    assert_eq!(
        node.get("/batch-fails"),
        (
            200,
            r#"{"error":"D1_ERROR: no such table: missing: SQLITE_ERROR","kept":0}"#.into()
        )
    );
    let (ok, output) = d1(
        users.path(),
        node.port,
        &[
            "execute",
            "people",
            "--command",
            "SELECT count(*) AS n FROM users",
        ],
    );
    assert!(ok, "{output}");
    let printed: serde_json::Value =
        serde_json::from_str(output.trim()).unwrap_or_else(|_| panic!("JSON: {output}"));
    assert_eq!(printed[0]["results"][0]["n"], 2, "{output}");
    let (ok, output) = d1(
        users.path(),
        node.port,
        &["execute", "people", "--command", "SELECT * FROM nowhere"],
    );
    assert!(!ok && output.contains("no such table: nowhere"), "{output}");

    // Acknowledged rows survive kill -9.
    node.kill9();
    let node = util::dev(users.path(), &["--admin-token", TOKEN]);
    assert_eq!(
        node.get("/users"),
        (
            200,
            r#"[{"id":1,"name":"root","admin":1},{"id":2,"name":"ann","admin":1}]"#.into()
        )
    );
}

#[test]
fn two_workers_that_bind_one_database_see_the_same_rows() {
    let first = project(
        "first",
        r#""services": [{ "binding": "OTHER", "service": "second" }],"#,
    );
    let second = project("second", "");
    let second_dir = second.path().to_string_lossy().into_owned();
    let node = util::dev(first.path(), &[&second_dir, "--admin-token", TOKEN]);
    let (ok, output) = d1(first.path(), node.port, &["migrations", "apply", "people"]);
    assert!(ok, "{output}");
    assert_eq!(
        util::post(node.port, "/users?name=bea"),
        (200, r#"{"id":2,"changes":1}"#.into())
    );
    // The second worker (reached through a service binding) reads the same database through
    // its own binding, which is routed to the first worker's object.
    assert_eq!(
        node.get("/other"),
        (
            200,
            r#"[{"id":1,"name":"root","admin":1},{"id":2,"name":"bea","admin":0}]"#.into()
        )
    );
}

#[test]
fn a_deployed_script_gets_its_d1_database_and_migrations_apply_to_it() {
    let front = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "front", "main": "index.js", "compatibility_date": "2025-04-01" }"#,
        ),
        (
            "index.js",
            "export default { fetch() { return new Response('front'); } };",
        ),
    ]);
    let users = project("users", "");
    let node = util::dev(front.path(), &["--admin-token", TOKEN]);
    let (ok, output) = util::run_to_exit({
        let mut command = util::kiln();
        command
            .arg("deploy")
            .arg(users.path())
            .args(["--url", &format!("http://127.0.0.1:{}", node.port)])
            .args(["--token", TOKEN]);
        command
    });
    assert!(ok, "{output}");
    let (ok, output) = d1(users.path(), node.port, &["migrations", "apply", "people"]);
    assert!(ok, "{output}");
    let (status, body) = util::request(
        node.port,
        "GET /users HTTP/1.1\r\nHost: users.localhost\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(
        (status, body.as_str()),
        (200, r#"[{"id":1,"name":"root","admin":1}]"#)
    );
}

#[test]
fn a_d1_database_in_a_cluster_is_one_database_whichever_node_a_query_enters() {
    let users = project("users", "");
    let cluster = crate::cluster_util::Cluster::start(users.path(), 3, 4);
    let (ok, output) = util::run_to_exit({
        let mut command = util::kiln();
        command
            .args(["d1", "migrations", "apply", "people", "--dir"])
            .arg(users.path())
            .args([
                "--url",
                &format!("http://127.0.0.1:{}", cluster.http_port(2)),
            ])
            .args(["--token", crate::cluster_util::ADMIN_TOKEN]);
        command
    });
    assert!(ok, "{output}");
    for (node, name) in [(1, "a"), (2, "b"), (3, "c")] {
        let (status, body) = util::post(cluster.http_port(node), &format!("/users?name={name}"));
        assert_eq!(status, 200, "node {node}: {body}");
    }
    for node in 1..=3 {
        let (status, body) = util::get_port(cluster.http_port(node), "/raw");
        assert_eq!(
            (status, body.as_str()),
            (200, r#"[["id","name"],[1,"root"],[2,"a"],[3,"b"],[4,"c"]]"#),
            "node {node}"
        );
    }
}

#[test]
fn d1_sessions_hand_out_bookmarks_that_move_on_with_writes() {
    let users = project("sessions", "");
    let node = util::dev(users.path(), &["--admin-token", TOKEN]);
    let (ok, output) = d1(users.path(), node.port, &["migrations", "apply", "people"]);
    assert!(ok, "{output}");
    let (status, body) = node.get("/session");
    assert_eq!(status, 200, "{body}");
    let session: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(session["before"], serde_json::Value::Null, "{body}");
    let read = session["afterRead"]
        .as_str()
        .expect("a bookmark after a read")
        .to_owned();
    let written = session["afterWrite"]
        .as_str()
        .expect("a bookmark after a write")
        .to_owned();
    assert_eq!(read.len(), 59, "{read}");
    assert!(
        written > read,
        "a write moves the bookmark on: {read} then {written}"
    );
    let (status, body) = node.get(&format!("/session?bookmark={written}"));
    assert_eq!(status, 200, "{body}");
    let carried: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(carried["before"].as_str(), Some(written.as_str()), "{body}");
}
