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
  // Every part but the last holds at least 5 MiB, as R2 requires.
  const p1 = await mpu.uploadPart(1, "p".repeat(5 * 1024 * 1024));
  const p2 = await mpu.uploadPart(2, "part two");
  const done = await mpu.complete([p2, p1]);
  const joined = await (await B.get("big.bin")).text();
  out.mpu = [done.size, joined.length, joined.endsWith("ppart two"), /^[0-9a-f]{32}-2$/.test(done.etag), (await B.list()).objects.length];
  const small = await B.createMultipartUpload("small.bin");
  const s1 = await small.uploadPart(1, "tiny");
  const s2 = await small.uploadPart(2, "x");
  try { await small.complete([s1, s2]); out.smallPart = "completed"; } catch (err) { out.smallPart = err.message; }
  await small.abort();
  const sha = await crypto.subtle.digest("SHA-256", new TextEncoder().encode("checked"));
  const checked = await B.put("checked.txt", "checked", { sha256: sha });
  out.checksums = [Object.keys(checked.checksums.toJSON()).sort(), (await B.head("checked.txt")).checksums.toJSON().sha256 === checked.checksums.toJSON().sha256];
  try { await B.put("bad.txt", "other", { sha256: sha }); out.badChecksum = "stored"; } catch (err) { out.badChecksum = err.message; }
  out.headRange = (await B.head("checked.txt")).range;
  out.suffixRange = (await B.get("checked.txt", { range: { suffix: 3 } })).range;
  await B.delete("checked.txt");
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
