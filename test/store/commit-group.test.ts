/**
 * Group commit on SQLite (src/store/sqlite/commit-group.ts), on a real database file watched
 * through a second connection, as another process would see it: what the store's callers run
 * in one turn of the event loop commits once, nobody hears of a write before it is committed, a
 * failed transaction is undone alone, a failed commit fails and undoes every member, and a
 * close or kysely's own queries commit what is open first.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import Sqlite from "better-sqlite3";
import { sql } from "kysely";
import {
  type Backend,
  createSqliteBackend,
  createStore,
  type Store,
} from "../../src/store/index.js";
import { CLOSE_WAIT_MS } from "../../src/store/sqlite/connection.js";

describe("SQLite group commit", () => {
  let dir: string;
  let backend: Backend;
  let store: Store;
  let watcher: Sqlite.Database;
  let path: string;

  /** A statement outside any transaction. */
  const run = (text: string, ...args: unknown[]) => backend.runNow!(text, args, false)!;
  /** A statement inside the transaction that holds the connection. */
  const inTx = (text: string, ...args: unknown[]) => backend.runNow!(text, args, true)!;
  /** Rows of `t` as another connection sees them (committed ones only). */
  const committed = () =>
    (watcher.prepare("select n from t order by n").all() as { n: number }[]).map((r) => r.n);
  /**
   * Commits in the WAL file: frames whose header gives the database's size after a commit, with
   * the salts of the WAL's header (older frames left over from before a reset have other salts).
   */
  const walCommits = () => {
    const wal = readFileSync(`${path}-wal`);
    const pageSize = wal.readUInt32BE(8);
    let count = 0;
    for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
      const ours =
        wal.readUInt32BE(at + 8) === wal.readUInt32BE(16) &&
        wal.readUInt32BE(at + 12) === wal.readUInt32BE(20);
      if (ours && wal.readUInt32BE(at + 4) !== 0) count++;
    }
    return count;
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "dmguard-group-"));
    path = join(dir, "db.sqlite");
    backend = createSqliteBackend({ path });
    store = createStore(backend);
    await store.migrate();
    // `parent` with a deferred foreign key: a violation surfaces only at COMMIT.
    await sql`create table t (n integer primary key, parent integer references t (n) deferrable initially deferred)`.execute(
      backend.db,
    );
    watcher = new Sqlite(path, { readonly: true });
  });

  afterEach(async () => {
    watcher.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("commits a turn's statements once, and answers none before the commit", async () => {
    const before = walCommits();
    const writes = [1, 2, 3, 4, 5].map((n) => run("insert into t (n) values (?)", n));
    // All five ran (a read in the group sees them) but none is committed yet.
    const seen = run("select count(*) as c from t");
    let heard = false;
    void Promise.all(writes).then(() => {
      heard = true;
    });
    assert.deepEqual(committed(), []);
    assert.equal(heard, false);
    assert.deepEqual((await seen).rows, [{ c: 5 }]);
    await Promise.all(writes);
    assert.deepEqual(committed(), [1, 2, 3, 4, 5]);
    assert.equal(walCommits(), before + 1);
    // Awaited one by one, each is a group of its own.
    for (const n of [6, 7, 8]) await run("insert into t (n) values (?)", n);
    assert.equal(walCommits(), before + 4);
  });

  it("lists a kv namespace inside the open group rather than committing it first", async () => {
    // A delivery loop lists its queue several times a second under load (kv.ts, PAGE).
    const p = store.part("carrier:acme");
    const before = walCommits();
    const writes = [p.kv.put("queue", "a", 1), p.kv.put("queue", "b", 2)];
    const versions = p.kv.versions("queue", { limit: 10 });
    const page = p.kv.list("queue", { after: "a" });
    writes.push(p.kv.put("queue", "c", 3));
    await Promise.all(writes);
    assert.deepEqual(
      (await versions).map((v) => v.key),
      ["a", "b"],
    );
    assert.deepEqual(
      (await page).map((e) => [e.key, e.value]),
      [["b", 2]],
    );
    assert.equal(walCommits(), before + 1);
  });

  it("undoes a failed transaction alone, and commits the rest of its group", async () => {
    const outcomes = await Promise.allSettled([
      store.transaction(() => inTx("insert into t (n) values (1)")),
      run("insert into t (n) values (2)"),
      store.transaction(async () => {
        await inTx("insert into t (n) values (3)");
        throw new Error("changed its mind");
      }),
      run("insert into t (n) values (4)"),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ["fulfilled", "fulfilled", "rejected", "fulfilled"],
    );
    assert.deepEqual(committed(), [1, 2, 4]);
  });

  it("fails every member when the commit fails, and leaves nothing of any", async () => {
    const a = run("insert into t (n) values (1)");
    const b = store.transaction(async () => {
      // A dangling parent: the statement and the savepoint pass, the group's COMMIT does not.
      await inTx("insert into t (n, parent) values (2, 99)");
      return "kept";
    });
    const c = run("insert into t (n) values (3)");
    for (const p of [a, b, c]) {
      await assert.rejects(
        p,
        (err: { code?: string }) => err.code === "SQLITE_CONSTRAINT_FOREIGNKEY",
      );
    }
    assert.deepEqual(committed(), []);
    // The connection is usable again, in a new group.
    await run("insert into t (n) values (5)");
    assert.deepEqual(committed(), [5]);
  });

  it("keeps a failed statement out of its group, and the group going", async () => {
    await run("insert into t (n) values (1)");
    const dup = run("insert into t (n) values (1)");
    const next = run("insert into t (n) values (2)");
    await assert.rejects(
      dup,
      (err: { code?: string }) => err.code === "SQLITE_CONSTRAINT_PRIMARYKEY",
    );
    await next;
    assert.deepEqual(committed(), [1, 2]);
  });

  it("makes a statement from outside wait for a transaction, then commit after it", async () => {
    const order: string[] = [];
    let outside: Promise<void> | undefined;
    await store.transaction(async () => {
      await inTx("insert into t (n) values (1)");
      outside = run("select count(*) as c from t").then((r) => {
        order.push(`outside saw ${(r.rows[0] as { c: number }).c}`);
      });
      await new Promise((resolve) => setImmediate(resolve));
      order.push("transaction ends");
    });
    await outside;
    assert.deepEqual(order, ["transaction ends", "outside saw 1"]);
    assert.deepEqual(committed(), [1]);
  });

  it("commits the open group before kysely's own query, and before a close", async () => {
    const w = run("insert into t (n) values (1)");
    // Through kysely: the group commits first, then this runs on its own.
    const rows = await sql<{ c: number }>`select count(*) as c from t`.execute(backend.db);
    assert.deepEqual(rows.rows, [{ c: 1 }]);
    assert.deepEqual(committed(), [1]);
    await w;
    const last = run("insert into t (n) values (2)");
    await store.close();
    await last;
    assert.deepEqual(committed(), [1, 2]);
    // afterEach closes again: a second close is harmless.
  });

  it("fails the whole group when SQLite rolls it back by itself, and goes on after", async () => {
    // RAISE(ROLLBACK) ends the whole transaction, as SQLite may on a full disk or an I/O error.
    await sql`create table doom (n integer)`.execute(backend.db);
    await sql`create trigger doom_rolls_back before insert on doom begin select raise(rollback, 'rolled back'); end`.execute(
      backend.db,
    );
    // The store's first transaction sets up its held connection over a few turns; this one
    // does, so that the next joins the group the first statement opens, in the same turn.
    await store.transaction(async () => {});
    const rolledBack = (o: PromiseSettledResult<unknown>) =>
      o.status === "rejected" &&
      (o.reason as { code?: string }).code === "SQLITE_CONSTRAINT_TRIGGER";

    // A member transaction: what ran before it in its group is gone, and its callers are told.
    const [before, member, after] = await Promise.allSettled([
      run("insert into t (n) values (1)"),
      store.transaction(() => inTx("insert into doom (n) values (2)")),
      run("insert into t (n) values (3)"),
    ]);
    assert.ok(rolledBack(before!) && rolledBack(member!));
    // What came after runs in a new group.
    assert.equal(after!.status, "fulfilled");
    assert.deepEqual(committed(), [3]);

    // A statement outside a transaction, likewise.
    const outcomes = await Promise.allSettled([
      run("insert into t (n) values (4)"),
      run("insert into doom (n) values (5)"),
      run("insert into t (n) values (6)"),
    ]);
    assert.deepEqual(outcomes.map(rolledBack), [true, true, false]);
    assert.deepEqual(committed(), [3, 6]);
  });

  it("lets a running transaction end before a close commits the rest of its group", async () => {
    const acme = store.part("carrier:acme");
    const keys = () =>
      (
        watcher.prepare("select key from kv where ns = 'close' order by key").all() as {
          key: string;
        }[]
      ).map((r) => r.key);
    await acme.transaction(async () => {});
    const early = acme.kv.put("close", "early", { v: 1 });
    let wake!: () => void;
    const running = acme.transaction(async (tx) => {
      await tx.kv.put("close", "in-transaction", { v: 2 });
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      // The store is closing: this fails, and the transaction rolls back.
      await tx.kv.put("close", "after-close", { v: 3 });
    });
    const outcome = running.then(
      () => "committed",
      (err: { code?: string }) => err.code,
    );
    await new Promise((resolve) => setImmediate(resolve));
    const closed = store.close();
    wake();
    await closed;
    assert.equal(await outcome, "CLOSED");
    await early;
    assert.deepEqual(keys(), ["early"]);
  });

  it("undoes a failed first member whole, and goes on in a new group", async () => {
    await store.transaction(async () => {});
    const outcomes = await Promise.allSettled([
      store.transaction(async () => {
        await inTx("insert into t (n) values (1)");
        throw new Error("changed its mind");
      }),
      // Queued behind the transaction, which opened the group: it runs after its rollback.
      run("insert into t (n) values (2)"),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ["rejected", "fulfilled"],
    );
    assert.deepEqual(committed(), [2]);
  });

  it("tells of a failure only once the group has settled: it may come of an uncommitted write", async () => {
    await store.transaction(async () => {});
    const order: string[] = [];
    const settle = (label: string, p: Promise<unknown>) =>
      p.then(
        () => order.push(`${label} ok`),
        (err: { code?: string }) => order.push(`${label} ${err.code}`),
      );
    await Promise.all([
      settle("other", run("insert into t (n) values (5)")),
      // Takes n = 1, with a dangling parent: the group's commit will fail.
      settle(
        "member",
        store.transaction(() => inTx("insert into t (n, parent) values (1, 99)")),
      ),
      // Refused for the member's n = 1, which is never committed.
      settle("conflict", run("insert into t (n) values (1)")),
    ]);
    assert.deepEqual(order, [
      "other SQLITE_CONSTRAINT_FOREIGNKEY",
      "member SQLITE_CONSTRAINT_FOREIGNKEY",
      "conflict SQLITE_CONSTRAINT_PRIMARYKEY",
    ]);
    assert.deepEqual(committed(), []);
  });

  it("refuses a transaction's statements once SQLite has rolled it back, though it caught the error", async () => {
    await sql`create table doom (n integer)`.execute(backend.db);
    await sql`create trigger doom_rolls_back before insert on doom begin select raise(rollback, 'rolled back'); end`.execute(
      backend.db,
    );
    const outcome = store.transaction(async () => {
      await inTx("insert into t (n) values (1)");
      await inTx("insert into doom (n) values (0)").catch(() => undefined);
      await inTx("insert into t (n) values (2)");
    });
    await assert.rejects(outcome, (err: { code?: string }) => err.code === "ROLLED_BACK");
    assert.deepEqual(committed(), []);
    await run("insert into t (n) values (3)");
    assert.deepEqual(committed(), [3]);
  });

  it("closes after CLOSE_WAIT_MS without a transaction that outlasts it, and tells its group", async () => {
    await store.transaction(async () => {});
    const settle = (p: Promise<unknown>) =>
      p.then(
        () => "done",
        (err: { code?: string; message: string }) => err.code ?? err.message,
      );
    const early = settle(run("insert into t (n) values (1)"));
    let wake!: () => void;
    const slow = settle(
      store.transaction(async () => {
        await inTx("insert into t (n) values (2)");
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        await inTx("insert into t (n) values (3)");
      }),
    );
    // Queued behind the slow transaction.
    const queued = settle(run("insert into t (n) values (4)"));
    const started = Date.now();
    await store.close();
    assert.ok(Date.now() - started >= CLOSE_WAIT_MS - 50);
    // The root write joined the slow transaction's group, which never committed.
    assert.equal(await early, "CLOSED");
    assert.deepEqual(committed(), []);
    // The slow transaction and the query behind it then find the database closed: they fail
    // rather than hang.
    wake();
    assert.match(await slow, /not open/);
    assert.match(await queued, /not open/);
  });

  it("loses on a kill only what nobody heard of, and nothing of it half", () => {
    // The writer is another process, killed outright in the middle of a group; `t` exists.
    const writer = `
      import { createSqliteBackend } from "${new URL("../../src/store/index.ts", import.meta.url).href}";
      const backend = createSqliteBackend({ path: process.env.DB });
      const run = (n) => backend.runNow("insert into t (n) values (?)", [n], false);
      await Promise.all([run(1), run(2)]);
      process.stdout.write("heard 1 2\\n");
      // Three statements of one group, and a kill before its turn ends.
      run(3); run(4); run(5);
      process.kill(process.pid, "SIGKILL");
    `;
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", writer],
      {
        env: { ...process.env, DB: path },
        encoding: "utf8",
      },
    );
    assert.equal(r.signal, "SIGKILL", r.stderr);
    assert.equal(r.stdout, "heard 1 2\n");
    assert.deepEqual(committed(), [1, 2]);
  });
});
