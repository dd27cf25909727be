//! Static assets (wrangler's `assets`) through a real `kiln dev`: files answered before the
//! worker, Cloudflare's HTML handling and redirects, ETags, the `env.ASSETS` binding, the
//! not-found handlings, `run_worker_first`, a project with assets and no worker, and Workers
//! Sites (`[site]`: `__STATIC_CONTENT` and its manifest).

use crate::util;

fn raw(port: u16, path: &str, extra: &str) -> (u16, String, String) {
    let text = {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .expect("timeout");
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{extra}Connection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).expect("write");
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        String::from_utf8_lossy(&response).into_owned()
    };
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (status, head.to_ascii_lowercase(), body.to_owned())
}

fn header(head: &str, name: &str) -> Option<String> {
    head.lines()
        .find_map(|line| line.strip_prefix(&format!("{name}: ")))
        .map(str::to_owned)
}

const WORKER: &str = r#"
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/via-binding") return env.ASSETS.fetch(new URL("/about", request.url));
    if (url.pathname === "/binding-missing") return env.ASSETS.fetch(new URL("/nope/deep", request.url));
    return new Response(`worker saw ${url.pathname}`);
  },
};
"#;

#[test]
fn assets_are_served_before_the_worker_with_cloudflares_html_handling() {
    let dir = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "site", "main": "src/index.js", "compatibility_date": "2025-01-01",
                 "assets": { "directory": "./public", "binding": "ASSETS", "not_found_handling": "404-page",
                             "run_worker_first": ["/api/*"] } }"#,
        ),
        ("src/index.js", WORKER),
        ("public/index.html", "<h1>home</h1>"),
        ("public/about.html", "<h1>about</h1>"),
        ("public/docs/index.html", "<h1>docs</h1>"),
        ("public/style.css", "body { color: red }"),
        ("public/404.html", "<h1>missing</h1>"),
        ("public/api/data.json", "{\"shadowed\": true}"),
        ("public/app.js", "this is not a worker module {"),
    ]);
    let node = util::dev(dir.path(), &[]);
    let port = node.port;

    let (status, head, body) = raw(port, "/", "");
    assert_eq!((status, body.as_str()), (200, "<h1>home</h1>"));
    assert_eq!(
        header(&head, "content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    let (status, head, body) = raw(port, "/style.css", "");
    assert_eq!((status, body.as_str()), (200, "body { color: red }"));
    assert_eq!(
        header(&head, "content-type").as_deref(),
        Some("text/css; charset=utf-8")
    );
    let etag = header(&head, "etag").expect("an etag");
    let (status, _, body) = raw(port, "/style.css", &format!("If-None-Match: {etag}\r\n"));
    assert_eq!((status, body.as_str()), (304, ""));

    assert_eq!(raw(port, "/about", "").2, "<h1>about</h1>");
    assert_eq!(raw(port, "/docs/", "").2, "<h1>docs</h1>");
    for (from, to) in [
        ("/about.html", "/about"),
        ("/docs", "/docs/"),
        ("/docs/index.html", "/docs/"),
        ("/index.html", "/"),
    ] {
        let (status, head, _) = raw(port, from, "");
        assert_eq!(status, 307, "{from}");
        assert_eq!(header(&head, "location").as_deref(), Some(to), "{from}");
    }
    // No asset: the worker answers; run_worker_first routes go to it even when a file matches.
    assert_eq!(raw(port, "/hello", "").2, "worker saw /hello");
    assert_eq!(
        raw(port, "/api/data.json", "").2,
        "worker saw /api/data.json"
    );
    // Never outside the directory, never dot files.
    assert_eq!(
        raw(port, "/../wrangler.jsonc", "").2,
        "worker saw /wrangler.jsonc"
    );
    assert_eq!(raw(port, "/%2e%2e/wrangler.jsonc", "").0, 200);
    assert!(!raw(port, "/%2e%2e/wrangler.jsonc", "").2.contains("assets"));
    // The binding, with the 404 page for what is missing.
    assert_eq!(raw(port, "/via-binding", "").2, "<h1>about</h1>");
    let (status, _, body) = raw(port, "/binding-missing", "");
    assert_eq!((status, body.as_str()), (404, "<h1>missing</h1>"));
}

#[test]
fn a_single_page_application_gets_its_index_for_navigations_and_a_project_may_have_no_worker() {
    let spa = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "spa", "main": "index.js", "compatibility_date": "2025-01-01",
                 "assets": { "directory": "dist", "not_found_handling": "single-page-application" } }"#,
        ),
        ("index.js", WORKER),
        ("dist/index.html", "<div id=app></div>"),
    ]);
    let node = util::dev(spa.path(), &[]);
    let (status, _, body) = raw(
        node.port,
        "/settings/profile",
        "Sec-Fetch-Mode: navigate\r\n",
    );
    assert_eq!((status, body.as_str()), (200, "<div id=app></div>"));
    assert_eq!(
        raw(node.port, "/api/me", "Sec-Fetch-Mode: cors\r\n").2,
        "worker saw /api/me"
    );
    drop(node);

    let static_only = util::project(&[
        (
            "wrangler.toml",
            "name = \"static\"\ncompatibility_date = \"2025-01-01\"\n[assets]\ndirectory = \"./site\"\n",
        ),
        ("site/index.html", "static home"),
    ]);
    let node = util::dev(static_only.path(), &[]);
    assert_eq!(raw(node.port, "/", "").2, "static home");
    assert_eq!(raw(node.port, "/missing", "").0, 404);
}

#[test]
fn headers_redirects_and_assetsignore_shape_what_the_assets_serve() {
    let dir = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "rules", "main": "src/index.js", "compatibility_date": "2025-01-01",
                 "assets": { "directory": "./public" } }"#,
        ),
        ("src/index.js", WORKER),
        ("public/index.html", "<h1>home</h1>"),
        ("public/new.html", "<h1>new</h1>"),
        ("public/app/index.html", "<h1>app shell</h1>"),
        ("public/_app/immutable/entry.js", "export {}"),
        ("public/_worker.js/index.js", "server source"),
        ("public/private/notes.txt", "secret"),
        (
            "public/_headers",
            "# caching\n/_app/immutable/*\n  Cache-Control: public, max-age=31536000, immutable\n/*\n  X-Frame-Options: DENY\n  ! ETag\n",
        ),
        (
            "public/_redirects",
            "/old /new 301\n/blog/* /posts/:splat\n/app/* /app/index.html 200\n",
        ),
        ("public/.assetsignore", "_worker.js\nprivate/\n"),
    ]);
    let node = util::dev(dir.path(), &[]);
    let (status, head, _) = raw(node.port, "/_app/immutable/entry.js", "");
    assert_eq!(status, 200);
    assert_eq!(
        header(&head, "cache-control").as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(header(&head, "x-frame-options").as_deref(), Some("deny"));
    assert_eq!(header(&head, "etag"), None, "`! ETag` removed it");
    let (status, head, _) = raw(node.port, "/old", "");
    assert_eq!(
        (status, header(&head, "location").as_deref()),
        (301, Some("/new"))
    );
    let (status, head, _) = raw(node.port, "/blog/2024/hello", "");
    assert_eq!(
        (status, header(&head, "location").as_deref()),
        (302, Some("/posts/2024/hello"))
    );
    let (status, _, body) = raw(node.port, "/app/settings/profile", "");
    assert_eq!(
        (status, body.as_str()),
        (200, "<h1>app shell</h1>"),
        "a 200 rewrite"
    );
    // The rule files and ignored files are never served: the worker answers instead.
    for hidden in [
        "/_headers",
        "/_redirects",
        "/.assetsignore",
        "/_worker.js/index.js",
        "/private/notes.txt",
    ] {
        let (status, _, body) = raw(node.port, hidden, "");
        assert_eq!(
            (status, body.as_str()),
            (200, format!("worker saw {hidden}").as_str()),
            "{hidden}"
        );
    }
}

#[test]
fn workers_sites_serve_the_bucket_through_static_content_and_its_manifest() {
    let worker = r#"
import manifestJSON from "__STATIC_CONTENT_MANIFEST";
const manifest = JSON.parse(manifestJSON);
export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname.slice(1) || "index.html";
    if (path === "__list") return Response.json((await env.__STATIC_CONTENT.list()).keys.map((k) => k.name));
    if (path === "__put") {
      try { await env.__STATIC_CONTENT.put("x", "y"); return new Response("wrote"); } catch (err) { return new Response(err.message, { status: 500 }); }
    }
    const key = manifest[path];
    if (key === undefined) return new Response("not in manifest", { status: 404 });
    const body = await env.__STATIC_CONTENT.get(key, "arrayBuffer");
    return new Response(body, { headers: { "x-key": key } });
  },
};"#;
    let dir = util::project(&[
        (
            "wrangler.toml",
            "name = \"site\"\nmain = \"index.js\"\ncompatibility_date = \"2025-01-01\"\n[site]\nbucket = \"./public\"\nexclude = [\"*.map\"]\n",
        ),
        ("index.js", worker),
        ("public/index.html", "<h1>site index</h1>"),
        ("public/css/a.css", "h1 { color: red }"),
        ("public/app.js.map", "{}"),
        ("public/.secret", "hidden"),
    ]);
    let node = util::dev(dir.path(), &[]);
    assert_eq!(node.get("/"), (200, "<h1>site index</h1>".into()));
    assert_eq!(node.get("/css/a.css"), (200, "h1 { color: red }".into()));
    assert_eq!(
        node.get("/app.js.map").0,
        404,
        "excluded files are not in the manifest"
    );
    assert_eq!(node.get("/.secret").0, 404, "dot files are left out");
    assert_eq!(node.get("/__list").1, r#"["css/a.css","index.html"]"#);
    assert_eq!(
        node.get("/__put"),
        (
            500,
            "__STATIC_CONTENT is read-only: it holds the [site] bucket's files.".into()
        )
    );
}
