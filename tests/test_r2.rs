//! R2 through a real `kiln dev` (`tests/js/r2_suite.js`): every operation of the binding with
//! the answers Cloudflare gives, and objects that survive kill -9.

use crate::util;

#[test]
fn r2_buckets_store_list_range_and_join_objects_and_keep_them_across_kill_9() {
    let dir = util::project(&[
        (
            "wrangler.jsonc",
            r#"{ "name": "r2t", "main": "index.js", "compatibility_date": "2025-04-01",
                 "r2_buckets": [{ "binding": "BUCKET", "bucket_name": "files" }] }"#,
        ),
        ("index.js", include_str!("js/r2_suite.js")),
    ]);
    let node = util::dev(dir.path(), &[]);
    let (status, body) = node.get("/");
    assert_eq!(status, 200, "{body}");
    let got: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let expected = serde_json::json!({
        "put": ["docs/a.txt", 11, "5eb63bbbe01eeed093cb22bb8f5acdc3", "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"", true],
        "get": ["hello world", "ann", "text/plain"],
        "range": ["AAAAAAAAAAAAAAAA", { "offset": 524280, "length": 16 }],
        "suffix": "world",
        "header": "hello",
        "bigSize": 700000,
        "cond": [false, null],
        "list": [["docs/a.txt", "docs/b.txt"], false],
        "delim": [["top.txt"], ["docs/", "img/"]],
        "pages": [["docs/a.txt", "docs/b.txt"], true, ["img/c.png", "top.txt"], false],
        "mpu": [5 * 1024 * 1024 + 8, 5 * 1024 * 1024 + 8, true, true, 5],
        "smallPart": "completeMultipartUpload: Your proposed upload is smaller than the minimum allowed object size. (10011)",
        "checksums": [["md5", "sha256"], true],
        "badChecksum": "put: The SHA-256 you specified did not match what we received. (10037)",
        "headRange": { "offset": 0, "length": 7 },
        "suffixRange": { "offset": 4, "length": 3 },
        "afterDelete": ["big.bin", "docs/a.txt", "top.txt"],
        "missing": null,
        "headMissing": null,
        "condMissing": null,
        "staleUpload": "uploadPart: The specified multipart upload does not exist. (10024)",
    });
    assert_eq!(got, expected);
    node.kill9();
    let node = util::dev(dir.path(), &[]);
    assert_eq!(node.get("/read"), (200, "hello world".into()));
}
