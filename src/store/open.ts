/**
 * `openStore(url)`: the one way the servers and the CLI get a store.
 *
 *   sqlite:PATH              a file (created, with its directory, when missing)
 *   sqlite::memory:          a private in-memory database (tests)
 *   postgres://user@host/db  PostgreSQL (also postgresql://); `?schema=NAME` pins a schema
 *
 * Opens, checks the database answers (a clear `UNAVAILABLE` error otherwise), and applies
 * pending migrations unless `migrate: false`.
 */
import { join, resolve } from "node:path";
import { sql } from "kysely";
import type { Backend } from "./backend.js";
import { StoreError } from "./errors.js";
import { createPostgresBackend } from "./postgres/postgres-backend.js";
import {
  createSqliteBackend,
  SQLITE_DEFAULTS,
  type SqliteSettings,
} from "./sqlite/sqlite-backend.js";
import { createStore } from "./store.js";
import type { Clock, Store } from "./types.js";

export interface OpenStoreOptions {
  /** The clock every time-dependent method defaults to (ms since the epoch). */
  now?: Clock;
  /** Apply pending migrations on open (default true). */
  migrate?: boolean;
  /** SQLite: `NORMAL` (default) or `FULL`; see sqlite-backend.ts for the trade-off. */
  synchronous?: "NORMAL" | "FULL";
  /** SQLite: wait this long for another process's write lock (default 5000 ms). */
  busyTimeoutMs?: number;
  /** SQLite file: `inline` (default) or `background` checkpoints; see sqlite-backend.ts. */
  checkpoint?: "inline" | "background";
  /** PostgreSQL: the schema to use (overrides `?schema=` in the URL). */
  schema?: string;
  /** PostgreSQL: pool size (default 10). */
  poolMax?: number;
}

/** The SQLite URL of the database file under a data directory (`dmguard up --data DIR`). */
export function sqliteUrlFor(dataDir: string): string {
  return `sqlite:${join(dataDir, "dmguard.sqlite")}`;
}

/**
 * The URL with any password replaced, for messages. Done on the text, not on a parse: a raw
 * password may hold `/`, `?`, `#` or start with digits, and then a URL parser finds another
 * host and no password at all (`postgres://u:2024#Winter@db/x` parses as host `u`, port 2024).
 * Everything between the user name's `:` and the last `@` is the password; a parameter named
 * like a password, secret or token (libpq takes `?password=`) is masked too.
 */
export function redactUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/?#]*):.*@/is, "$1:***@")
    .replace(/([?&][^=&#]*(?:password|secret|token)[^=&#]*=)[^&#]*/gi, "$1***");
}

/**
 * One connection per SQLite file per process. better-sqlite3 is synchronous: a second
 * connection in the same thread that meets the first one's write lock would sleep the whole
 * thread in its busy handler — the first can never commit — and fail after busy_timeout. So
 * every `openStore` of one file in a process shares one backend (its connection and its lock),
 * counted by reference. The connection is set up by the first open, so a later open that asks
 * for other SQLite settings is refused rather than silently given the first one's. Other
 * processes and worker threads have their own connection and queue on the file lock as they
 * should.
 */
const sqliteFiles = new Map<
  string,
  { backend: Backend; refs: number; settings: Required<SqliteSettings> }
>();

function sharedSqlite(path: string, opts: SqliteSettings): Backend {
  let entry = sqliteFiles.get(path);
  if (entry === undefined) {
    entry = {
      backend: createSqliteBackend({ path, ...opts }),
      refs: 0,
      settings: { ...SQLITE_DEFAULTS, ...opts },
    };
    sqliteFiles.set(path, entry);
  } else {
    for (const [name, wanted] of Object.entries(opts) as [keyof SqliteSettings, unknown][]) {
      const open = entry.settings[name];
      if (wanted !== open) {
        throw new StoreError(
          "ARGUMENT_INVALID",
          `${path} is already open in this process with ${name} ${open}; ` +
            `it cannot be opened again with ${name} ${String(wanted)}`,
          { field: name },
        );
      }
    }
  }
  const shared = entry;
  shared.refs++;
  let closed = false;
  return {
    ...shared.backend,
    async close() {
      if (closed) return;
      closed = true;
      if (--shared.refs === 0) {
        sqliteFiles.delete(path);
        await shared.backend.close();
      }
    },
  };
}

function backendFor(url: string, opts: OpenStoreOptions): Backend {
  if (typeof url !== "string") throw new StoreError("URL_INVALID", "store URL must be a string");
  if (url.startsWith("sqlite:")) {
    const path = url.slice("sqlite:".length);
    if (path.length === 0) throw new StoreError("URL_INVALID", "sqlite: URL needs a path");
    const sqliteOpts = {
      ...(opts.synchronous === undefined ? {} : { synchronous: opts.synchronous }),
      ...(opts.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: opts.busyTimeoutMs }),
      ...(opts.checkpoint === undefined ? {} : { checkpoint: opts.checkpoint }),
    };
    if (path === ":memory:") return createSqliteBackend({ path, ...sqliteOpts });
    return sharedSqlite(resolve(path), sqliteOpts);
  }
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new StoreError("URL_INVALID", `not a valid URL: ${redactUrl(url)}`);
    }
    const schema = opts.schema ?? u.searchParams.get("schema") ?? undefined;
    u.searchParams.delete("schema");
    return createPostgresBackend({
      url: u.toString(),
      ...(schema === undefined ? {} : { schema }),
      ...(opts.poolMax === undefined ? {} : { poolMax: opts.poolMax }),
    });
  }
  throw new StoreError(
    "URL_INVALID",
    `unsupported store URL ${redactUrl(url)}: use sqlite:PATH or postgres://…`,
  );
}

export async function openStore(url: string, opts: OpenStoreOptions = {}): Promise<Store> {
  const backend = backendFor(url, opts);
  const store = createStore(backend, opts.now ?? Date.now);
  try {
    await sql`select 1`.execute(backend.db);
  } catch (err) {
    await store.close().catch(() => {});
    const why = err instanceof Error ? err.message || String(err) : String(err);
    const what = backend.kind === "postgres" ? "PostgreSQL" : "SQLite database";
    throw new StoreError("UNAVAILABLE", `${what} at ${redactUrl(url)} is unreachable: ${why}`, {
      cause: err,
    });
  }
  if (opts.migrate !== false) {
    try {
      await store.migrate();
    } catch (err) {
      await store.close().catch(() => {});
      throw err;
    }
  }
  return store;
}
