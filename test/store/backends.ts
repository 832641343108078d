/**
 * The backends the store suite loops over (STYLE habit 7). Each `setup()` makes a fresh, empty
 * database for one test run — a temp directory for SQLite, a uniquely named schema for
 * PostgreSQL — and a side connection for raw SQL (the tests tamper with rows behind the
 * store's back). PostgreSQL is required: unreachable means a failing test with a clear
 * message, never a skip (CI starts the server).
 */

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Sqlite from "better-sqlite3";
import pg from "pg";
import {
  isStoreError,
  type OpenStoreOptions,
  openStore,
  type Store,
  type StoreError,
  type StoreErrorCode,
} from "../../src/store/index.js";
import { startSiblingWorker } from "../../src/threads/sibling-worker.js";
import type { PeerJob, PeerSetup } from "./worker.js";

export const PG_URL = process.env.DMGUARD_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export interface Target {
  url: string;
  /** Options every open of this target needs (the PostgreSQL schema). */
  base: OpenStoreOptions;
  open(opts?: OpenStoreOptions): Promise<Store>;
  /** Runs SQL on a separate connection; `$1`-style placeholders on both backends. */
  raw(query: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  cleanup(): Promise<void>;
}

export interface TestBackend {
  name: "sqlite" | "postgres";
  setup(): Promise<Target>;
}

function target(
  url: string,
  base: OpenStoreOptions,
  raw: Target["raw"],
  cleanup: () => Promise<void>,
): Target {
  return {
    url,
    base,
    open: (opts = {}) => openStore(url, { ...base, ...opts }),
    raw,
    cleanup,
  };
}

const sqlite: TestBackend = {
  name: "sqlite",
  async setup() {
    const dir = mkdtempSync(join(tmpdir(), "dmguard-store-"));
    const path = join(dir, "data", "store.sqlite");
    let side: Sqlite.Database | undefined;
    return target(
      `sqlite:${path}`,
      {},
      async (query, params = []) => {
        side ??= new Sqlite(path, { timeout: 5000 });
        const st = side.prepare(query.replace(/\$\d+/g, "?"));
        if (st.reader) return st.all(...params) as Record<string, unknown>[];
        st.run(...params);
        return [];
      },
      async () => {
        side?.close();
        rmSync(dir, { recursive: true, force: true });
      },
    );
  },
};

const postgres: TestBackend = {
  name: "postgres",
  async setup() {
    const admin = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
    try {
      await admin.connect();
    } catch (err) {
      throw new Error(
        `PostgreSQL is required for the store tests and is unreachable at ${PG_URL} ` +
          `(start it, or set DMGUARD_TEST_PG_URL): ${(err as Error).message}`,
      );
    }
    const schema = `dmg_test_${process.pid}_${randomBytes(4).toString("hex")}`;
    await admin.query(`create schema ${schema}`);
    await admin.query(`set search_path to ${schema}`);
    return target(
      PG_URL,
      { schema },
      async (query, params = []) => (await admin.query(query, params)).rows,
      async () => {
        try {
          await admin.query(`drop schema if exists ${schema} cascade`);
        } finally {
          await admin.end();
        }
      },
    );
  },
};

export const BACKENDS: readonly TestBackend[] = [sqlite, postgres];

/** A clock the tests move by hand. */
export function frozenClock(start = 1_700_000_000_000) {
  let t = start;
  return {
    now: () => t,
    set: (v: number) => {
      t = v;
    },
    advance: (ms: number) => {
      t += ms;
    },
  };
}

export interface Peer {
  /**
   * Sends `job` to the worker and starts `mine` in this thread at the same moment, so both
   * really race on their own connections. Resolves with both results.
   */
  race<T, W>(job: Exclude<PeerJob, { op: "close" }>, mine: () => Promise<T>): Promise<[T, W]>;
  close(): Promise<void>;
}

/**
 * A worker thread with its own store on `target` (its own connection: on SQLite the file lock
 * is what serialises the two). Started once per backend because booting kysely under tsx in a
 * fresh thread takes a second or two.
 */
export function startPeer(target: Target): Peer {
  const setup: PeerSetup = { url: target.url, opts: target.base };
  const worker = startSiblingWorker(import.meta.url, "worker", { workerData: setup });
  const failed = new Promise<never>((_, reject) => worker.once("error", reject));
  failed.catch(() => {});
  const ready = Promise.race([
    new Promise<void>((resolve) => worker.once("message", () => resolve())),
    failed,
  ]);
  ready.catch(() => {});
  return {
    async race<T, W>(job: Exclude<PeerJob, { op: "close" }>, mine: () => Promise<T>) {
      await ready;
      const theirs = Promise.race([
        new Promise<W>((resolve, reject) =>
          worker.once("message", (m: { result?: W; error?: string }) =>
            m.error === undefined ? resolve(m.result as W) : reject(new Error(m.error)),
          ),
        ),
        failed,
      ]);
      worker.postMessage(job);
      return Promise.all([mine(), theirs]);
    },
    async close() {
      await ready.catch(() => {});
      worker.postMessage({ op: "close" } satisfies PeerJob);
      await Promise.race([
        new Promise((resolve) => worker.once("exit", resolve)),
        new Promise((resolve) => setTimeout(resolve, 2000).unref()),
      ]);
      await worker.terminate();
    },
  };
}

/** Awaits `p` and answers the StoreError of `code` it rejects with; anything else fails. */
export async function rejectsCode(p: Promise<unknown>, code: StoreErrorCode): Promise<StoreError> {
  try {
    await p;
  } catch (err) {
    if (isStoreError(err, code)) return err;
    throw err;
  }
  assert.fail(`expected StoreError ${code}`);
}
