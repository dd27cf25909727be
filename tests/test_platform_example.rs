//! examples/platform end to end: `kiln dev` runs the dispatcher and the egress worker, the two
//! customers are uploaded with `kiln deploy`, routes go into KV, and requests reach each
//! customer by path and by host, with the API key checked, plan limits applied and egress
//! policed.

use std::path::Path;

use crate::util;

const TOKEN: &str = "dev-token";

fn platform() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/platform")
}

fn get(port: u16, path: &str, host: &str, key: &str) -> (u16, String) {
    util::request(
        port,
        &format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nx-platform-key: {key}\r\nConnection: close\r\n\r\n"),
    )
}

#[test]
fn platform_example_routes_customers_with_limits_and_egress() {
    let root = platform();
    let state = tempfile::tempdir().expect("tempdir");
    let persist = state.path().to_string_lossy().into_owned();
    let egress = root.join("egress").to_string_lossy().into_owned();
    let node = util::dev(
        &root.join("dispatcher"),
        &[&egress, "--admin-token", TOKEN, "--persist-to", &persist],
    );
    let url = format!("http://127.0.0.1:{}", node.port);
    for customer in ["alice", "bob"] {
        let (ok, output) = util::run_to_exit({
            let mut command = util::kiln();
            command
                .arg("deploy")
                .arg(root.join("customers").join(customer))
                .args([
                    "--dispatch-namespace",
                    "customers",
                    "--url",
                    &url,
                    "--token",
                    TOKEN,
                ]);
            command
        });
        assert!(ok, "{output}");
    }
    for (customer, route) in [
        ("alice", r#"{"script":"alice-site","plan":"pro"}"#),
        ("bob", r#"{"script":"bob-blog","plan":"free"}"#),
    ] {
        let (status, body) = util::request(
            node.port,
            &format!(
                "PUT /__routes/{customer} HTTP/1.1\r\nHost: localhost\r\nx-platform-key: dev-key\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{route}",
                route.len()
            ),
        );
        assert_eq!((status, body.as_str()), (200, "ok"));
    }
    assert_eq!(
        get(node.port, "/alice/cart", "localhost", "dev-key"),
        (200, "Alice's shop: /cart".into())
    );
    assert_eq!(
        get(node.port, "/", "bob.platform.test", "dev-key"),
        (200, "Bob's blog".into())
    );
    // As the README's commands send them: an IP address as the host, and `<customer>.localhost`.
    assert_eq!(
        get(
            node.port,
            "/alice/",
            &format!("127.0.0.1:{}", node.port),
            "dev-key"
        ),
        (200, "Alice's shop: /".into())
    );
    assert_eq!(
        get(
            node.port,
            "/",
            &format!("bob.localhost:{}", node.port),
            "dev-key"
        ),
        (200, "Bob's blog".into())
    );
    assert_eq!(get(node.port, "/alice/", "localhost", "wrong").0, 401);
    assert_eq!(get(node.port, "/carol/", "localhost", "dev-key").0, 404);
    assert_eq!(
        get(node.port, "/bob/leak", "localhost", "dev-key"),
        (403, "egress: bob may not reach evil.example.net".into())
    );
    let (status, body) = get(node.port, "/bob/spin", "localhost", "dev-key");
    assert_eq!(
        (status, body.as_str()),
        (
            502,
            "customer worker failed: Worker exceeded CPU time limit."
        )
    );
}
