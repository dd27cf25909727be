// Durable Object facets (tests/test_facets.rs): children with their own storage, ids, abort and
// delete, classes from ctx.exports with and without a binding, nesting.
import { DurableObject } from "cloudflare:workers";

export class Counter extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.instanceCalls = 0;
  }
  bump() {
    this.instanceCalls++;
    const n = (this.ctx.storage.kv.get("n") ?? 0) + 1;
    this.ctx.storage.kv.put("n", n);
    return n;
  }
  calls() { return this.instanceCalls; }
  idText() { return this.ctx.id.toString(); }
  async note(text) {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS notes (text TEXT)");
    this.ctx.storage.sql.exec("INSERT INTO notes VALUES (?)", text);
    return this.ctx.storage.sql.exec("SELECT text FROM notes").toArray().map((row) => row.text);
  }
  async fetch(request) { return new Response(`counter saw ${new URL(request.url).pathname}`); }
  nested() {
    // A facet of a facet.
    return this.ctx.facets.get("inner", () => ({ class: this.ctx.exports.Counter })).bump();
  }
}

// No binding names this class: facets reach it through ctx.exports alone.
export class Unbound extends DurableObject {
  hello() { return `unbound in ${this.ctx.id}`; }
}

export class Parent extends DurableObject {
  counter(name) {
    return this.ctx.facets.get(name, () => ({ class: this.ctx.exports.Counter }));
  }
  async run() {
    const out = {};
    const a = this.counter("a");
    out.bumps = [await a.bump(), await a.bump(), await this.counter("b").bump()];
    out.parentSeesNoFacetKeys = this.ctx.storage.kv.get("n") ?? null;
    out.sameIdAsParent = (await a.idText()) === this.ctx.id.toString();
    const other = this.ctx.facets.get("custom-id", () => ({ class: this.ctx.exports.Counter, id: this.env.PARENT.idFromName("someone-else") }));
    out.customId = (await other.idText()) === this.env.PARENT.idFromName("someone-else").toString();
    out.sql = [await a.note("one"), await this.counter("b").note("two")];
    out.fetch = await (await a.fetch("https://facet/path")).text();
    out.unbound = (await this.ctx.facets.get("u", () => ({ class: this.ctx.exports.Unbound })).hello()) === `unbound in ${this.ctx.id}`;
    out.nested = await a.nested();
    out.callsBeforeAbort = await a.calls();
    this.ctx.facets.abort("a", "reset it");
    out.callsAfterAbort = await a.calls();
    out.keptAfterAbort = await a.bump();
    await this.ctx.facets.delete("b");
    out.afterDelete = await this.counter("b").bump();
    try {
      await this.ctx.facets.get("bad", () => ({ class: class NotMine {} })).bump();
    } catch (err) {
      out.badClass = err.name;
    }
    try {
      this.ctx.facets.get("x".repeat(300), () => ({ class: this.ctx.exports.Counter }));
    } catch (err) {
      out.longName = err.name;
    }
    return out;
  }
  async again() {
    return [await this.counter("a").bump(), await this.counter("b").bump()];
  }
}

export default {
  async fetch(request, env) {
    const parent = env.PARENT.getByName("p");
    const path = new URL(request.url).pathname;
    return Response.json(path === "/again" ? await parent.again() : await parent.run());
  },
};
