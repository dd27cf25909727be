//! Compatibility dates and flags change behaviour as they do on Cloudflare.

mod util;

const BINARY_TYPE: &str = r#"export default { fetch() {
  const [a] = Object.values(new WebSocketPair());
  return new Response(a.binaryType);
} }"#;

#[tokio::test]
async fn websocket_binary_type_follows_the_compatibility_date_and_flags() {
    for (date, flags, expected) in [
        ("2026-03-16", &[][..], "arraybuffer"),
        ("2026-03-17", &[][..], "blob"),
        (
            "2026-11-01",
            &["no_websocket_standard_binary_type"][..],
            "arraybuffer",
        ),
        (
            "2024-01-01",
            &["websocket_standard_binary_type"][..],
            "blob",
        ),
    ] {
        let worker = util::js_dated(BINARY_TYPE, date, flags);
        let (status, body) = util::get(&worker, "http://t/").await.expect("answers");
        assert_eq!(
            (status, body.as_str()),
            (200, expected),
            "date {date}, flags {flags:?}"
        );
    }
}
