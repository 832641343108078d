/**
 * Prepared queries (src/store/prepared.ts) on a real SQLite database: compiled once, each
 * call's arguments in their places, on the root handle and inside a transaction; a build whose
 * SQL would depend on an argument's value is refused rather than silently reusing the first
 * call's SQL; on SQLite's direct path (Backend.runNow), a query from outside a transaction that
 * holds the connection waits for it rather than running inside it. (The store suite runs every
 * repository's prepared queries on both backends.)
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Sqlite from "better-sqlite3";
import { sql } from "kysely";
import { type Ctx, transaction } from "../../src/store/context.js";
import {
  type Backend,
  createSqliteBackend,
  createStore,
  type Store,
} from "../../src/store/index.js";
import { prepared } from "../../src/store/prepared.js";

const KV_GET = prepared(3, (db, part: string, ns: string, key: string) =>
  db
    .selectFrom("kv")
    .select(["key", "value"])
    .where("part", "=", part)
    .where("ns", "=", ns)
    .where("key", "=", key),
);

describe("prepared queries", () => {
  let backend: Backend;
  let store: Store;
  let root: Ctx;
  before(async () => {
    backend = createSqliteBackend({ path: ":memory:" });
    store = createStore(backend);
    await store.migrate();
    root = {
      backend,
      clock: Date.now,
      exec: backend.db,
      tx: null,
      depth: 0,
      life: { closed: false },
    };
    const kv = store.part("carrier:acme").kv;
    await kv.put("ns", "a", { v: 1 });
    await kv.put("ns", "b", { v: 2 });
    await store.part("carrier:globex").kv.put("ns", "a", { v: 3 });
  });
  after(() => store.close());

  it("runs with each call's arguments", async () => {
    assert.deepEqual(await KV_GET.first(root, "carrier:acme", "ns", "b"), {
      key: "b",
      value: '{"v":2}',
    });
    assert.deepEqual(await KV_GET.first(root, "carrier:globex", "ns", "a"), {
      key: "a",
      value: '{"v":3}',
    });
    assert.deepEqual(await KV_GET.first(root, "carrier:acme", "ns", "a"), {
      key: "a",
      value: '{"v":1}',
    });
    assert.equal(await KV_GET.first(root, "carrier:acme", "ns", "zz"), undefined);
  });

  it("runs inside a transaction on its connection, and the rollback undoes it", async () => {
    const acme = store.part("carrier:acme");
    await assert.rejects(
      acme.transaction(async (tx) => {
        await tx.kv.put("ns", "c", { v: 4 });
        assert.deepEqual((await tx.kv.get("ns", "c"))?.value, { v: 4 });
        throw new Error("roll back");
      }),
      /roll back/,
    );
    assert.equal(await acme.kv.get("ns", "c"), null);
    assert.equal(await KV_GET.first(root, "carrier:acme", "ns", "c"), undefined);
  });

  it("refuses a build that does not bind every argument", async () => {
    const inlined = prepared(1, (db, part: string) =>
      db
        .selectFrom("kv")
        .selectAll()
        .where(sql<boolean>`part = ${sql.lit(String(part))}`),
    );
    await assert.rejects(inlined.first(root, "carrier:acme"), /lost argument 0/);
  });

  it("runs at once when the connection is free; while a transaction holds it, the transaction's at once and others after it", async () => {
    const one = "select 1 as one";
    assert.deepEqual((await backend.runNow?.(one, [], false))?.rows, [{ one: 1 }]);
    const order: string[] = [];
    let outside: Promise<unknown> | undefined;
    await store.transaction(async () => {
      outside = backend.runNow?.(one, [], false)?.then(() => order.push("outside"));
      const inside = await backend.runNow?.(one, [], true);
      order.push("inside");
      assert.deepEqual(inside?.rows, [{ one: 1 }]);
      // The query from outside waits for the connection, and for the commit after it.
      await new Promise((resolve) => setImmediate(resolve));
      order.push("transaction ends");
    });
    await outside;
    assert.deepEqual(order, ["inside", "transaction ends", "outside"]);
  });

  it("keeps queries from outside a transaction out of it, and runs them in order after it", async () => {
    const acme = store.part("carrier:acme");
    let entered!: () => void;
    const inside = new Promise<void>((r) => {
      entered = r;
    });
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const first = acme.transaction(async (tx) => {
      await tx.kv.put("ns", "held", { v: 5 });
      entered();
      await held;
      throw new Error("roll back");
    });
    await inside;
    // Queued behind the first transaction: a second one, then a root read after it.
    const second = acme.transaction((tx) => tx.kv.put("ns", "second", { v: 6 }));
    const done: string[] = [];
    const read = KV_GET.first(root, "carrier:acme", "ns", "held").then((r) => {
      done.push("read");
      return r;
    });
    const readSecond = KV_GET.first(root, "carrier:acme", "ns", "second");
    const write = acme.kv.put("ns", "outside", { v: 7 }).then(() => done.push("write"));
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(done, [], "nothing runs while the transaction holds the connection");
    release();
    await assert.rejects(first, /roll back/);
    await second;
    assert.equal(await read, undefined, "the read never saw the uncommitted row");
    assert.deepEqual(await readSecond, { key: "second", value: '{"v":6}' });
    await write;
    assert.deepEqual(done, ["read", "write"]);
    assert.deepEqual((await acme.kv.get("ns", "outside"))?.value, { v: 7 });
    assert.equal(await acme.kv.get("ns", "held"), null);
  });

  it("runs a transaction's queries in the order issued, built and prepared alike", async () => {
    const seen = await transaction(root, async (tx) => {
      // Built (through kysely, a few microtasks to run) and not awaited, then prepared.
      const insert = tx.exec
        .insertInto("kv")
        .values({
          part: "carrier:acme",
          ns: "ns",
          key: "order",
          value: "1",
          version: 1,
          updated_at: 1,
        })
        .execute();
      const read = await KV_GET.first(tx, "carrier:acme", "ns", "order");
      await insert;
      return read;
    });
    assert.deepEqual(seen, { key: "order", value: "1" });
  });

  it("gives the connection back when a transaction cannot begin", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dmguard-prepared-"));
    const path = join(dir, "db.sqlite");
    const other = new Sqlite(path);
    try {
      other.pragma("journal_mode = WAL");
      other.exec("create table t (n integer)");
      const b = createSqliteBackend({ path, busyTimeoutMs: 20 });
      const s = createStore(b);
      // Another connection holds the write lock: BEGIN IMMEDIATE fails after the busy timeout.
      other.exec("begin immediate");
      await assert.rejects(
        s.transaction(async () => "never"),
        (err: { code?: string }) => err.code === "SQLITE_BUSY",
      );
      other.exec("commit");
      // Had the failed transaction kept the connection, neither of these would run.
      assert.deepEqual((await b.runNow?.("select count(*) as n from t", [], false))?.rows, [
        { n: 0 },
      ]);
      assert.equal(await s.transaction(async () => "ran"), "ran");
      await s.close();
    } finally {
      other.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("closes the database even when kysely never ran a query on it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dmguard-prepared-"));
    const path = join(dir, "db.sqlite");
    try {
      const made = createStore(createSqliteBackend({ path }));
      await made.migrate();
      await made.close();
      const b = createSqliteBackend({ path });
      const s = createStore(b);
      // Prepared queries and a transaction, all on the direct path: kysely's driver never starts.
      await s.transaction((tx) => tx.part("carrier:acme").kv.put("ns", "k", 1));
      assert.equal((await s.part("carrier:acme").kv.get("ns", "k"))?.value, 1);
      assert.ok(existsSync(`${path}-wal`));
      await s.close();
      // SQLite removes the WAL when its last connection closes.
      assert.equal(existsSync(`${path}-wal`), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
