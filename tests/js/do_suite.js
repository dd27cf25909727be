// Durable Object behaviour checked from inside an object: each check throws on a mismatch, and
// the worker answers with the list of failures (empty when everything holds).
import { DurableObject } from "cloudflare:workers";

let constructions = 0;
// What a write made by a reset object's still-running code came to (see abortThenWrite).
let lateWrite = "not tried";

function eq(actual, expected, what) {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

async function throwsWith(fn, name, fragment, what) {
  try {
    await fn();
  } catch (err) {
    if (err.name !== name || !String(err.message).includes(fragment)) {
      throw new Error(`${what}: threw ${err.name}: ${err.message}`);
    }
    return;
  }
  throw new Error(`${what}: did not throw`);
}

const checks = {
  async basics(s) {
    await s.put("a", 1);
    eq(await s.get("a"), 1, "get after put");
    eq(await s.get("missing"), undefined, "missing key");
    await s.put({ b: 2, c: 3 });
    const many = await s.get(["c", "missing", "a", "b"]);
    eq([...many.entries()], [["a", 1], ["b", 2], ["c", 3]], "get(array) is a sorted Map without missing keys");
    eq(await s.delete("a"), true, "delete existing");
    eq(await s.delete("a"), false, "delete missing");
    eq(await s.delete(["b", "c", "zz"]), 2, "delete(array) counts");
  },
  async list(s) {
    for (const k of ["a", "b", "c", "d", "e", "pa", "pb", "q"]) await s.put(k, k.toUpperCase());
    const keys = async (o) => [...(await s.list(o)).keys()];
    eq(await keys({}), ["a", "b", "c", "d", "e", "pa", "pb", "q"], "all");
    eq(await keys({ start: "b", end: "d" }), ["b", "c"], "start inclusive, end exclusive");
    eq(await keys({ startAfter: "b", end: "e" }), ["c", "d"], "startAfter");
    eq(await keys({ prefix: "p" }), ["pa", "pb"], "prefix");
    eq(await keys({ reverse: true, limit: 3 }), ["q", "pb", "pa"], "reverse limit");
    eq(await keys({ start: "b", end: "e", reverse: true }), ["d", "c", "b"], "reverse keeps bounds");
    eq(await keys({ limit: 2 }), ["a", "b"], "limit");
    await s.delete("b");
    await s.put("bb", 1);
    eq(await keys({ limit: 3 }), ["a", "bb", "c"], "uncommitted writes are listed");
    eq((await s.list({ prefix: "p" })).get("pa"), "PA", "values");
    await throwsWith(() => s.list({ limit: 0 }), "TypeError", "", "limit 0");
    await throwsWith(() => s.list({ start: "a", startAfter: "b" }), "TypeError", "", "start and startAfter");
  },
  async clone(s) {
    const cyclic = { name: "loop" };
    cyclic.self = cyclic;
    const shared = [1, 2];
    const value = {
      str: "x", num: 1.5, neg0: -0, nan: NaN, inf: -Infinity, t: true, nul: null, undef: undefined,
      big: 12345678901234567890n, date: new Date(1700000000000), re: /a+b/gi,
      map: new Map([[1, "one"], ["k", { v: 2 }]]), set: new Set(["x", 3]),
      buf: new Uint8Array([1, 2, 255]).buffer, u16: new Uint16Array([7, 65535]), err: new RangeError("boom"),
      arr: [1, "two", [3]], cyclic, shared1: shared, shared2: shared, view: new DataView(new ArrayBuffer(4)),
    };
    await s.put("v", value);
    const back = await s.get("v");
    eq(back.str + back.num + back.t, "x1.5true", "primitives");
    if (!Object.is(back.neg0, -0) || !Number.isNaN(back.nan) || back.inf !== -Infinity) throw new Error("special numbers");
    if (back.nul !== null || !("undef" in back) || back.undef !== undefined) throw new Error("null/undefined");
    eq(back.big === 12345678901234567890n, true, "BigInt");
    eq(back.date instanceof Date && back.date.getTime(), 1700000000000, "Date");
    eq(back.re instanceof RegExp && back.re.source + back.re.flags, "a+bgi", "RegExp");
    eq(back.map instanceof Map && [...back.map.keys()], [1, "k"], "Map keys");
    eq(back.map.get("k").v, 2, "Map values");
    eq(back.set instanceof Set && [...back.set], ["x", 3], "Set");
    eq(back.buf instanceof ArrayBuffer && [...new Uint8Array(back.buf)], [1, 2, 255], "ArrayBuffer");
    eq(back.u16 instanceof Uint16Array && [...back.u16], [7, 65535], "typed array");
    eq(back.err instanceof RangeError && back.err.message, "boom", "Error");
    eq(back.cyclic.self === back.cyclic, true, "cycles");
    eq(back.shared1 === back.shared2, true, "shared references");
    eq(back.view instanceof DataView && back.view.byteLength, 4, "DataView");
    value.str = "changed";
    eq((await s.get("v")).str, "x", "stored values are copies");
    await throwsWith(() => s.put("f", { f() {} }), "DataCloneError", "", "functions do not clone");
  },
  async limits(s) {
    await throwsWith(() => s.put("k".repeat(2049), 1), "RangeError", "2048", "key size");
    await s.put("k".repeat(2048), 1);
    await throwsWith(() => s.put("big", "x".repeat(130 * 1024)), "RangeError", "131072", "value size");
    // Sizes as V8 measures them: bytes as bytes, CJK text two bytes a character.
    await s.put("binary", new ArrayBuffer(120 * 1024));
    eq((await s.get("binary")).byteLength, 120 * 1024, "a 120 KiB ArrayBuffer fits");
    await s.put("cjk", "漢".repeat(60000));
    eq((await s.get("cjk")).length, 60000, "60,000 CJK characters fit");
    await throwsWith(() => s.put("big", new Uint8Array(130 * 1024)), "RangeError", "131072", "binary value size");
    const keys = Array.from({ length: 129 }, (_, i) => `k${i}`);
    await throwsWith(() => s.get(keys), "RangeError", "128", "keys per get");
    await throwsWith(() => s.delete(keys), "RangeError", "128", "keys per delete");
    await throwsWith(() => s.put(Object.fromEntries(keys.map((k) => [k, 1]))), "RangeError", "128", "keys per put");
  },
  async transactions(s) {
    await s.put("t", 1);
    const result = await s.transaction(async (txn) => {
      await txn.put("t", 2);
      await txn.put("u", 3);
      eq(await txn.get("t"), 2, "txn reads its own writes");
      eq([...(await txn.list({ prefix: "t" })).keys()], ["t"], "txn list");
      return "done";
    });
    eq(result, "done", "transaction result");
    eq([await s.get("t"), await s.get("u")], [2, 3], "committed");
    await s.transaction(async (txn) => {
      await txn.put("t", 99);
      await txn.delete("u");
      txn.rollback();
    });
    eq([await s.get("t"), await s.get("u")], [2, 3], "rolled back");
    await throwsWith(() => s.transaction(async (txn) => {
      await txn.put("t", 100);
      throw new TypeError("inside");
    }), "TypeError", "inside", "a throwing transaction rethrows");
    eq(await s.get("t"), 2, "a throwing transaction commits nothing");
  },
  async deleteAllKeepsAlarm(s) {
    await s.put("x", 1);
    await s.setAlarm(Date.now() + 3600000);
    await s.deleteAll();
    eq(await s.get("x"), undefined, "deleteAll deletes");
    eq([...(await s.list()).keys()], [], "nothing left");
    eq(typeof (await s.getAlarm()), "number", "deleteAll keeps the alarm");
    await s.deleteAlarm();
    eq(await s.getAlarm(), null, "deleteAlarm");
    await s.sync();
  },
};

export class Suite extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    constructions++;
  }
  async run(name) {
    const failures = [];
    for (const [check, fn] of Object.entries(checks)) {
      if (name && check !== name) continue;
      try {
        await fn(this.ctx.storage);
      } catch (err) {
        failures.push(`${check}: ${err.message}`);
      }
      await this.ctx.storage.deleteAll();
    }
    return failures;
  }
  whoAmI() {
    return { id: this.ctx.id.toString(), name: this.ctx.id.name ?? null, constructions };
  }
  // Resets the object, then goes on writing from the old instance's code.
  async abortThenWrite() {
    const storage = this.ctx.storage;
    try { this.ctx.abort("reset for the test"); } catch {}
    try {
      await storage.put("late", 1);
      lateWrite = "written";
    } catch (err) {
      lateWrite = err.message;
    }
  }
  async lateWriteOutcome() {
    return { outcome: lateWrite, stored: (await this.ctx.storage.get("late")) ?? null };
  }
  fail(kind) {
    const err = kind === "type" ? new TypeError("bad input") : new Error("plain failure");
    throw err;
  }
  instanceField = () => "not rpc";
}

export class Gate extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.ready = false;
    ctx.blockConcurrencyWhile(async () => {
      await scheduler.wait(200);
      this.ready = true;
    });
  }
  isReady() {
    return this.ready;
  }
  async hold(ms) {
    await this.ctx.blockConcurrencyWhile(() => scheduler.wait(ms));
    return "held";
  }
  ping() {
    return "pong";
  }
}

export class Counter extends DurableObject {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname.endsWith("/batch")) {
      // 100 keys, no await between the puts: one atomic batch.
      const generation = ((await this.ctx.storage.get("generation")) ?? 0) + 1;
      for (let i = 0; i < 100; i++) this.ctx.storage.put(`key${String(i).padStart(3, "0")}`, generation);
      this.ctx.storage.put("generation", generation);
      return new Response(String(generation));
    }
    if (url.pathname.endsWith("/check")) {
      const values = new Set((await this.ctx.storage.list({ prefix: "key" })).values());
      return new Response(JSON.stringify({ values: [...values], generation: (await this.ctx.storage.get("generation")) ?? 0 }));
    }
    if (url.pathname.endsWith("/unconfirmed")) {
      // allowUnconfirmed: the response need not wait for this write; sync() still does.
      const value = ((await this.ctx.storage.get("n", { allowConcurrency: true })) ?? 0) + 1;
      this.ctx.storage.put("n", value, { allowUnconfirmed: true });
      if (url.searchParams.has("sync")) await this.ctx.storage.sync();
      return new Response(String(value));
    }
    if (request.method === "POST") {
      const value = ((await this.ctx.storage.get("n")) ?? 0) + 1;
      await this.ctx.storage.put("n", value);
      return new Response(String(value));
    }
    return new Response(String((await this.ctx.storage.get("n")) ?? 0));
  }
}

export class Alarmed extends DurableObject {
  async set(delayMs, failures, rearm) {
    await this.ctx.storage.put("failures", failures);
    await this.ctx.storage.put("rearm", rearm);
    await this.ctx.storage.setAlarm(Date.now() + delayMs);
    return true;
  }
  async alarm(info) {
    const seen = (await this.ctx.storage.get("seen")) ?? [];
    seen.push(info.retryCount);
    await this.ctx.storage.put("seen", seen);
    const failures = (await this.ctx.storage.get("failures")) ?? 0;
    if (seen.length <= failures) throw new Error("alarm failure on purpose");
    if (seen.length <= ((await this.ctx.storage.get("rearm")) ?? 0)) {
      // Sets the next alarm first, then waits: the write buffer commits before the handler ends.
      await this.ctx.storage.setAlarm(Date.now() + 50);
      await new Promise((resolve) => setTimeout(resolve, 30));
      if ((await this.ctx.storage.getAlarm()) === null) throw new Error("getAlarm() lost the alarm this handler set");
    }
  }
  async seen() {
    return { seen: (await this.ctx.storage.get("seen")) ?? [], alarm: await this.ctx.storage.getAlarm() };
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, kind, name, action] = url.pathname.split("/");
    try {
      if (kind === "suite") {
        const stub = env.SUITE.getByName(name);
        if (action === "run") return Response.json(await stub.run(url.searchParams.get("check")));
        if (action === "who") return Response.json(await stub.whoAmI());
        if (action === "late-write") {
          try { await stub.abortThenWrite(); } catch {}
          return Response.json(await stub.lateWriteOutcome());
        }
        if (action === "errors") {
          const out = [];
          for (const call of [() => stub.fail("type"), () => stub.fail("plain"), () => stub.nope(), () => stub.instanceField()]) {
            try { await call(); out.push("no error"); } catch (err) { out.push(`${err.name}: ${err.message}`); }
          }
          out.push(String(stub.alarm), String(stub.then));
          return Response.json(out);
        }
        if (action === "ids") {
          const id = env.SUITE.idFromName(name);
          const out = [id.toString().length, /^[0-9a-f]{64}$/.test(id.toString()), id.equals(env.SUITE.idFromName(name)), id.name,
            env.SUITE.idFromString(id.toString()).equals(id), env.SUITE.newUniqueId().toString() !== env.SUITE.newUniqueId().toString()];
          for (const bad of ["zz", id.toString().slice(0, 63) + (id.toString()[63] === "0" ? "1" : "0"), env.GATE.idFromName(name).toString()]) {
            try { env.SUITE.idFromString(bad); out.push("accepted"); } catch (err) { out.push(err.name); }
          }
          // Objects addressed without a name: by a unique id, and by its string form.
          const unique = env.SUITE.newUniqueId();
          const viaUnique = await env.SUITE.get(unique).whoAmI();
          const viaString = await env.SUITE.get(env.SUITE.idFromString(unique.toString())).whoAmI();
          out.push(viaUnique.id === unique.toString() && viaUnique.name === null, viaString.id === unique.toString());
          return Response.json(out);
        }
      }
      if (kind === "gate") {
        const stub = env.GATE.getByName(name);
        if (action === "ready") {
          const results = await Promise.all(Array.from({ length: 10 }, () => stub.isReady()));
          return Response.json(results);
        }
        if (action === "overload") {
          const holding = stub.hold(1500);
          await scheduler.wait(100);
          const results = await Promise.allSettled(Array.from({ length: 1100 }, () => stub.ping()));
          await holding;
          const overloaded = results.filter((r) => r.status === "rejected" && /overloaded/.test(r.reason.message)).length;
          const ok = results.filter((r) => r.status === "fulfilled").length;
          return Response.json({ overloaded, ok });
        }
      }
      if (kind === "counter") return env.COUNTER.getByName(name).fetch(request);
      if (kind === "alarm") {
        const stub = env.ALARMED.getByName(name);
        if (action === "set") return Response.json(await stub.set(Number(url.searchParams.get("ms")), Number(url.searchParams.get("failures") ?? 0), Number(url.searchParams.get("rearm") ?? 0)));
        return Response.json(await stub.seen());
      }
      return new Response("not found", { status: 404 });
    } catch (err) {
      return new Response(`${err.name}: ${err.message}`, { status: 500 });
    }
  },
};
