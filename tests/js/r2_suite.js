// The R2 binding end to end (tests/test_r2.rs): puts of every body type, metadata, ranges,
// conditions, listing with prefixes, delimiters and cursors, multipart uploads, deletes.
export default { async fetch(request, env) {
  if (new URL(request.url).pathname === "/read") {
    const kept = await env.BUCKET.get("docs/a.txt");
    return new Response(kept === null ? "gone" : await kept.text());
  }
  const out = {};
  const B = env.BUCKET;
  const put = await B.put("docs/a.txt", "hello world", { httpMetadata: { contentType: "text/plain" }, customMetadata: { owner: "ann" } });
  out.put = [put.key, put.size, put.etag, put.httpEtag, put.uploaded instanceof Date];
  await B.put("docs/b.txt", new Uint8Array(700000).fill(65));
  await B.put("img/c.png", new Blob(["png"]));
  await B.put("top.txt", new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("streamed")); c.close(); } }));
  const got = await B.get("docs/a.txt");
  const h = new Headers(); got.writeHttpMetadata(h);
  out.get = [await got.text(), got.customMetadata.owner, h.get("content-type")];
  const big = await B.get("docs/b.txt", { range: { offset: 524280, length: 16 } });
  out.range = [await big.text(), big.range];
  out.suffix = await (await B.get("docs/a.txt", { range: { suffix: 5 } })).text();
  out.header = await (await B.get("docs/a.txt", { range: new Headers({ range: "bytes=0-4" }) })).text();
  out.bigSize = (await B.head("docs/b.txt")).size;
  out.cond = [await B.get("docs/a.txt", { onlyIf: { etagDoesNotMatch: put.etag } }).then(o => "body" in o), await B.put("docs/a.txt", "x", { onlyIf: { etagMatches: "nope" } })];
  const list = await B.list({ prefix: "docs/" });
  out.list = [list.objects.map(o => o.key), list.truncated];
  const delim = await B.list({ delimiter: "/" });
  out.delim = [delim.objects.map(o => o.key), delim.delimitedPrefixes];
  const page1 = await B.list({ limit: 2 });
  const page2 = await B.list({ limit: 2, cursor: page1.cursor });
  out.pages = [page1.objects.map(o => o.key), page1.truncated, page2.objects.map(o => o.key), page2.truncated];
  const mpu = await B.createMultipartUpload("big.bin", { httpMetadata: { contentType: "application/octet-stream" } });
  const p1 = await mpu.uploadPart(1, "part one,");
  const p2 = await mpu.uploadPart(2, "part two");
  const done = await mpu.complete([p2, p1]);
  out.mpu = [done.size, await (await B.get("big.bin")).text(), (await B.list()).objects.length];
  await B.delete(["docs/b.txt", "img/c.png", "missing"]);
  out.afterDelete = (await B.list()).objects.map(o => o.key);
  out.missing = await B.get("nope");
  out.headMissing = await B.head("nope");
  out.condMissing = await B.get("nope", { onlyIf: { etagMatches: "x" } });
  let threw = null;
  const stale = B.resumeMultipartUpload("big.bin", "no-such-upload");
  try { await stale.uploadPart(1, "x"); } catch (err) { threw = err.message; }
  out.staleUpload = threw;
  return Response.json(out);
} };
