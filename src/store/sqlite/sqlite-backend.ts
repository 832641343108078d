/**
 * The embedded backend: better-sqlite3 under kysely's SqliteDialect.
 *
 * Pragmas, and why:
 * - `journal_mode=WAL`: readers never block the writer and a commit is one append to the WAL.
 * - `synchronous=NORMAL` (default; `FULL` on request): in WAL mode NORMAL is still atomic and
 *   consistent after a crash of the process or the OS — a transaction is all there or not at
 *   all, so no half-activation survives a kill — but the last commits before a power cut may
 *   roll back because the WAL is synced at checkpoints rather than at every commit. The
 *   activation flow is retry-safe (a lost verdict makes the device retry, and the nonce
 *   it used is then gone), and FULL costs an fsync per commit (a commit group's:
 *   commit-group.ts), which caps a carrier at the disk's fsync rate. Deployments that want
 *   power-cut durability pass `synchronous: "FULL"`.
 * - `busy_timeout`: a second process writing the same file waits rather than failing.
 * - `foreign_keys=ON`: enforced should a migration add one (off by default in SQLite).
 * - `journal_size_limit`: the WAL file shrinks back after a big import's checkpoint.
 * - `wal_autocheckpoint=16000` pages (62.5 MiB at 4 KiB, under journal_size_limit) instead of
 *   1000: a checkpoint runs inside a commit, on the server's event loop, and syncs the
 *   database file; an activation's commits touch the same hot pages (audit head, indexes), which
 *   are copied back once per checkpoint whatever the number of commits since. Fewer, larger
 *   checkpoints write less and stall the loop less often. With `checkpoint: "background"` (what
 *   the servers use) a worker thread checkpoints every quarter second instead, and this inline
 *   checkpoint is only the fallback (checkpointer.ts).
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Sqlite from "better-sqlite3";
import { CompiledQuery, Kysely } from "kysely";
import type { Backend, BulkInventoryRow } from "../backend.js";
import { StoreError } from "../errors.js";
import type { Database } from "../schema.js";
import { startCheckpointer } from "./checkpointer.js";
import { BEGIN_IMMEDIATE } from "./commit-group.js";
import { SqliteDriver, sqliteDialect } from "./connection.js";

export interface SqliteBackendOptions {
  /** A file path, or `:memory:`. The parent directory is created when missing. */
  path: string;
  synchronous?: "NORMAL" | "FULL";
  /** How long a write waits for another process's lock, in ms (default 5000). */
  busyTimeoutMs?: number;
  /** Page cache size in KiB (default 8 MiB, see DEFAULT_CACHE_KIB). */
  cacheKiB?: number;
  /**
   * Who copies the WAL back into the file: SQLite inside a commit (`inline`, the default), or a
   * worker thread (`background`), which keeps the copy and its sync off the caller's thread.
   * `:memory:` has no WAL, and ignores this.
   */
  checkpoint?: "inline" | "background";
}

/** The options `openStore` passes on, which a process's shared connection is set up with. */
export type SqliteSettings = Pick<
  SqliteBackendOptions,
  "synchronous" | "busyTimeoutMs" | "checkpoint"
>;

/** The settings of a backend whose options leave them out. */
export const SQLITE_DEFAULTS = {
  synchronous: "NORMAL",
  busyTimeoutMs: 5000,
  checkpoint: "inline",
} as const satisfies Required<SqliteSettings>;

/** How often the background checkpointer copies the WAL back (see checkpointer.ts). */
const CHECKPOINT_INTERVAL_MS = 250;

/**
 * SQLite's page cache is malloc'd memory of the server process that stays once filled: at
 * 32 MiB it was a tenth of `up`'s resident memory through a 10,000-phone fleet. Pages it
 * lets go are re-read from the OS's file cache (not the process's memory), which costs
 * microseconds; the hot pages of an activation (index roots, audit head) stay cached.
 */
const DEFAULT_CACHE_KIB = 8_192;

const BEGIN = CompiledQuery.raw(BEGIN_IMMEDIATE);

/** Rows per multi-row INSERT: 14 × 50 bound values, far below SQLite's limit. */
const MULTI = 50;
const UNIQUE_CODES = new Set(["SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_UNIQUE"]);

function isUnique(err: unknown): boolean {
  return UNIQUE_CODES.has((err as { code?: unknown } | null)?.code as string);
}

export function createSqliteBackend(opts: SqliteBackendOptions): Backend {
  const synchronous = opts.synchronous ?? SQLITE_DEFAULTS.synchronous;
  if (synchronous !== "NORMAL" && synchronous !== "FULL") {
    throw new StoreError("ARGUMENT_INVALID", "synchronous must be NORMAL or FULL");
  }
  let raw: Sqlite.Database;
  try {
    if (opts.path !== ":memory:") mkdirSync(dirname(opts.path), { recursive: true });
    raw = new Sqlite(opts.path, { timeout: opts.busyTimeoutMs ?? SQLITE_DEFAULTS.busyTimeoutMs });
    raw.pragma("journal_mode = WAL");
    raw.pragma(`synchronous = ${synchronous}`);
    raw.pragma("foreign_keys = ON");
    raw.pragma(`cache_size = -${Math.trunc(opts.cacheKiB ?? DEFAULT_CACHE_KIB)}`);
    raw.pragma("journal_size_limit = 67108864");
    raw.pragma("wal_autocheckpoint = 16000");
    raw.pragma("temp_store = MEMORY");
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new StoreError("UNAVAILABLE", `cannot open SQLite database ${opts.path}: ${why}`, {
      cause: err,
    });
  }
  const database = raw;
  const checkpointer =
    opts.checkpoint === "background" && opts.path !== ":memory:"
      ? startCheckpointer({ path: opts.path, intervalMs: CHECKPOINT_INTERVAL_MS, synchronous })
      : undefined;
  const driver = new SqliteDriver(database);
  const db = new Kysely<Database>({ dialect: sqliteDialect(driver) });

  // The bulk path binds prepared statements on the same (single) connection, inside the
  // transaction the caller holds; the connection's lock (connection.ts) keeps everyone else
  // out meanwhile. Plain inserts put MULTI rows in one statement (a third faster than one by
  // one); when such a statement hits a conflict SQLite undoes just that statement, and its rows
  // are replayed one by one to name the row at fault.
  const cols =
    "part, imei, meid, esn, model, kid, attestation_key, attestation_thumbprint, " +
    "contract_end, user_group, enterprise, status, created_at, updated_at";
  const values = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, coalesce(?, 'active'), ?, ?)";
  let statements:
    | {
        insert: Sqlite.Statement;
        insertMany: Sqlite.Statement;
        insertOrSkip: Sqlite.Statement;
        update: Sqlite.Statement;
      }
    | undefined;
  function prepared() {
    statements ??= {
      insert: database.prepare(`insert into inventory (${cols}) values ${values}`),
      insertMany: database.prepare(
        `insert into inventory (${cols}) values ${Array(MULTI).fill(values).join(", ")}`,
      ),
      insertOrSkip: database.prepare(
        `insert into inventory (${cols}) values ${values} on conflict do nothing`,
      ),
      update: database.prepare(
        "update inventory set meid = ?, esn = ?, model = ?, kid = ?, attestation_key = ?, " +
          "attestation_thumbprint = ?, contract_end = ?, user_group = ?, enterprise = ?, " +
          "status = coalesce(?, status), updated_at = ? where part = ? and imei = ?",
      ),
    };
    return statements;
  }

  function conflict(i: number, err: unknown): StoreError {
    const field = err instanceof Error && err.message.includes("meid") ? "meid" : "imei";
    return new StoreError(
      "ROW_INVALID",
      `row ${i}: ${field} is already in the inventory under another device`,
      { index: i, field, cause: err },
    );
  }

  function bind(r: BulkInventoryRow, out: unknown[], at: number): void {
    out[at] = r.part;
    out[at + 1] = r.imei;
    out[at + 2] = r.meid;
    out[at + 3] = r.esn;
    out[at + 4] = r.model;
    out[at + 5] = r.kid;
    out[at + 6] = r.attestation_key;
    out[at + 7] = r.attestation_thumbprint;
    out[at + 8] = r.contract_end;
    out[at + 9] = r.user_group;
    out[at + 10] = r.enterprise;
    out[at + 11] = r.status;
    out[at + 12] = r.created_at;
    out[at + 13] = r.updated_at;
  }

  function insertOne(st: Sqlite.Statement, r: BulkInventoryRow, i: number): number {
    const args = new Array<unknown>(14);
    bind(r, args, 0);
    try {
      return st.run(args).changes;
    } catch (err) {
      if (isUnique(err)) throw conflict(i, err);
      throw err;
    }
  }

  function insertAll(count: number, rowAt: (i: number) => BulkInventoryRow): number {
    const st = prepared();
    const args = new Array<unknown>(14 * MULTI);
    let i = 0;
    for (; i + MULTI <= count; i += MULTI) {
      const batch: BulkInventoryRow[] = [];
      for (let j = 0; j < MULTI; j++) {
        const r = rowAt(i + j);
        batch.push(r);
        bind(r, args, j * 14);
      }
      try {
        st.insertMany.run(args);
      } catch (err) {
        if (!isUnique(err)) throw err;
        batch.forEach((r, j) => {
          insertOne(st.insert, r, i + j);
        });
        throw err; // not reached: one of the replayed rows throws first
      }
    }
    for (; i < count; i++) insertOne(st.insert, rowAt(i), i);
    return count;
  }

  function upsertAll(count: number, rowAt: (i: number) => BulkInventoryRow) {
    const st = prepared();
    let inserted = 0;
    let updated = 0;
    for (let i = 0; i < count; i++) {
      const r = rowAt(i);
      if (insertOne(st.insertOrSkip, r, i) === 1) {
        inserted++;
        continue;
      }
      let changed: number;
      try {
        changed = st.update.run([
          r.meid,
          r.esn,
          r.model,
          r.kid,
          r.attestation_key,
          r.attestation_thumbprint,
          r.contract_end,
          r.user_group,
          r.enterprise,
          r.status,
          r.updated_at,
          r.part,
          r.imei,
        ]).changes;
      } catch (err) {
        if (isUnique(err)) throw conflict(i, err);
        throw err;
      }
      // Neither inserted nor updated: the IMEI is new but its MEID belongs to another row.
      if (changed !== 1) throw conflict(i, new Error("meid"));
      updated++;
    }
    return { inserted, updated };
  }

  return {
    kind: "sqlite",
    db,
    rowLocks: false,
    runNow: (sql, parameters, inTransaction) => driver.runNow(sql, parameters, inTransaction),
    hold: () => driver.hold(),
    async begin(conn: Kysely<Database>) {
      await conn.executeQuery(BEGIN);
    },
    async migrationSchema() {
      return undefined;
    },
    async bulkInventory(_conn, count, rowAt, mode) {
      if (mode === "insert") return { inserted: insertAll(count, rowAt), updated: 0 };
      return upsertAll(count, rowAt);
    },
    isUniqueViolation: isUnique,
    async close() {
      // The checkpointer's connection goes first, so that the server's, the last one, copies
      // what is left of the WAL back and removes it as SQLite does on a last close.
      await checkpointer?.stop();
      await db.destroy();
      // Kysely destroys a driver only if it ever ran a query through it; prepared queries and
      // transactions may have done all the work without it.
      await driver.destroy();
    },
  };
}
