/**
 * Migration 0002 on SQLite: a database made by 0001 with rows in every table comes out with
 * the same rows, the same indexes and constraints, and its small-row tables as WITHOUT ROWID
 * tables; a rebuild that fails part-way changes nothing; another process writing the file when
 * it starts is waited for.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Worker } from "node:worker_threads";
import Sqlite from "better-sqlite3";
import { Kysely, Migrator, SqliteDialect } from "kysely";
import { openStore } from "../../src/store/index.js";
import { MIGRATIONS } from "../../src/store/migrations.js";
import { rebuildWithoutRowid } from "../../src/store/sqlite/without-rowid.js";

const REBUILT = ["nonces", "access", "audit_head", "enrolment", "tokens"];
const KEPT = ["inventory", "devices", "verdicts", "audit_log", "kv"];

/** Every table's rows in key order, and the schema's statements, read off the file. */
function snapshot(path: string) {
  const db = new Sqlite(path, { readonly: true });
  try {
    const rows: Record<string, unknown[]> = {};
    for (const t of [...REBUILT, ...KEPT]) {
      rows[t] = db.prepare(`select * from "${t}" order by 1, 2`).all();
    }
    const schema = db
      .prepare("select type, name, tbl_name, sql from sqlite_master where name not like 'kysely%'")
      .all() as Array<{ type: string; name: string; tbl_name: string; sql: string | null }>;
    const integrity = db.pragma("integrity_check", { simple: true });
    return { rows, schema, integrity };
  } finally {
    db.close();
  }
}

const withoutRowid = (sql: string | null | undefined) => /without rowid\s*$/i.test(sql ?? "");

/** A database as migration 0001 left it, with a row or two in every table. */
async function legacyDatabase(path: string): Promise<void> {
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Sqlite(path) }) });
  const { error } = await new Migrator({
    db,
    provider: { getMigrations: async () => ({ "0001_initial": MIGRATIONS["0001_initial"]! }) },
  }).migrateToLatest();
  if (error) throw error;
  await db.destroy();
  const raw = new Sqlite(path);
  const t = 1_700_000_000_000;
  raw.exec(`
    insert into inventory values ('carrier:acme', '356938035643809', 'A0000000000001', null,
      'dmg-phone-1', 'k1', null, 'tp1', '2030-01-31', 'worker', null, 'active', ${t}, ${t});
    insert into inventory values ('carrier:acme', '356938035643817', null, '80ABCDEF',
      'dmg-phone-1', 'k1', 'key', 'tp2', null, null, 'corp', 'blocked', ${t}, ${t + 1});
    insert into devices values ('carrier:acme', '356938035643809', 'provisioned', 'tp1',
      'kv:dm-accounts/356938035643809', '{"access":"full"}', 'v1', 3, ${t}, ${t});
    insert into nonces values ('carrier:acme', 'n1', null, ${t}, ${t + 5000}, null);
    insert into nonces values ('carrier:acme', 'n2', '356938035643809', ${t}, ${t + 5000}, ${t + 1});
    insert into access values ('carrier:acme', '356938035643809', 'full', ${t});
    insert into verdicts values ('v1', 'carrier:acme', 'n2', '356938035643809', 'approved', '[]',
      'h', 'jws', ${t});
    insert into audit_log values ('carrier:acme', 1, ${t}, 'carrier:acme', 'verdict',
      '356938035643809', '{}', 'genesis', 'h1');
    insert into audit_head values ('carrier:acme', 1, 'h1', ${t});
    insert into kv values ('carrier:acme', 'dm-accounts', '356938035643809', '{"g":1}', 1, ${t});
    insert into kv values ('platform', 'custody/acme', '356938035643809', '{"s":"x"}', 4, ${t});
    insert into enrolment values ('enterprise:corp', '356938035643809', 'ann', 'executive', ${t}, ${t});
    insert into tokens values ('carrier:acme', 't1', 'hash1', '["admin"]', '["inventory"]', null,
      ${t}, null, null);
  `);
  raw.close();
}

/**
 * Another process's writer, in a worker thread with its own connection (in this thread,
 * better-sqlite3's busy wait would sleep the holder too): takes the write lock, writes a kv row,
 * says "locked", and once the main thread flags that the migration is starting, holds the lock a
 * moment longer (well under the store's 5 s busy_timeout) and commits.
 */
const HOLDER = `
const { parentPort, workerData } = require("node:worker_threads");
const Sqlite = require(workerData.sqlite);
const db = new Sqlite(workerData.path);
db.exec("begin immediate");
db.prepare("insert into kv values ('carrier:acme', 'held', 'k', '{}', 1, 0)").run();
const flag = new Int32Array(workerData.flag);
parentPort.postMessage("locked");
Atomics.wait(flag, 0, 0);
Atomics.wait(flag, 1, 0, workerData.holdMs);
db.exec("commit");
db.close();
`;

describe("migration 0002: SQLite tables WITHOUT ROWID", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "dmguard-rowid-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps every row, index and constraint of a database made before it", async () => {
    const path = join(dir, "legacy.sqlite");
    await legacyDatabase(path);
    const before = snapshot(path);
    assert.ok(before.schema.every((r) => !withoutRowid(r.sql)));

    const store = await openStore(`sqlite:${path}`);
    assert.deepEqual(
      (await store.migrations()).map((m) => m.name),
      ["0001_initial", "0002_sqlite_without_rowid"],
    );
    await store.close();

    const after = snapshot(path);
    assert.equal(after.integrity, "ok");
    assert.deepEqual(after.rows, before.rows);
    const table = (s: typeof after.schema, n: string) =>
      s.find((r) => r.type === "table" && r.name === n);
    for (const t of REBUILT) assert.ok(withoutRowid(table(after.schema, t)?.sql), t);
    for (const t of KEPT) assert.ok(!withoutRowid(table(after.schema, t)?.sql), t);
    // The same named indexes on the same tables, created by the same statements; only
    // SQLite's own primary-key indexes are gone (the key is the table now).
    const named = (s: typeof after.schema) =>
      s
        .filter((r) => r.type === "index" && r.sql !== null)
        .map((r) => `${r.tbl_name} ${r.sql}`)
        .sort();
    assert.deepEqual(named(after.schema), named(before.schema));
    const autoOf = (s: typeof after.schema, t: string) =>
      s.filter((r) => r.type === "index" && r.tbl_name === t && r.sql === null).length;
    assert.equal(autoOf(after.schema, "tokens"), 1, "tokens_hash_uq still has its index");
    assert.equal(autoOf(after.schema, "access"), 0);

    // Constraints still hold: primary keys, unique constraints, partial unique indexes, checks.
    const raw = new Sqlite(path);
    try {
      const refused = (q: string) => assert.throws(() => raw.exec(q), /constraint/i, q);
      refused(
        "insert into kv values ('carrier:acme', 'dm-accounts', '356938035643809', '{}', 1, 0)",
      );
      refused(
        "insert into tokens values ('carrier:acme', 't2', 'hash1', '[]', '[]', null, 0, null, null)",
      );
      refused(
        "insert into inventory values ('carrier:acme', '356938035643825', 'A0000000000001', null," +
          " 'm', 'k', null, null, null, null, null, 'active', 0, 0)",
      );
      refused("update access set access = 'none'");
      refused("insert into nonces values ('carrier:acme', 'n1', null, 0, 1, null)");
    } finally {
      raw.close();
    }
  });

  it("is atomic and can run again: a failure part-way leaves every table as it was", async () => {
    const path = join(dir, "partial.sqlite");
    await legacyDatabase(path);
    const before = snapshot(path);
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Sqlite(path) }) });
    try {
      await assert.rejects(
        rebuildWithoutRowid(db, ["nonces", "access", "no_such_table"]),
        /no_such_table is missing/,
      );
      assert.deepEqual(snapshot(path), before);

      await rebuildWithoutRowid(db, ["nonces"]);
      const once = snapshot(path);
      await rebuildWithoutRowid(db, ["nonces"]);
      assert.deepEqual(snapshot(path), once);
      assert.deepEqual(once.rows, before.rows);
    } finally {
      await db.destroy();
    }
  });

  it("waits for another process holding the write lock, then migrates (BEGIN IMMEDIATE)", async () => {
    const path = join(dir, "busy.sqlite");
    await legacyDatabase(path);
    // WAL, as the store keeps the file: the migration's reads go on under the other's lock.
    const wal = new Sqlite(path);
    wal.pragma("journal_mode = WAL");
    wal.close();
    const flag = new Int32Array(new SharedArrayBuffer(8));
    const holder = new Worker(HOLDER, {
      eval: true,
      workerData: {
        sqlite: createRequire(import.meta.url).resolve("better-sqlite3"),
        path,
        flag: flag.buffer,
        holdMs: 300,
      },
    });
    const exited = once(holder, "exit");
    await Promise.race([
      once(holder, "message"),
      once(holder, "error").then(([err]) => Promise.reject(err)),
    ]);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    try {
      // A deferred BEGIN failed here with SQLITE_BUSY (MIGRATION_FAILED) at its first CREATE.
      const store = await openStore(`sqlite:${path}`);
      try {
        assert.deepEqual(
          (await store.migrations()).map((m) => m.name),
          ["0001_initial", "0002_sqlite_without_rowid"],
        );
      } finally {
        await store.close();
      }
    } finally {
      assert.deepEqual(await exited, [0]);
    }
    const after = snapshot(path);
    assert.equal(after.integrity, "ok");
    const table = (n: string) => after.schema.find((r) => r.type === "table" && r.name === n);
    for (const t of REBUILT) assert.ok(withoutRowid(table(t)?.sql), t);
    assert.ok(
      after.rows.kv!.some((r) => (r as { ns: string }).ns === "held"),
      "the other process's write is kept",
    );
  });
});
