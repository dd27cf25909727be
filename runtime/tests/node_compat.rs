//! Node.js APIs under the `nodejs_compat` flags, as on Cloudflare: `node:buffer`, `node:process`,
//! `node:events`, `node:crypto`, `node:util`, streams, zlib, every other module a wrangler
//! bundle imports, and the globals of `nodejs_compat_v2`.

mod util;

/// What a `nodejs_compat` worker of `source` answers to `GET /`.
async fn node_answer(source: &str) -> (u16, String) {
    let worker = util::js_dated(source, "2025-01-01", &["nodejs_compat"]);
    util::get(&worker, "http://t/").await.expect("answers")
}

const BUFFER_SUITE: &str = r#"import { Buffer } from "node:buffer";
import * as bufferModule from "buffer";
export default { fetch() {
  const failures = [];
  const eq = (got, want, what) => { if (got !== want) failures.push(`${what}: got ${got}, want ${want}`); };
  eq(Buffer.from("héllo").toString("hex"), "68c3a96c6c6f", "utf8 to hex");
  eq(Buffer.from("68c3a96c6c6f", "hex").toString(), "héllo", "hex to utf8");
  eq(Buffer.from("hello world").toString("base64"), "aGVsbG8gd29ybGQ=", "base64");
  eq(Buffer.from("aGVsbG8gd29ybGQ", "base64").toString(), "hello world", "base64 without padding");
  eq(Buffer.from([0xfb, 0xff]).toString("base64url"), "-_8", "base64url");
  eq(Buffer.from("-_8", "base64url")[0], 0xfb, "from base64url");
  eq(Buffer.from("ÿ", "latin1")[0], 255, "latin1");
  eq(Buffer.byteLength("héllo"), 6, "byteLength");
  eq(Buffer.concat([Buffer.from("ab"), Buffer.from("cd")]).toString(), "abcd", "concat");
  eq(Buffer.alloc(3, "ab").toString(), "aba", "alloc with fill");
  const b = Buffer.alloc(8);
  b.writeUInt32LE(0xdeadbeef, 0);
  b.writeInt16BE(-2, 4);
  eq(b.readUInt32LE(0), 0xdeadbeef, "uint32le");
  eq(b.readInt16BE(4), -2, "int16be");
  eq(b.readUint8(0), 0xef, "readUint8 alias");
  eq(Buffer.isBuffer(b), true, "isBuffer");
  eq(b instanceof Uint8Array, true, "a Uint8Array");
  eq(Buffer.isBuffer(b.subarray(1)), true, "subarray keeps the class");
  eq(JSON.stringify(Buffer.from([1, 2])), '{"type":"Buffer","data":[1,2]}', "toJSON");
  eq(Buffer.from("abc").equals(Buffer.from("abc")), true, "equals");
  eq(Buffer.from("hello").indexOf("ll"), 2, "indexOf");
  eq(bufferModule.Buffer, Buffer, "bare 'buffer' specifier");
  eq(typeof globalThis.Buffer, "function", "global Buffer");
  eq(typeof process.nextTick, "function", "global process");
  eq(process.env.GREETING, undefined, "process.env holds no vars before 2025-04-01");
  try { b.readUInt32LE(6); failures.push("out of range read did not throw"); } catch (err) { eq(err instanceof RangeError, true, "RangeError"); }
  eq(Buffer("ab").toString("hex"), "6162", "Buffer() without new (safer-buffer, iconv-lite)");
  eq(new Buffer(3).length, 3, "new Buffer(size)");
  eq(new Buffer.allocUnsafeSlow(4).length, 4, "a static called with new");
  const statics = []; for (const key in Buffer) statics.push(key);
  eq(["from", "alloc", "allocUnsafe", "concat", "isBuffer", "byteLength"].every((k) => statics.includes(k)), true, "statics are enumerable");
  eq(Buffer.from("abc").constructor, Buffer, "constructor");
  eq(Buffer.of(1, 2) instanceof Buffer, true, "Buffer.of");
  eq(Buffer.from("abcd").map((x) => x + 1) instanceof Buffer, true, "species");
  eq(Object.getPrototypeOf(Buffer), Uint8Array, "Buffer's prototype chain");
  eq(Buffer.from("héllo").latin1Slice(0, 3), "hÃ©", "latin1Slice (busboy)");
  const w = Buffer.alloc(4);
  eq(w.utf8Write("ab", 1), 2, "utf8Write");
  eq(w.hexSlice(), "00616200", "hexSlice");
  eq(Buffer.from("abc").subarray(1).offset, 1, "offset");
  return Response.json(failures);
} };"#;

#[tokio::test]
async fn node_buffer_works_with_nodejs_compat() {
    let (status, body) = node_answer(BUFFER_SUITE).await;
    assert_eq!(
        (status, body.as_str()),
        (200, "[]"),
        "failed checks: {body}"
    );
}

#[tokio::test]
async fn node_process_carries_the_text_bindings_from_2025_04_01() {
    let source = r#"import process from "node:process";
        import { env } from "process";
        export default { async fetch(request, env2) {
          const ticked = await new Promise((resolve) => process.nextTick(resolve, "ticked"));
          return new Response(`${process.env.GREETING} ${env.GREETING} ${globalThis.process === process} ${ticked}`);
        } };"#;
    let mut script = util::js_dated(source, "2025-04-01", &["nodejs_compat"])
        .script()
        .clone();
    script
        .env
        .insert("GREETING".into(), serde_json::Value::String("hi".into()));
    let worker = kiln_runtime::Worker::new(script).expect("valid");
    let (status, body) = util::get(&worker, "http://t/").await.expect("answers");
    assert_eq!((status, body.as_str()), (200, "hi hi true ticked"));
}

#[tokio::test]
async fn node_events_emits_in_order_and_once() {
    let source = r#"import EventEmitter, { once } from "node:events";
        import { EventEmitter as Named } from "events";
        export default { async fetch() {
          const seen = [];
          class Bus extends EventEmitter {}
          const bus = new Bus();
          bus.on("x", (v) => seen.push(`a${v}`));
          bus.prependListener("x", (v) => seen.push(`p${v}`));
          bus.once("x", (v) => seen.push(`o${v}`));
          bus.emit("x", 1);
          bus.emit("x", 2);
          let unhandled = "none";
          try { bus.emit("error", new TypeError("bad")); } catch (err) { unhandled = err.message; }
          const later = once(bus, "ready");
          bus.emit("ready", 7);
          const [value] = await later;
          function Old() { EventEmitter.call(this); }
          Object.setPrototypeOf(Old.prototype, EventEmitter.prototype);
          const old = new Old();
          old.on("y", (v) => seen.push(`y${v}`));
          old.emit("y", 3);
          return new Response(`${seen.join(",")} ${bus.listenerCount("x")} ${unhandled} ${value} ${Named === EventEmitter}`);
        } };"#;
    let (status, body) = node_answer(source).await;
    assert_eq!(
        (status, body.as_str()),
        (200, "p1,a1,o1,p2,a2,y3 2 bad 7 true")
    );
}

#[tokio::test]
async fn node_crypto_hashes_and_hmacs_as_node_does() {
    let source = r#"import { createHash, createHmac, randomBytes, timingSafeEqual, randomUUID } from "node:crypto";
        import crypto from "crypto";
        export default { fetch() {
          const out = [
            createHash("sha256").update("abc").digest("hex"),
            createHash("md5").update("a").update("bc").digest("base64"),
            createHmac("sha256", "key").update("The quick brown fox jumps over the lazy dog").digest("hex"),
            randomBytes(16).length,
            timingSafeEqual(Buffer.from("x"), Buffer.from("x")),
            typeof randomUUID(),
            crypto.createHash("sha1").update("").digest("hex"),
          ];
          return new Response(out.join(" "));
        } };"#;
    let (status, body) = node_answer(source).await;
    assert_eq!(
        (status, body.as_str()),
        (
            200,
            concat!(
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad ",
                "kAFQmDzST7DWlj99KOF/cg== ",
                "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8 ",
                "16 true string da39a3ee5e6b4b0d3255bfef95601890afd80709"
            )
        )
    );
}

#[tokio::test]
async fn node_util_promisifies_and_formats() {
    let source = r#"import { promisify, inherits, format, types, _extend, isDate, parseEnv } from "node:util";
        import util from "util";
        export default { async fetch() {
          const later = promisify((a, b, cb) => queueMicrotask(() => cb(null, a + b)));
          const failing = promisify((cb) => cb(new RangeError("no")));
          let failed = "";
          try { await failing(); } catch (err) { failed = err.name; }
          function A() {} function B() {}
          inherits(B, A);
          const out = [await later(2, 3), failed, new B() instanceof A, B.super_ === A,
            format("%s=%d", "x", 42), types.isPromise(Promise.resolve()), util.promisify === promisify,
            format("%j", { b: 2 }), JSON.stringify(_extend({ a: 1 }, { b: 2 })), isDate(new Date()),
            JSON.stringify(parseEnv("A=1\nexport B='two words'\n# comment\nC=\"x\\ny\""))];
          return new Response(out.join(" "));
        } };"#;
    let (status, body) = node_answer(source).await;
    assert_eq!(
        (status, body.as_str()),
        (
            200,
            "5 RangeError true true x=42 true true {\"b\":2} {\"a\":1,\"b\":2} true {\"A\":\"1\",\"B\":\"two words\",\"C\":\"x\\ny\"}"
        )
    );
}

#[tokio::test]
async fn without_nodejs_compat_there_is_no_node_buffer() {
    let worker = util::js_dated(BUFFER_SUITE, "2025-01-01", &[]);
    let err = util::get(&worker, "http://t/")
        .await
        .expect_err("no module");
    assert!(err.to_string().contains("node:buffer"), "{err}");
    let plain = util::js_dated(
        "export default { fetch() { return new Response(typeof Buffer); } }",
        "2025-01-01",
        &[],
    );
    let (_, body) = util::get(&plain, "http://t/").await.expect("answers");
    assert_eq!(body, "undefined");
    // nodejs_compat before 2024-09-23: the module, but not the global.
    let old = util::js_dated(
        r#"import { Buffer } from "node:buffer";
           export default { fetch() { return new Response(`${typeof Buffer} ${typeof globalThis.Buffer}`); } }"#,
        "2024-01-01",
        &["nodejs_compat"],
    );
    let (_, body) = util::get(&old, "http://t/").await.expect("answers");
    assert_eq!(body, "function undefined");
}

#[tokio::test]
async fn node_async_hooks_path_assert_and_string_decoder() {
    let source = r#"import { AsyncLocalStorage, AsyncResource } from "node:async_hooks";
import path from "node:path";
import { join } from "path";
import assert from "node:assert";
import { strict as strictAssert } from "assert";
import { StringDecoder } from "node:string_decoder";
const als = new AsyncLocalStorage();
export default { async fetch() {
  const failures = [];
  const eq = (got, want, what) => { if (JSON.stringify(got) !== JSON.stringify(want)) failures.push(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`); };
  eq(als.getStore(), undefined, "no store outside run()");
  const seen = await als.run({ id: 7 }, async () => {
    const before = als.getStore()?.id;
    await new Promise((resolve) => setTimeout(resolve, 5));
    const after = als.getStore()?.id;
    const nested = als.run({ id: 8 }, () => als.getStore().id);
    return [before, after, nested, als.getStore().id];
  });
  eq(seen, [7, 7, 8, 7], "the store across awaits and nested runs");
  eq(als.getStore(), undefined, "gone once run() settled");
  const bound = als.run({ id: 9 }, () => AsyncLocalStorage.bind(() => als.getStore().id));
  eq(bound(), 9, "bind() keeps the store");
  eq(new AsyncResource("x").runInAsyncScope((a) => a + 1, null, 1), 2, "AsyncResource");
  eq(path.join("/a/b", "../c", "d.txt"), "/a/c/d.txt", "join");
  eq(join("a", "", "b/"), "a/b/", "join keeps a trailing slash");
  eq(path.resolve("/x", "y", "../z"), "/x/z", "resolve");
  eq([path.dirname("/a/b/c.js"), path.basename("/a/b/c.js", ".js"), path.extname("x.tar.gz")], ["/a/b", "c", ".gz"], "parts");
  eq(path.relative("/a/b/c", "/a/d"), "../../d", "relative");
  eq(path.parse("/home/u/file.txt"), { root: "/", dir: "/home/u", base: "file.txt", ext: ".txt", name: "file" }, "parse");
  assert.ok(true);
  assert.deepStrictEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] });
  try { strictAssert.equal(1, "1"); failures.push("strict equal passed"); } catch (err) { eq([err.name, err.code], ["AssertionError", "ERR_ASSERTION"], "strict assert"); }
  assert.equal(1, "1");
  assert.throws(() => { throw new TypeError("x"); }, TypeError);
  await assert.rejects(Promise.reject(new Error("no")), /no/);
  const decoder = new StringDecoder("utf8");
  const euro = new TextEncoder().encode("€");
  eq(decoder.write(euro.subarray(0, 2)) + decoder.write(euro.subarray(2)) + decoder.end(), "€", "a character split across chunks");
  return Response.json(failures);
} };"#;
    let (status, body) = node_answer(source).await;
    assert_eq!(
        (status, body.as_str()),
        (200, "[]"),
        "failed checks: {body}"
    );
    let more = r##"import { fileURLToPath, pathToFileURL, parse, format } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import timers from "node:timers";
import diagnostics from "node:diagnostics_channel";
export default { async fetch() {
  const failures = [];
  const eq = (got, want, what) => { if (JSON.stringify(got) !== JSON.stringify(want)) failures.push(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`); };
  eq(fileURLToPath("file:///a/b%20c.txt"), "/a/b c.txt", "fileURLToPath");
  eq(pathToFileURL("/a/b c.txt").href, "file:///a/b%20c.txt", "pathToFileURL");
  const parsed = parse("https://u:p@example.com:8080/x?y=1#z", true);
  eq([parsed.hostname, parsed.port, parsed.pathname, parsed.query.y, parsed.hash, parsed.auth], ["example.com", "8080", "/x", "1", "#z", "u:p"], "parse");
  eq(format({ protocol: "https", hostname: "a.com", pathname: "/p", query: { q: "1" } }), "https://a.com/p?q=1", "format");
  eq(await sleep(5, "slept"), "slept", "timers/promises");
  eq(typeof timers.setImmediate, "function", "timers");
  const seen = [];
  const channel = diagnostics.channel("kiln:test");
  eq(channel.hasSubscribers, false, "no subscribers yet");
  channel.subscribe((message) => seen.push(message));
  channel.publish({ n: 1 });
  eq(seen, [{ n: 1 }], "publish");
  return Response.json(failures);
} };"##;
    let (status, body) = node_answer(more).await;
    assert_eq!(
        (status, body.as_str()),
        (200, "[]"),
        "failed checks: {body}"
    );
    let als_only = util::js_dated(
        r#"import { AsyncLocalStorage } from "node:async_hooks";
           export default { fetch() { return new Response(typeof AsyncLocalStorage); } }"#,
        "2025-01-01",
        &["nodejs_als"],
    );
    let (_, body) = util::get(&als_only, "http://t/").await.expect("answers");
    assert_eq!(body, "function");
}

const STREAM_SUITE: &str = r##"import { Readable, Writable, Duplex, Transform, PassThrough, pipeline, finished, compose } from "node:stream";
import { pipeline as pipelinePromise } from "node:stream/promises";
import { text } from "node:stream/consumers";
import { ReadableStream as WebReadable } from "node:stream/web";
import { Buffer } from "node:buffer";
import streamDefault from "stream";
export default { async fetch() {
  const failures = [];
  const eq = (got, want, what) => { if (JSON.stringify(got) !== JSON.stringify(want)) failures.push(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`); };
  const collect = () => { const chunks = []; const w = new Writable({ write(chunk, enc, cb) { chunks.push(String(chunk)); cb(); } }); w.chunks = chunks; return w; };

  // Flowing mode, 'data' and 'end'.
  const seen = [];
  await new Promise((resolve) => {
    const r = Readable.from(["a", "b", "c"]);
    r.on("data", (c) => seen.push(c));
    r.on("end", resolve);
  });
  eq(seen, ["a", "b", "c"], "Readable.from flows");

  // A custom Readable in paused mode with 'readable' and read().
  let n = 0;
  const counter = new Readable({ read() { n += 1; this.push(n <= 3 ? `n${n}` : null); } });
  let paused = "";
  await new Promise((resolve) => {
    counter.on("readable", () => { let chunk; while ((chunk = counter.read()) !== null) paused += chunk; });
    counter.on("end", resolve);
  });
  eq(paused, "n1n2n3", "paused mode");

  // Async iteration.
  const iterated = [];
  for await (const chunk of Readable.from([1, 2, 3])) iterated.push(chunk);
  eq(iterated, [1, 2, 3], "async iteration");

  // pipeline through a Transform, with a callback.
  const upper = new Transform({ transform(chunk, enc, cb) { cb(null, String(chunk).toUpperCase()); } });
  const sink = collect();
  await new Promise((resolve, reject) => pipeline(Readable.from(["x", "y"]), upper, sink, (err) => (err ? reject(err) : resolve())));
  eq(sink.chunks, ["X", "Y"], "pipeline");

  // stream/promises pipeline with an async generator stage, then consumers.
  const through = new PassThrough();
  const done = pipelinePromise(Readable.from(["p", "q"]), async function* (source) { for await (const c of source) yield `${c}!`; }, through);
  eq(await text(through), "p!q!", "pipeline with a generator, consumers.text");
  await done;

  // Backpressure: write() returns false past the high-water mark, then 'drain'.
  const slow = new Writable({ highWaterMark: 4, write(chunk, enc, cb) { setTimeout(cb, 1); } });
  eq(slow.write("12345"), false, "write past highWaterMark");
  await new Promise((resolve) => slow.once("drain", resolve));
  eq(slow.writableLength, 0, "drained");

  // Errors: write after end, destroy with an error, finished().
  const ended = collect();
  ended.end("last");
  const afterEnd = await new Promise((resolve) => { ended.on("error", (e) => resolve(e.code)); ended.write("more"); });
  eq(afterEnd, "ERR_STREAM_WRITE_AFTER_END", "write after end");
  const broken = new Readable({ read() {} });
  const finishedErr = new Promise((resolve) => finished(broken, (err) => resolve(err?.message)));
  broken.destroy(new Error("boom"));
  eq(await finishedErr, "boom", "finished reports the error");

  // Web stream interop.
  eq(await text(Readable.fromWeb(new WebReadable({ start(c) { c.enqueue(new TextEncoder().encode("web")); c.close(); } }))), "web", "fromWeb");
  const web = Readable.toWeb(Readable.from([Buffer.from("to"), Buffer.from("web")], { objectMode: false }));
  eq(await new Response(web).text(), "toweb", "toWeb");

  // Duplex is a Writable too; the default export is Stream.
  eq(new Duplex({ read() {}, write(c, e, cb) { cb(); } }) instanceof Writable, true, "Duplex instanceof Writable");
  eq(streamDefault.Readable === Readable && typeof streamDefault === "function", true, "default export");

  // compose(): one Duplex from a Transform, a generator and a PassThrough.
  const composed = compose(
    new Transform({ transform(chunk, enc, cb) { cb(null, String(chunk).toUpperCase()); } }),
    async function* (source) { for await (const chunk of source) yield `<${chunk}>`; },
    new PassThrough({ objectMode: true }),
  );
  const composedOut = text(composed);
  composed.write("ab");
  composed.end("cd");
  eq(await composedOut, "<AB><CD>", "compose writes to the first stage and reads from the last");
  const chained = [];
  await pipelinePromise(Readable.from(["x", "y"]), compose(async function* (source) { for await (const c of source) yield `${c}${c}`; }),
    new Writable({ objectMode: true, write(chunk, enc, cb) { chained.push(String(chunk)); cb(); } }));
  eq(chained, ["xx", "yy"], "a composed stage in a pipeline");
  const failing = compose(new PassThrough(), new Transform({ transform(chunk, enc, cb) { cb(new Error("stage failed")); } }));
  const failure = new Promise((resolve) => failing.on("error", (err) => resolve(err.message)));
  failing.write("x");
  eq(await failure, "stage failed", "a stage's error reaches the composed stream");
  return Response.json(failures);
} };"##;

#[tokio::test]
async fn node_streams_flow_pause_pipe_and_convert_to_web_streams() {
    let (status, body) = node_answer(STREAM_SUITE).await;
    assert_eq!(
        (status, body.as_str()),
        (200, "[]"),
        "failed checks: {body}"
    );
}

const ZLIB_SUITE: &str = r##"import zlib from "node:zlib";
import { gzipSync, gunzipSync, deflateSync, inflateSync, deflateRawSync, inflateRawSync, unzipSync, crc32, constants } from "node:zlib";
import { pipeline } from "node:stream/promises";
import { Readable, Writable } from "node:stream";
import { Buffer } from "node:buffer";
export default { async fetch() {
  const failures = [];
  const eq = (got, want, what) => { if (JSON.stringify(got) !== JSON.stringify(want)) failures.push(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`); };
  const input = Buffer.from("hello hello hello hello zlib");
  eq(gunzipSync(gzipSync(input)).toString(), input.toString(), "gzip");
  eq(inflateSync(deflateSync(input, { level: 9 })).toString(), input.toString(), "deflate");
  eq(inflateRawSync(deflateRawSync(input)).toString(), input.toString(), "raw");
  eq(unzipSync(gzipSync(input)).toString() + unzipSync(deflateSync(input)).toString(), input.toString() + input.toString(), "unzip detects the format");
  eq(gzipSync(input)[0] === 0x1f && gzipSync(input)[1] === 0x8b, true, "gzip magic");
  eq(await new Promise((resolve) => zlib.deflate(input, (err, out) => zlib.inflate(out, (e2, back) => resolve(back.toString())))), input.toString(), "callbacks");
  try { inflateSync(Buffer.from("not zlib data")); failures.push("corrupt input did not throw"); }
  catch (err) { eq(err.code, "Z_DATA_ERROR", "corrupt input code"); }
  eq(crc32("hello"), 907060870, "crc32");
  eq(constants.Z_BEST_COMPRESSION, 9, "constants");
  const parts = [];
  await pipeline(Readable.from([Buffer.from("stream "), Buffer.from("of "), Buffer.from("bytes")]), zlib.createGzip(),
    new Writable({ write(chunk, enc, cb) { parts.push(chunk); cb(); } }));
  eq(gunzipSync(Buffer.concat(parts)).toString(), "stream of bytes", "createGzip stream");
  const br = zlib.brotliCompressSync(input);
  eq(zlib.brotliDecompressSync(br).toString(), input.toString(), "brotli round trip");
  const fast = zlib.brotliCompressSync(Buffer.from("a".repeat(10000)), { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } });
  eq([fast.length < 100, zlib.brotliDecompressSync(fast).length], [true, 10000], "brotli with a quality");
  try { zlib.brotliDecompressSync(br.subarray(0, br.length - 2)); failures.push("truncated brotli did not throw"); } catch (err) { eq([err.code, err.message], [undefined, "Unexpected end of file"], "truncated brotli, as workerd says it"); }
  const brParts = [];
  await pipeline(Readable.from([Buffer.from("streamed "), Buffer.from("brotli")]), zlib.createBrotliCompress(),
    new Writable({ write(chunk, enc, cb) { brParts.push(chunk); cb(); } }));
  eq(zlib.brotliDecompressSync(Buffer.concat(brParts)).toString(), "streamed brotli", "createBrotliCompress stream");
  eq(await new Promise((resolve) => zlib.brotliCompress(input, (err, out) => zlib.brotliDecompress(out, (e2, back) => resolve(back.toString())))), input.toString(), "brotli callbacks");
  try { zlib.zstdCompressSync(input); failures.push("zstd did not throw"); } catch (err) { eq(err.code, "ERR_METHOD_NOT_IMPLEMENTED", "zstd"); }
  // flush() pushes out a block that decodes on its own, before end().
  const gz = zlib.createGzip();
  const flushedParts = [];
  gz.on("data", (chunk) => flushedParts.push(chunk));
  gz.write("first line\n");
  await new Promise((resolve) => gz.flush(resolve));
  const early = Buffer.concat(flushedParts);
  const partial = zlib.createGunzip();
  const partialOut = [];
  partial.on("data", (chunk) => partialOut.push(chunk));
  partial.write(early);
  await new Promise((resolve) => partial.flush(resolve));
  eq(Buffer.concat(partialOut).toString(), "first line\n", "a flushed block decodes before the end");
  gz.end("second line\n");
  await new Promise((resolve) => gz.on("end", resolve));
  eq(gunzipSync(Buffer.concat(flushedParts)).toString(), "first line\nsecond line\n", "the whole stream after flush");
  return Response.json(failures);
} };"##;

#[tokio::test]
async fn node_zlib_compresses_and_decompresses_like_node() {
    let (status, body) = node_answer(ZLIB_SUITE).await;
    assert_eq!(
        (status, body.as_str()),
        (200, "[]"),
        "failed checks: {body}"
    );
}

/// Every module wrangler's `nodejs_compat` bundles leave to the runtime.
const NODE_MODULE_NAMES: &[&str] = &[
    "_stream_duplex",
    "_stream_passthrough",
    "_stream_readable",
    "_stream_transform",
    "_stream_writable",
    "assert",
    "assert/strict",
    "async_hooks",
    "buffer",
    "child_process",
    "cluster",
    "console",
    "constants",
    "crypto",
    "dgram",
    "diagnostics_channel",
    "dns",
    "dns/promises",
    "domain",
    "events",
    "fs",
    "fs/promises",
    "http",
    "http2",
    "https",
    "inspector",
    "module",
    "net",
    "os",
    "path",
    "path/posix",
    "path/win32",
    "perf_hooks",
    "process",
    "punycode",
    "querystring",
    "readline",
    "readline/promises",
    "repl",
    "stream",
    "stream/consumers",
    "stream/promises",
    "stream/web",
    "string_decoder",
    "sys",
    "timers",
    "timers/promises",
    "tls",
    "trace_events",
    "tty",
    "url",
    "util",
    "util/types",
    "v8",
    "vm",
    "wasi",
    "worker_threads",
    "zlib",
];

#[tokio::test]
async fn every_node_module_a_wrangler_bundle_imports_is_there() {
    let mut source = String::new();
    for (i, name) in NODE_MODULE_NAMES.iter().enumerate() {
        source.push_str(&format!("import * as m{i} from \"node:{name}\";\n"));
    }
    source.push_str(&format!(
        "const all = [{}];\nconst names = {:?};\n",
        (0..NODE_MODULE_NAMES.len())
            .map(|i| format!("m{i}"))
            .collect::<Vec<_>>()
            .join(", "),
        NODE_MODULE_NAMES
    ));
    source.push_str(r##"import qs from "node:querystring";
import { types } from "node:util";
import { isUint8Array } from "node:util/types";
import os from "node:os";
import punycode from "node:punycode";
import { isIP } from "node:net";
import fs, { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { STATUS_CODES } from "node:http";
import { createRequire, isBuiltin } from "node:module";
import { lookup } from "node:dns/promises";
export default { async fetch() {
  const failures = [];
  const eq = (got, want, what) => { if (JSON.stringify(got) !== JSON.stringify(want)) failures.push(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`); };
  all.forEach((m, i) => { if (m.default === undefined) failures.push(`${names[i]} has no default export`); });
  names.forEach((name) => { if (process.getBuiltinModule(`node:${name}`) === undefined) failures.push(`getBuiltinModule(node:${name})`); });
  eq(process.getBuiltinModule("node:events") === m19.default, true, "getBuiltinModule is the import's default");
  eq(qs.parse("a=1&b=x%20y&a=2&c"), { a: ["1", "2"], b: "x y", c: "" }, "querystring.parse");
  eq(qs.stringify({ a: [1, 2], b: "x y!" }), "a=1&a=2&b=x%20y%21", "querystring.stringify");
  eq(isUint8Array(new Uint8Array(1)) && types.isUint8Array === isUint8Array, true, "util/types");
  eq(os.EOL, "\n", "os.EOL");
  eq(punycode.toASCII("mañana.com"), "xn--maana-pta.com", "punycode.toASCII");
  eq(punycode.toUnicode("xn--maana-pta.com"), "mañana.com", "punycode.toUnicode");
  eq([isIP("1.2.3.4"), isIP("::1"), isIP("x")], [4, 6, 0], "net.isIP");
  eq(fs.existsSync("/etc/passwd"), false, "no files");
  try { readFileSync("/etc/passwd"); failures.push("readFileSync read a file"); } catch (err) { eq(err.code, "ENOENT", "readFileSync"); }
  eq(await readFile("/x").catch((err) => err.code), "ENOENT", "fs/promises");
  eq(STATUS_CODES[404], "Not Found", "http.STATUS_CODES");
  eq(createRequire(import.meta.url)("node:path").join("a", "b"), "a/b", "createRequire of a builtin");
  eq(isBuiltin("node:zlib") && !isBuiltin("left-pad"), true, "isBuiltin");
  eq(await lookup("example.com").catch((err) => err.code), "ENOTIMP", "dns is not implemented");
  return Response.json(failures);
} };"##);
    let (status, body) = node_answer(&source).await;
    assert_eq!(
        (status, body.as_str()),
        (200, "[]"),
        "failed checks: {body}"
    );
}

#[tokio::test]
async fn node_crypto_derives_keys_and_node_globals_are_there() {
    let source = r##"import { scryptSync, pbkdf2Sync, hkdfSync, randomFillSync, scrypt } from "node:crypto";
export default { async fetch() {
  const failures = [];
  const eq = (got, want, what) => { if (JSON.stringify(got) !== JSON.stringify(want)) failures.push(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`); };
  // RFC 7914's second test vector.
  eq(scryptSync("password", "NaCl", 64, { N: 1024, r: 8, p: 16 }).toString("hex").slice(0, 16), "fdbabe1c9d347200", "scryptSync");
  eq(await new Promise((resolve) => scrypt("password", "NaCl", 64, { N: 1024, r: 8, p: 16 }, (err, key) => resolve(key.toString("hex").slice(-8)))), "a2cc0640", "scrypt callback");
  // RFC 6070: PBKDF2-HMAC-SHA1, 2 iterations.
  eq(pbkdf2Sync("password", "salt", 2, 20, "sha1").toString("hex"), "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957", "pbkdf2Sync");
  eq(new Uint8Array(hkdfSync("sha256", "key", "salt", "info", 4)).length, 4, "hkdfSync");
  eq(randomFillSync(new Uint8Array(8)).length, 8, "randomFillSync");
  try { scryptSync("p", "s", 64, { N: 3 }); failures.push("N = 3 accepted"); } catch (err) { eq(err instanceof RangeError, true, "a bad N"); }
  eq([typeof global, global === globalThis, typeof setImmediate, typeof clearImmediate], ["object", true, "function", "function"], "node globals");
  return Response.json(failures);
} };"##;
    let (status, body) = node_answer(source).await;
    assert_eq!(
        (status, body.as_str()),
        (200, "[]"),
        "failed checks: {body}"
    );
}

#[tokio::test]
async fn a_response_body_is_pulled_with_the_stores_current_when_it_was_made() {
    let source = r##"import { AsyncLocalStorage } from "node:async_hooks";
const als = new AsyncLocalStorage();
export default { fetch() {
  return als.run("request-1", () => new Response(new ReadableStream({
    async pull(controller) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      controller.enqueue(new TextEncoder().encode(String(als.getStore())));
      controller.close();
    },
  })));
} };"##;
    let (status, body) = node_answer(source).await;
    assert_eq!((status, body.as_str()), (200, "request-1"));
}

#[tokio::test]
async fn a_transform_streams_callbacks_run_with_the_stores_current_when_it_was_made() {
    let source = r##"import { AsyncLocalStorage } from "node:async_hooks";
const als = new AsyncLocalStorage();
const encoder = new TextEncoder();
export default { fetch() {
  return als.run("S", () => {
    const transform = new TransformStream({
      transform(chunk, controller) { controller.enqueue(encoder.encode(`[transform=${als.getStore()}]`)); },
      flush(controller) { controller.enqueue(encoder.encode(`[flush=${als.getStore()}]`)); },
    });
    return new Response(new Response("body").body.pipeThrough(transform));
  });
} };"##;
    let (status, body) = node_answer(source).await;
    assert_eq!((status, body.as_str()), (200, "[transform=S][flush=S]"));
}

const CRYPTO_KEYS_SUITE: &str = r#"import crypto from "node:crypto";
const RSA_PKCS1 = "-----BEGIN RSA PRIVATE KEY-----\nMIICXAIBAAKBgQDQ0lO8EupfbrW3WxWjCeZobXrZuBe88mukeMlXKiazbsf4i7cC\nvTSflMr2rZicdX8bT04b73NIZHHPLhB7vSi3YBzYdIQT/hSRO4+QhxBmLUyZFLf0\neBDyvuOsqDq5TtFHYMjAaGYQ1N7u72FAm6j6f5qrpLGXUDadorRRPwFHVwIDAQAB\nAoGADkmVuRSCPK1SeY0d2d3fid2Tvjm+RgtAGiy5eeFEbJpzzCmjB+jyJMkFagNO\nocXYQIIYkgi8FoPo1YgNUKoMkv+yEXgmfySiKR90ziFxWGmlerWvbmaFHOwzNbqv\neHvSenxmr7w5+IoRMsFgDScs+GEwYR2LPxCXEQ40K9chwyECQQDw45+/7LSm3u8d\nOw/fbIxGFxsJVxEvg8bUTSahub2qXxlgkPzYZYduW88h1ymKVDBi1bcTP/+TE4u6\n70FJ4kAbAkEA3eu9CCz+VYlYCPtZP05V9tu5PUTLMYOcp6sx4MEzof5D/PQoyphb\nfxOiSD2rx3KAruGZHH+3fcHrd5I/f2uhdQJAOLUdMk1C6dWpbLQutGYVT5q43qYE\nga7/65KN+ZyELctdagI3w6mDDFPImyrPuKTBD0NIaduzCqibSFJyiDYe6QJAc+D9\nowBDigyegIomrwzLjIxtLJX4eBFeQpr8/3xC5sqrW7Fuf2ORG0j4SzqQsSOUGD1K\nwvvZp3wT5SrjpzhfZQJBANWyAkWRK8P9GEX5966caqewdEgLzusNWISfTOHiW8aX\nNcKSbj1rkoEerc9sUICJuPZnrJwB2zF543w7Qz/Qc9Y=\n-----END RSA PRIVATE KEY-----\n";
const RSA_PKCS8 = "-----BEGIN PRIVATE KEY-----\nMIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBANDSU7wS6l9utbdb\nFaMJ5mhtetm4F7zya6R4yVcqJrNux/iLtwK9NJ+UyvatmJx1fxtPThvvc0hkcc8u\nEHu9KLdgHNh0hBP+FJE7j5CHEGYtTJkUt/R4EPK+46yoOrlO0UdgyMBoZhDU3u7v\nYUCbqPp/mquksZdQNp2itFE/AUdXAgMBAAECgYAOSZW5FII8rVJ5jR3Z3d+J3ZO+\nOb5GC0AaLLl54URsmnPMKaMH6PIkyQVqA06hxdhAghiSCLwWg+jViA1QqgyS/7IR\neCZ/JKIpH3TOIXFYaaV6ta9uZoUc7DM1uq94e9J6fGavvDn4ihEywWANJyz4YTBh\nHYs/EJcRDjQr1yHDIQJBAPDjn7/stKbe7x07D99sjEYXGwlXES+DxtRNJqG5vapf\nGWCQ/Nhlh25bzyHXKYpUMGLVtxM//5MTi7rvQUniQBsCQQDd670ILP5ViVgI+1k/\nTlX227k9RMsxg5ynqzHgwTOh/kP89CjKmFt/E6JIPavHcoCu4Zkcf7d9wet3kj9/\na6F1AkA4tR0yTULp1alstC60ZhVPmrjepgSBrv/rko35nIQty11qAjfDqYMMU8ib\nKs+4pMEPQ0hp27MKqJtIUnKINh7pAkBz4P2jAEOKDJ6AiiavDMuMjG0slfh4EV5C\nmvz/fELmyqtbsW5/Y5EbSPhLOpCxI5QYPUrC+9mnfBPlKuOnOF9lAkEA1bICRZEr\nw/0YRfn3rpxqp7B0SAvO6w1YhJ9M4eJbxpc1wpJuPWuSgR6tz2xQgIm49mesnAHb\nMXnjfDtDP9Bz1g==\n-----END PRIVATE KEY-----\n";
const RSA_PUBLIC = "-----BEGIN PUBLIC KEY-----\nMIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDQ0lO8EupfbrW3WxWjCeZobXrZ\nuBe88mukeMlXKiazbsf4i7cCvTSflMr2rZicdX8bT04b73NIZHHPLhB7vSi3YBzY\ndIQT/hSRO4+QhxBmLUyZFLf0eBDyvuOsqDq5TtFHYMjAaGYQ1N7u72FAm6j6f5qr\npLGXUDadorRRPwFHVwIDAQAB\n-----END PUBLIC KEY-----\n";
const EC_SEC1 = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIAzMnIao43/HRSrYeoRJ6MKmzujogDelkLAWbq2mQp/5oAoGCCqGSM49\nAwEHoUQDQgAEqdBHzWegDW+CFE6GULCFrq9TmTpyjA7ycjIEH9dmONnlNOI5/Kli\nwMXIabAlx8DcxdmSMHx9vXjTl8UN5EuGSg==\n-----END EC PRIVATE KEY-----\n";
const EC_PUBLIC = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqdBHzWegDW+CFE6GULCFrq9TmTpy\njA7ycjIEH9dmONnlNOI5/KliwMXIabAlx8DcxdmSMHx9vXjTl8UN5EuGSg==\n-----END PUBLIC KEY-----\n";
const RSA_SIG = "7d8707eff77dd22213311e8efd7b28cb6eef0582b602e4573392f3cc5f62eae5b80a398d39a428a71f4f74bbaacda761ef4a45d339bc5612f3efc0fedd3921ee70788f5c67d9f142629bede6778c33f7957736e2d5f4444c496d34ef3d599a55c698f98a457307d7ce05dcc545fb10d9e3d360ac53cefa440848014c2d3d195a"; // openssl dgst -sha256 -sign (PKCS#1 v1.5 is deterministic)
const EC_SIG = "3046022100b9fef17b3aa95ae99377fce4d36cc1ad694de6cb274d5aee279cd3babe58f24a0221009ed5178cb9c57f0e143bdc4b4468337d5e09a4e8616c3b8a1bb7943ff7219c24"; // openssl's DER ECDSA signature of "hello"
export default { fetch() {
  const failures = [];
  const eq = (got, want, what) => { if (got !== want) failures.push(`${what}: got ${got}, want ${want}`); };
  const rsa = crypto.createPrivateKey(RSA_PKCS1);
  eq(rsa.type, "private", "type");
  eq(rsa.asymmetricKeyType, "rsa", "asymmetricKeyType");
  eq(rsa.asymmetricKeyDetails.modulusLength, 1024, "modulusLength");
  eq(crypto.createSign("RSA-SHA256").update("hel").update("lo").sign(rsa, "hex"), RSA_SIG, "RSA PKCS#1 signature as openssl's");
  eq(crypto.sign("sha256", Buffer.from("hello"), RSA_PKCS8).toString("hex"), RSA_SIG, "one-shot sign with a PKCS#8 PEM");
  eq(crypto.createVerify("SHA256").update("hello").verify(RSA_PUBLIC, RSA_SIG, "hex"), true, "verify openssl's signature");
  eq(crypto.createVerify("SHA256").update("hellO").verify(RSA_PUBLIC, RSA_SIG, "hex"), false, "a changed message fails");
  const pss = crypto.sign("sha256", Buffer.from("x"), { key: rsa, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  eq(crypto.verify("sha256", Buffer.from("x"), { key: crypto.createPublicKey(rsa), padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, pss), true, "RSA-PSS");
  const strip = (pem) => pem.replace(/-----[^-]+-----|\s/g, "");
  eq(strip(rsa.export({ format: "pem", type: "pkcs8" })), strip(RSA_PKCS8), "PKCS#8 export as openssl writes it");
  eq(strip(crypto.createPublicKey(RSA_PKCS8).export({ format: "pem", type: "spki" })), strip(RSA_PUBLIC), "SPKI export");
  const jwk = crypto.createPublicKey(rsa).export({ format: "jwk" });
  eq([jwk.kty, jwk.e].join(), "RSA,AQAB", "public JWK");
  eq(crypto.createPublicKey({ key: jwk, format: "jwk" }).export({ format: "pem", type: "spki" }), crypto.createPublicKey(rsa).export({ format: "pem", type: "spki" }), "JWK import");
  eq(crypto.createVerify("sha256").update("hello").verify(EC_PUBLIC, Buffer.from(EC_SIG, "hex")), true, "verify openssl's ECDSA (DER) signature");
  const ecSig = crypto.createSign("sha256").update("hello").sign(EC_SEC1);
  eq(ecSig[0], 0x30, "ECDSA signatures are DER by default");
  eq(crypto.verify("sha256", Buffer.from("hello"), EC_PUBLIC, ecSig), true, "verify our ECDSA signature");
  const p1363 = crypto.sign("sha256", Buffer.from("hello"), { key: EC_SEC1, dsaEncoding: "ieee-p1363" });
  eq(p1363.length, 64, "IEEE P1363 signature length");
  eq(crypto.createPrivateKey(EC_SEC1).asymmetricKeyDetails.namedCurve, "prime256v1", "namedCurve");
  const secret = crypto.createSecretKey(Buffer.from("secret"));
  eq([secret.type, secret.symmetricKeySize].join(), "secret,6", "secret key");
  eq(crypto.createHmac("sha256", secret).update("hello").digest("hex"), "88aab3ede8d3adf94d26ab90d3bafd4a2083070c3bcce9c014ee04a443847c0b", "HMAC with a KeyObject");
  const key = Buffer.from("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "hex");
  const iv = Buffer.from("0f0e0d0c0b0a09080706050403020100", "hex");
  const cipher = crypto.createCipheriv("aes-256-cbc", key, iv);
  const encrypted = Buffer.concat([cipher.update("attack at dawn!!xyz", "utf8"), cipher.final()]).toString("hex");
  eq(encrypted, "77dc5df20dc223f2f4140a32784003e98b0c3203dede29e8dc50c0d8241abc04", "AES-256-CBC as openssl enc");
  const decipher = crypto.createDecipheriv("aes-256-cbc", key, iv);
  eq(decipher.update(encrypted, "hex", "utf8") + decipher.final("utf8"), "attack at dawn!!xyz", "AES-256-CBC decrypt");
  const gcm = crypto.createCipheriv("aes-256-gcm", key, iv.subarray(0, 12));
  gcm.setAAD(Buffer.from("aad"));
  const sealed = Buffer.concat([gcm.update("secret text"), gcm.final()]);
  const tag = gcm.getAuthTag();
  const open = crypto.createDecipheriv("aes-256-gcm", key, iv.subarray(0, 12));
  open.setAAD(Buffer.from("aad"));
  open.setAuthTag(tag);
  eq(Buffer.concat([open.update(sealed), open.final()]).toString(), "secret text", "AES-256-GCM round trip");
  const alice = crypto.createECDH("prime256v1"), bob = crypto.createECDH("prime256v1");
  alice.generateKeys(); bob.generateKeys();
  eq(alice.computeSecret(bob.getPublicKey()).toString("hex"), bob.computeSecret(alice.getPublicKey()).toString("hex"), "ECDH");
  const ed = crypto.generateKeyPairSync("ed25519");
  eq(crypto.verify(null, Buffer.from("m"), ed.publicKey, crypto.sign(null, Buffer.from("m"), ed.privateKey)), true, "Ed25519");
  const ec = crypto.generateKeyPairSync("ec", { namedCurve: "P-384", publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } });
  eq(ec.publicKey.startsWith("-----BEGIN PUBLIC KEY-----"), true, "generated PEM");
  eq(crypto.verify("sha384", Buffer.from("m"), ec.publicKey, crypto.sign("sha384", Buffer.from("m"), ec.privateKey)), true, "P-384 round trip");
  let threw = "";
  try { crypto.createPrivateKey("not a key"); } catch (err) { threw = err.code; }
  eq(threw, "ERR_OSSL_UNSUPPORTED", "a bad key");
  return new Response(failures.join("\n"));
} };"#;

#[tokio::test]
async fn node_crypto_keys_sign_verify_ciphers_and_ecdh_match_openssl() {
    let (status, body) = node_answer(CRYPTO_KEYS_SUITE).await;
    assert_eq!((status, body.as_str()), (200, ""), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_local_storage_keeps_concurrent_flows_and_requests_apart() {
    let source = r##"import { AsyncLocalStorage } from "node:async_hooks";
const als = new AsyncLocalStorage();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export default { async fetch(request) {
  const url = new URL(request.url);
  if (url.pathname === "/req") {
    const id = url.searchParams.get("id");
    return als.run(id, async () => {
      await sleep(5 + (Number(id) * 7) % 30);
      const afterTimer = als.getStore();
      await Promise.resolve();
      await new Promise((resolve) => setTimeout(resolve, 1));
      return new Response(`${id}:${afterTimer}:${als.getStore()}`);
    });
  }
  const flow = (name, ms) => als.run(name, async () => {
    const before = als.getStore();
    await sleep(ms);
    const later = await new Promise((resolve) => setTimeout(() => resolve(als.getStore()), 1));
    return [before, als.getStore(), later];
  });
  const [a, b] = await Promise.all([flow("A", 30), flow("B", 5)]);
  const outside = als.getStore();
  als.enterWith("entered");
  await null;
  return Response.json({ a, b, outside: outside ?? null, entered: als.getStore() });
} };"##;
    let worker = util::js_dated(source, "2025-01-01", &["nodejs_compat"]);
    let (status, body) = util::get(&worker, "http://t/").await.expect("answers");
    assert_eq!(status, 200, "{body}");
    let got: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(
        got,
        serde_json::json!({ "a": ["A", "A", "A"], "b": ["B", "B", "B"], "outside": null, "entered": "entered" })
    );
    // Twenty requests in flight at once on one isolate: each sees only its own store.
    let requests = (0..20).map(|i| {
        let worker = worker.clone();
        tokio::spawn(async move { util::get(&worker, &format!("http://t/req?id={i}")).await })
    });
    for (i, handle) in requests.enumerate() {
        let (status, body) = handle.await.expect("join").expect("answers");
        assert_eq!((status, body), (200, format!("{i}:{i}:{i}")));
    }
}

#[tokio::test]
async fn node_crypto_hashes_and_signers_are_streams() {
    let source = r##"import crypto from "node:crypto";
import { Readable } from "node:stream";
export default { async fetch() {
  const out = [];
  const piped = await new Promise((resolve, reject) => {
    const hash = crypto.createHash("md5");
    hash.setEncoding("hex");
    Readable.from(["ab", "c"]).pipe(hash).on("finish", () => resolve(hash.read())).on("error", reject);
  });
  out.push(piped);
  const written = crypto.createHash("sha256");
  written.write("ab");
  written.end("c");
  out.push(await new Promise((resolve) => written.on("readable", () => resolve(written.read().toString("hex")))));
  const partial = crypto.createHash("sha1").update("a");
  const copy = partial.copy();
  out.push(partial.update("b").digest("hex") === crypto.createHash("sha1").update("ab").digest("hex"));
  out.push(copy.update("c").digest("hex") === crypto.createHash("sha1").update("ac").digest("hex"));
  const secret = crypto.createSecretKey(Buffer.from("k"));
  const signer = crypto.createHmac("sha256", secret);
  signer.end("data");
  out.push(await new Promise((resolve) => signer.on("end", () => resolve(signer.read().length))));
  return Response.json(out);
} };"##;
    let (status, body) = node_answer(source).await;
    assert_eq!(
        (status, body.as_str()),
        (
            200,
            r#"["900150983cd24fb0d6963f7d28e17f72","ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",true,true,32]"#
        )
    );
}

#[tokio::test]
async fn a_node_http_server_serves_through_http_server_handler() {
    let source = r##"import { httpServerHandler } from "cloudflare:node";
import { createServer } from "node:http";
const server = createServer((req, res) => {
  if (req.method === "POST") {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      res.writeHead(201, { "content-type": "text/plain", "x-method": req.method });
      res.end(`echo ${Buffer.concat(chunks).toString()} ${req.headers["x-test"]} ${req.url}`);
    });
    return;
  }
  res.statusCode = 404;
  res.setHeader("content-type", "application/json");
  res.write('{"missing":');
  res.end(JSON.stringify(req.url) + "}");
});
server.listen(8080);
export default httpServerHandler({ port: 8080 });"##;
    let worker = util::js_dated(source, "2025-10-08", &["nodejs_compat"]);
    let (status, body) = util::get(&worker, "http://t/nothing?q=1")
        .await
        .expect("answers");
    assert_eq!(
        (status, body.as_str()),
        (404, r#"{"missing":"/nothing?q=1"}"#)
    );
    let request = http::Request::builder()
        .method("POST")
        .uri("http://t/echo")
        .header("x-test", "header")
        .body(kiln_runtime::full("payload"))
        .expect("request");
    let (status, body) = util::send(&worker, request).await.expect("answers");
    assert_eq!((status, body.as_str()), (201, "echo payload header /echo"));
}

const X509_SUITE: &str = r#"import crypto from "node:crypto";
const CERT = "-----BEGIN CERTIFICATE-----\nMIICXTCCAcagAwIBAgIFASNFZ4kwDQYJKoZIhvcNAQELBQAwMTELMAkGA1UEBhMC\nVVMxEzARBgNVBAoMCktpbG4gVGVzdHMxDTALBgNVBAMMBHRlc3QwHhcNMjYxMTIz\nMDg1NjQyWhcNMzYxMTIwMDg1NjQyWjAxMQswCQYDVQQGEwJVUzETMBEGA1UECgwK\nS2lsbiBUZXN0czENMAsGA1UEAwwEdGVzdDCBnzANBgkqhkiG9w0BAQEFAAOBjQAw\ngYkCgYEA0NJTvBLqX261t1sVownmaG162bgXvPJrpHjJVyoms27H+Iu3Ar00n5TK\n9q2YnHV/G09OG+9zSGRxzy4Qe70ot2Ac2HSEE/4UkTuPkIcQZi1MmRS39HgQ8r7j\nrKg6uU7RR2DIwGhmENTe7u9hQJuo+n+aq6Sxl1A2naK0UT8BR1cCAwEAAaOBgDB+\nMB0GA1UdDgQWBBQPA3if/AHjBHKY0vlnhiO3O1veKjAfBgNVHSMEGDAWgBQPA3if\n/AHjBHKY0vlnhiO3O1veKjArBgNVHREEJDAiggtleGFtcGxlLmNvbYINKi5leGFt\ncGxlLm9yZ4cEfwAAATAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4GB\nAG5T2iF9x3g0Fts5/pcT2gMvtCtbhWj1/na9DHeeUoOYfu7p50f75K+yYbaajxTi\npWb6NZkMSrUWjzEugoOtA7x4CbD5cIZhOK7sitU5IInO+iDeDNHrIKqFbMAJKhal\n0NFNMkpyYydxN0ect5hqmfALCGukvblBqkdaCgL/c9A/\n-----END CERTIFICATE-----\n"; // openssl req -x509 -key <RSA_PKCS1> -subj "/C=US/O=Kiln Tests/CN=test" -set_serial 0x0123456789 -addext subjectAltName=... -addext basicConstraints=critical,CA:TRUE
const KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIICXAIBAAKBgQDQ0lO8EupfbrW3WxWjCeZobXrZuBe88mukeMlXKiazbsf4i7cC\nvTSflMr2rZicdX8bT04b73NIZHHPLhB7vSi3YBzYdIQT/hSRO4+QhxBmLUyZFLf0\neBDyvuOsqDq5TtFHYMjAaGYQ1N7u72FAm6j6f5qrpLGXUDadorRRPwFHVwIDAQAB\nAoGADkmVuRSCPK1SeY0d2d3fid2Tvjm+RgtAGiy5eeFEbJpzzCmjB+jyJMkFagNO\nocXYQIIYkgi8FoPo1YgNUKoMkv+yEXgmfySiKR90ziFxWGmlerWvbmaFHOwzNbqv\neHvSenxmr7w5+IoRMsFgDScs+GEwYR2LPxCXEQ40K9chwyECQQDw45+/7LSm3u8d\nOw/fbIxGFxsJVxEvg8bUTSahub2qXxlgkPzYZYduW88h1ymKVDBi1bcTP/+TE4u6\n70FJ4kAbAkEA3eu9CCz+VYlYCPtZP05V9tu5PUTLMYOcp6sx4MEzof5D/PQoyphb\nfxOiSD2rx3KAruGZHH+3fcHrd5I/f2uhdQJAOLUdMk1C6dWpbLQutGYVT5q43qYE\nga7/65KN+ZyELctdagI3w6mDDFPImyrPuKTBD0NIaduzCqibSFJyiDYe6QJAc+D9\nowBDigyegIomrwzLjIxtLJX4eBFeQpr8/3xC5sqrW7Fuf2ORG0j4SzqQsSOUGD1K\nwvvZp3wT5SrjpzhfZQJBANWyAkWRK8P9GEX5966caqewdEgLzusNWISfTOHiW8aX\nNcKSbj1rkoEerc9sUICJuPZnrJwB2zF543w7Qz/Qc9Y=\n-----END RSA PRIVATE KEY-----\n";
export default { fetch() {
  const failures = [];
  const eq = (got, want, what) => { if (got !== want) failures.push(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`); };
  const cert = new crypto.X509Certificate(CERT);
  eq(cert.subject, "C=US\nO=Kiln Tests\nCN=test", "subject, one attribute per line");
  eq(cert.issuer, cert.subject, "self-signed");
  eq(cert.serialNumber, "0123456789", "serial");
  eq(cert.validFrom, "Nov 23 08:56:42 2026 GMT", "validFrom as openssl prints it");
  eq(cert.validTo, "Nov 20 08:56:42 2036 GMT", "validTo");
  eq(cert.validToDate.toISOString(), "2036-11-20T08:56:42.000Z", "validToDate");
  eq(cert.fingerprint, "62:6D:64:11:C1:A0:49:77:07:FB:CF:E0:EF:F4:10:72:EC:66:57:00", "sha1 fingerprint as openssl's");
  eq(cert.fingerprint256, "A7:17:C9:8D:30:F4:A4:27:5F:09:D4:2B:58:A3:3F:08:5F:3E:6F:AB:0C:BA:FE:6A:9F:1F:62:13:EE:D3:38:A6", "sha256 fingerprint");
  eq(cert.subjectAltName, "DNS:example.com, DNS:*.example.org, IP Address:127.0.0.1", "subjectAltName");
  eq(cert.ca, true, "basicConstraints CA");
  eq(cert.checkHost("example.com"), "example.com", "checkHost");
  eq(cert.checkHost("a.example.org"), "*.example.org", "checkHost, wildcard");
  eq(cert.checkHost("a.b.example.org"), undefined, "a wildcard covers one label");
  eq(cert.checkIP("127.0.0.1"), "127.0.0.1", "checkIP");
  eq(cert.verify(cert.publicKey), true, "the self-signature verifies");
  eq(cert.checkPrivateKey(crypto.createPrivateKey(KEY)), true, "checkPrivateKey");
  eq(cert.checkIssued(cert), true, "checkIssued");
  eq(cert.raw.length > 500, true, "raw DER");
  eq(cert.toString(), CERT, "toString gives the PEM back");
  eq(new crypto.X509Certificate(cert.raw).subject, cert.subject, "from DER");
  eq(crypto.createPublicKey(CERT).asymmetricKeyType, "rsa", "a certificate as a public key");
  const sig = crypto.sign("sha256", Buffer.from("data"), KEY);
  eq(crypto.verify("sha256", Buffer.from("data"), CERT, sig), true, "verify with a certificate");
  eq(crypto.createVerify("RSA-SHA256").update("data").verify(CERT, sig), true, "createVerify with a certificate");
  let threw = "";
  try { new crypto.X509Certificate("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"); } catch (err) { threw = err.code; }
  eq(threw.startsWith("ERR_OSSL"), true, "a malformed certificate is an OpenSSL-style error");
  threw = "";
  try { crypto.createPrivateKey(CERT); } catch (err) { threw = err.code; }
  eq(threw, "ERR_OSSL_UNSUPPORTED", "a certificate is no private key");
  return new Response(failures.join("\n"));
} };"#;

#[tokio::test]
async fn node_crypto_reads_x509_certificates_as_openssl_does() {
    let (status, body) = node_answer(X509_SUITE).await;
    assert_eq!((status, body.as_str()), (200, ""), "{body}");
}
