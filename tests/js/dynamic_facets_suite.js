// Facets whose classes come from a Dynamic Worker (tests/test_dynamic_facets.rs): the parent's
// object loads code with env.LOADER and runs its Durable Object class as a facet through
// getDurableObjectClass(); the facet has its own storage, gets the class's props, runs under
// the Dynamic Worker's limits and sees only the env its code was given.
import { DurableObject } from "cloudflare:workers";

const NOTES = `
import { DurableObject } from "cloudflare:workers";
export class Notes extends DurableObject {
  constructor(ctx, env) { super(ctx, env); this.instanceCalls = 0; }
  add(text) {
    this.instanceCalls++;
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS notes (text TEXT)");
    this.ctx.storage.sql.exec("INSERT INTO notes VALUES (?)", text);
    return this.ctx.storage.sql.exec("SELECT count(*) AS n FROM notes").one().n;
  }
  count() {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS notes (text TEXT)");
    return this.ctx.storage.sql.exec("SELECT count(*) AS n FROM notes").one().n;
  }
  async bump() {
    const n = ((await this.ctx.storage.get("n")) ?? 0) + 1;
    await this.ctx.storage.put("n", n);
    return n;
  }
  calls() { return this.instanceCalls; }
  async alarmAttempt() {
    try { await this.ctx.storage.setAlarm(Date.now() + 60000); return "set"; } catch (err) { return err.message; }
  }
  owner() { return this.ctx.props.owner; }
  idText() { return this.ctx.id.toString(); }
  envKeys() { return Object.keys(this.env).sort(); }
  fetch(request) { return new Response("notes saw " + new URL(request.url).pathname + " with " + this.env.GREETING); }
}
export class Spin extends DurableObject {
  spin() { for (;;) {} }
}
export default { fetch() { return new Response("notes worker"); } };
`;

function notesWorker(env) {
  return env.LOADER.get("notes-v1", () => ({
    compatibilityDate: "2026-04-20",
    mainModule: "index.js",
    modules: { "index.js": NOTES },
    env: { GREETING: "hi" },
  }));
}

export class App extends DurableObject {
  notes(name = "notes") {
    const cls = notesWorker(this.env).getDurableObjectClass("Notes", { props: { owner: "alice" } });
    return this.ctx.facets.get(name, () => ({ class: cls }));
  }
  async run() {
    const out = {};
    const notes = this.notes();
    out.adds = [await notes.add("a"), await notes.add("b")];
    out.bumps = [await notes.bump(), await notes.bump()];
    out.owner = await notes.owner();
    out.sameIdAsParent = (await notes.idText()) === this.ctx.id.toString();
    out.parentSeesNoFacetKeys = (await this.ctx.storage.get("n")) ?? null;
    out.envKeys = await notes.envKeys();
    out.alarm = await notes.alarmAttempt();
    out.fetch = await (await notes.fetch("https://facet/path")).text();
    out.callsBeforeAbort = await notes.calls();
    this.ctx.facets.abort("notes", "reset it");
    out.callsAfterAbort = await notes.calls();
    out.keptAfterAbort = await notes.count();
    const other = this.notes("other");
    await other.add("x");
    await this.ctx.facets.delete("other");
    out.afterDelete = await this.notes("other").count();
    try {
      await this.ctx.facets.get("missing", () => ({ class: notesWorker(this.env).getDurableObjectClass("Nope") })).add("x");
      out.missingClass = "ran?";
    } catch (err) {
      out.missingClass = err.message;
    }
    try {
      const spin = notesWorker(this.env).getDurableObjectClass("Spin", { limits: { cpuMs: 50 } });
      await this.ctx.facets.get("spin", () => ({ class: spin })).spin();
      out.cpu = "finished?";
    } catch (err) {
      out.cpu = err.message;
    }
    return out;
  }
  async again() {
    const notes = this.notes();
    return [await notes.count(), await notes.bump()];
  }
}

export default {
  async fetch(request, env) {
    const app = env.APP.getByName("app");
    const path = new URL(request.url).pathname;
    return Response.json(path === "/again" ? await app.again() : await app.run());
  },
};
