#![allow(clippy::print_stdout)] // Tests report their counts.
//! `HTMLRewriter`: every test in `js/html_rewriter.js` inside a Kiln isolate, and a transformed
//! response returned straight to the edge (its body streamed out of the isolate).
mod util;

#[tokio::test]
async fn html_rewriter_behaves_as_on_cloudflare() {
    util::run_js_suite("html_rewriter.js", include_str!("js/html_rewriter.js"), 12).await;
}

#[tokio::test]
async fn a_transformed_response_streams_to_the_client() {
    let worker = util::js(
        r#"
        export default {
          async fetch() {
            const page = "<html><head><title>t</title></head><body>" + "<p>x</p>".repeat(2000) + "</body></html>";
            return new HTMLRewriter()
              .on("p", { element(el) { el.setAttribute("class", "seen"); } })
              .on("title", { text(t) { if (t.text) t.replace("rewritten"); } })
              .onDocument({ end(end) { end.append("<!--done-->", { html: true }); } })
              .transform(new Response(page, { headers: { "content-type": "text/html" } }));
          },
        };
        "#,
    );
    let (status, body) = util::get(&worker, "http://t/").await.expect("response");
    assert_eq!(status, 200);
    let expected = format!(
        "<html><head><title>rewritten</title></head><body>{}</body></html><!--done-->",
        "<p class=\"seen\">x</p>".repeat(2000)
    );
    assert_eq!(body, expected);
}
