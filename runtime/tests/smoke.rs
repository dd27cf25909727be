mod util;

#[tokio::test]
async fn hello_world_answers() {
    let worker = util::js(
        r#"export default { async fetch(req, env, ctx) { return new Response("hello " + new URL(req.url).pathname); } }"#,
    );
    let (status, body) = util::get(&worker, "http://localhost/x")
        .await
        .expect("response");
    assert_eq!(status, 200);
    assert_eq!(body, "hello /x");
}
