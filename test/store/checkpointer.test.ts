/**
 * Background checkpoints (src/store/sqlite/checkpointer.ts) on a real SQLite file: the WAL's
 * pages reach the database file with no checkpoint on the store's own connection, which only
 * appends; inline (the default) leaves them in the WAL until `wal_autocheckpoint`; a close
 * stops the thread and leaves the file whole, every row there on the next open; a thread that
 * cannot start, or whose rounds fail, says so as a process warning (once for a spell of failed
 * rounds), and the store commits on meanwhile.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import Sqlite from "better-sqlite3";
import { openStore, type Store } from "../../src/store/index.js";
import { startCheckpointer } from "../../src/store/sqlite/checkpointer.js";

const ROWS = 300;
/** ~2 KB a value: 300 of them are about 150 pages beyond what a fresh database holds. */
const value = (i: number) => ({ i, pad: "x".repeat(2048) });
/** What the rows add to the database file once they are copied into it. */
const GROWTH = 256 * 1024;

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "dmguard-ckpt-"));
  file = join(dir, "db.sqlite");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function writeRows(store: Store): Promise<void> {
  const kv = store.part("carrier:acme").kv;
  for (let i = 0; i < ROWS; i++) await kv.put("rows", `r${i}`, value(i));
}

async function fileGrowsBy(bytes: number, from: number, withinMs: number): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    if (statSync(file).size >= from + bytes) return true;
    await sleep(50);
  }
  return statSync(file).size >= from + bytes;
}

test("background: the WAL reaches the database file while the store only commits", async () => {
  const store = await openStore(`sqlite:${file}`, { checkpoint: "background" });
  try {
    const before = statSync(file).size;
    await writeRows(store);
    assert.ok(
      await fileGrowsBy(GROWTH, before, 10_000),
      `database file still ${statSync(file).size} bytes (was ${before}): nothing was checkpointed`,
    );
  } finally {
    await store.close();
  }
});

test("inline (the default): the rows stay in the WAL below wal_autocheckpoint", async () => {
  const store = await openStore(`sqlite:${file}`);
  try {
    const before = statSync(file).size;
    await writeRows(store);
    // A second: long enough for a background checkpointer, were there one, to have run.
    assert.equal(await fileGrowsBy(GROWTH, before, 1_000), false);
    assert.ok(statSync(`${file}-wal`).size >= GROWTH, "the rows are in the WAL");
  } finally {
    await store.close();
  }
});

test("background: close stops the thread, the WAL is folded in, every row is kept", async () => {
  const store = await openStore(`sqlite:${file}`, { checkpoint: "background" });
  await writeRows(store);
  await store.close();
  assert.equal(existsSync(`${file}-wal`), false, "the last connection to close removes the WAL");

  const again = await openStore(`sqlite:${file}`, { checkpoint: "background" });
  try {
    const kv = again.part("carrier:acme").kv;
    for (const i of [0, ROWS / 2, ROWS - 1]) {
      assert.deepEqual((await kv.get("rows", `r${i}`))?.value, value(i));
    }
    assert.equal((await kv.list("rows", { limit: ROWS + 1 })).length, ROWS);
  } finally {
    await again.close();
  }
});

test("a checkpointer that cannot start says so as a process warning, and stops", {
  timeout: 10_000,
}, async () => {
  const warned = new Promise<Error>((resolve) => process.once("warning", resolve));
  const checkpointer = startCheckpointer({
    path: join(dir, "missing", "db.sqlite"),
    intervalMs: 50,
    synchronous: "NORMAL",
  });
  const warning = await warned;
  assert.equal(warning.name, "DmguardStoreWarning");
  assert.match(
    warning.message,
    /checkpoint thread for .*missing.* ended: .*; SQLite checkpoints inline meanwhile/,
  );
  await checkpointer.stop();
});

test("a checkpointer locked out of its database ends at once, says why, and closes", {
  timeout: 15_000,
}, async () => {
  // Another connection holding the database exclusively: the thread cannot even read its schema.
  const holder = new Sqlite(file);
  holder.pragma("journal_mode = WAL");
  holder.exec("create table t (x)");
  holder.pragma("locking_mode = EXCLUSIVE");
  holder.exec("begin exclusive; insert into t values (1)");
  try {
    const warned = new Promise<Error>((resolve) => process.once("warning", resolve));
    const started = Date.now();
    const checkpointer = startCheckpointer({ path: file, intervalMs: 50, synchronous: "NORMAL" });
    const warning = await warned;
    // Told by SQLite's code: the error's message does not cross from the thread.
    assert.match(
      warning.message,
      /checkpoint thread for .*db\.sqlite ended: SQLite error SQLITE_BUSY/,
    );
    // At once, not after a busy timeout spent asleep inside SQLite, where no close could end it.
    assert.ok(Date.now() - started < 2_000, `the thread ended after ${Date.now() - started} ms`);
    const closing = Date.now();
    await checkpointer.stop();
    assert.ok(Date.now() - closing < 1_000, `the close took ${Date.now() - closing} ms`);
  } finally {
    holder.exec("commit");
    holder.close();
  }
});

/** Sets or clears a file's immutable attribute (ext4, as root), or says why it cannot. */
function immutable(path: string, on: boolean): string | null {
  try {
    execFileSync("chattr", [on ? "+i" : "-i", path], { stdio: "pipe" });
    return null;
  } catch (err) {
    return `chattr is not available here: ${(err as Error).message.split("\n")[0]}`;
  }
}

test("a checkpointer whose rounds fail says so once, and the store keeps committing", {
  timeout: 20_000,
}, async (t) => {
  const store = await openStore(`sqlite:${file}`);
  await writeRows(store);
  // An immutable database file: the thread's connection opens it read-only, and every round's
  // copy into it fails with an I/O error, while the store's connection only appends to the WAL.
  const unavailable = immutable(file, true);
  if (unavailable) {
    await store.close();
    t.skip(unavailable);
    return;
  }
  const warnings: Error[] = [];
  const onWarning = (w: Error) => {
    if (w.name === "DmguardStoreWarning") warnings.push(w);
  };
  process.on("warning", onWarning);
  const checkpointer = startCheckpointer({ path: file, intervalMs: 20, synchronous: "NORMAL" });
  try {
    const until = Date.now() + 10_000;
    while (warnings.length === 0 && Date.now() < until) await sleep(20);
    // Twenty more rounds, all failing: still the one warning.
    await sleep(400);
    assert.equal(warnings.length, 1, warnings.map((w) => w.message).join("; "));
    assert.match(
      warnings[0]!.message,
      /^checkpoint of .*db\.sqlite failed: .*I\/O error.*; SQLite checkpoints inline meanwhile$/,
    );
    await store.part("carrier:acme").kv.put("rows", "after", { ok: true });
    assert.deepEqual((await store.part("carrier:acme").kv.get("rows", "after"))?.value, {
      ok: true,
    });
  } finally {
    process.off("warning", onWarning);
    await checkpointer.stop();
    immutable(file, false);
    await store.close();
  }
  const again = await openStore(`sqlite:${file}`);
  try {
    assert.equal(
      (await again.part("carrier:acme").kv.list("rows", { limit: ROWS + 2 })).length,
      ROWS + 1,
    );
  } finally {
    await again.close();
  }
});
