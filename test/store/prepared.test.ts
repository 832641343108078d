/**
 * Prepared queries (src/store/prepared.ts) on a real SQLite database: compiled once, each
 * call's arguments in their places, on the root handle and inside a transaction; a build whose
 * SQL would depend on an argument's value is refused rather than silently reusing the first
 * call's SQL. (The store suite runs every repository's prepared queries on both backends.)
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import type { Ctx } from "../../src/store/context.js";
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
});
