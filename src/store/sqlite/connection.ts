/**
 * SQLite's one connection, as kysely's driver and as the store's direct path to it.
 *
 * better-sqlite3 runs a statement synchronously, yet through kysely every query still passes
 * a connection provider, a mutex and half a dozen async frames: about 4 KB of promises and
 * closures per query, a third of what `up`'s main thread allocated per activation, and a
 * tenth of its CPU between those frames and the scavenges they caused. Kysely's own SQLite
 * driver keeps its mutex private, so nothing outside can tell whether a query may run at once.
 * This driver does what it does (one connection, callers queue for it in order) with the lock
 * in the open, and `runNow` runs a compiled query without kysely:
 * - inside a transaction, whose callback holds the connection for as long as it runs, at once,
 *   unless a query built in it and issued earlier has not run yet (order as issued is kept);
 * - outside one, in the open commit group (commit-group.ts) as soon as the connection is free:
 *   at once when nobody holds it or waits for it, else in turn after them.
 * Otherwise the caller goes through kysely and queues as before.
 */
import type Sqlite from "better-sqlite3";
import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  Kysely,
  type QueryResult,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from "kysely";
import type { HeldConnection } from "../backend.js";
import { StoreError } from "../errors.js";
import type { Database } from "../schema.js";
import { CommitGroups, type Member } from "./commit-group.js";

/** How long a close waits for a running transaction to end (`destroy`). */
export const CLOSE_WAIT_MS = 2_000;

/** Prepared statements kept per SQL text; the store issues a few dozen distinct ones. */
const STATEMENT_CACHE = 512;

/** The connection's holder: one transaction or one query at a time, the rest in arrival order. */
class ConnectionLock {
  #held = false;
  readonly #waiting: (() => void)[] = [];

  /** Nobody holds the connection (so nobody waits for it either). */
  get free(): boolean {
    return !this.#held;
  }

  acquire(): Promise<void> {
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Hands the connection to the next in line, still held, so that nobody overtakes them. */
  release(): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#held = false;
    else next();
  }
}

export class SqliteConnection implements DatabaseConnection {
  readonly #database: Sqlite.Database;
  /**
   * Kysely asks for a new prepared statement for every query, and preparing costs more than
   * running most of ours. The store never streams through a cached statement, so one is never
   * busy when asked for again; SQLite re-prepares it by itself after a schema change.
   */
  readonly #statements = new Map<string, Sqlite.Statement>();

  constructor(database: Sqlite.Database) {
    this.#database = database;
  }

  #prepare(text: string): Sqlite.Statement {
    let st = this.#statements.get(text);
    if (st === undefined) {
      st = this.#database.prepare(text);
      if (this.#statements.size >= STATEMENT_CACHE) {
        this.#statements.delete(this.#statements.keys().next().value!);
      }
      this.#statements.set(text, st);
    }
    return st;
  }

  /** Runs one statement now; throws what SQLite throws. */
  run<R>(sql: string, parameters: readonly unknown[]): QueryResult<R> {
    const st = this.#prepare(sql);
    if (st.reader) return { rows: st.all(parameters) as R[] };
    const { changes, lastInsertRowid } = st.run(parameters);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  }

  executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
    try {
      return Promise.resolve(this.run<R>(q.sql, q.parameters));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async *streamQuery<R>(q: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    // Its own statement: a cached one would be busy for as long as the stream is read.
    const st = this.#database.prepare(q.sql);
    if (!st.reader) throw new Error("only a query that returns rows can be streamed");
    for (const row of st.iterate(q.parameters)) yield { rows: [row as R] };
  }
}

const BEGIN = CompiledQuery.raw("begin");
const COMMIT = CompiledQuery.raw("commit");
const ROLLBACK = CompiledQuery.raw("rollback");

export class SqliteDriver implements Driver {
  readonly #database: Sqlite.Database;
  readonly #lock: ConnectionLock | null;
  /** The root driver's commit groups (commit-group.ts); null for a held connection's. */
  readonly #groups: CommitGroups | null;
  readonly connection: SqliteConnection;
  /**
   * Queries between acquireConnection and releaseConnection. Kysely reaches acquireConnection
   * synchronously when a query is issued, so a query built inside a transaction counts from
   * the moment it is issued until it has run.
   */
  #inFlight = 0;
  #held: { db: Kysely<Database>; driver: SqliteDriver } | undefined;

  /** For a held connection's driver: refuses a query once SQLite ended the transaction. */
  readonly #checkOpen: (() => void) | undefined;

  /**
   * `lock` null: a driver for whoever holds the connection already (see `hold`), which checks
   * with `checkOpen` that the transaction is still there before each query.
   */
  constructor(
    database: Sqlite.Database,
    connection?: SqliteConnection,
    lock?: null,
    checkOpen?: () => void,
  ) {
    this.#database = database;
    this.#checkOpen = checkOpen;
    const own = lock === null ? null : new ConnectionLock();
    this.#lock = own;
    this.connection = connection ?? new SqliteConnection(database);
    this.#groups =
      own === null
        ? null
        : new CommitGroups(database, {
            free: () => own.free,
            take: () => own.acquire(),
            give: () => own.release(),
          });
  }

  /**
   * Runs a compiled query without kysely where it may: `inTransaction` says the caller runs
   * inside the transaction holding the connection, and the query then runs at once (undefined
   * when it must queue behind a query built in the transaction and not run yet). Outside one,
   * the query joins the open commit group as soon as it has the connection, and its result
   * comes once the group has committed (commit-group.ts).
   */
  runNow<R>(
    sql: string,
    parameters: readonly unknown[],
    inTransaction: boolean,
  ): Promise<QueryResult<R>> | undefined {
    if (inTransaction || this.#groups === null || this.#lock === null) {
      // A query built in the transaction, issued before this one, has not run yet: queue
      // behind it through kysely, so the transaction's queries run in the order issued.
      if (this.#held !== undefined && this.#held.driver.#inFlight > 0) return undefined;
      try {
        this.#groups?.checkOpen();
        return Promise.resolve(this.connection.run<R>(sql, parameters));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    const groups = this.#groups;
    const run = () => groups.run(() => this.connection.run<R>(sql, parameters));
    if (this.#lock.free) return run();
    const lock = this.#lock;
    return lock.acquire().then(() => {
      try {
        return run();
      } finally {
        lock.release();
      }
    });
  }

  /**
   * Takes the connection for a transaction, in turn with kysely's callers, without kysely's
   * connection provider: two of those per activation cost more than the statements they ran.
   * The transaction is a member of a commit group.
   */
  async hold(): Promise<HeldConnection> {
    await this.#lock?.acquire();
    if (this.#held === undefined) {
      const groups = this.#groups;
      const driver = new SqliteDriver(this.#database, this.connection, null, () =>
        groups?.checkOpen(),
      );
      const db = new Kysely<Database>({ dialect: sqliteDialect(driver) });
      // Kysely starts a driver on its first query, after a turn of the microtask queue; from
      // then on it reaches acquireConnection synchronously, which #inFlight relies on.
      await db.executeQuery(CompiledQuery.raw("select 1"));
      this.#held = { db, driver };
    }
    const groups = this.#groups!;
    let member: Member | undefined;
    let released = false;
    return {
      db: this.#held.db,
      begin: () => {
        member = groups.member();
      },
      commit: () => member?.keep(),
      rollback: (cause) => member?.undo(cause),
      settled: () => member?.settled ?? Promise.resolve(),
      release: () => {
        if (released) return;
        released = true;
        this.#lock?.release();
      },
    };
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    this.#checkOpen?.();
    this.#inFlight++;
    await this.#lock?.acquire();
    // Kysely's own queries and transactions run outside any group, as SQLite runs them: the
    // open group commits first.
    this.#groups?.commitNow();
    return this.connection;
  }

  async beginTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(BEGIN);
  }

  async commitTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(COMMIT);
  }

  async rollbackTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(ROLLBACK);
  }

  async releaseConnection(): Promise<void> {
    this.#inFlight--;
    this.#lock?.release();
  }

  /**
   * Closes the database (not the held connection's driver's: it does not own it). A
   * transaction still running may end first, for CLOSE_WAIT_MS at most; then the open group
   * commits. One that has not ended by then is rolled back with its group, whose members are
   * told so.
   */
  async destroy(): Promise<void> {
    const lock = this.#lock;
    if (lock === null || !this.#database.open) return;
    let timer: NodeJS.Timeout | undefined;
    let gaveUp = false;
    const taken = await Promise.race([
      lock.acquire().then(() => {
        // Handed the connection after giving up: pass it on, to find the database closed.
        if (gaveUp) lock.release();
        return true;
      }),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), CLOSE_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    gaveUp = !taken;
    if (!this.#database.open) return;
    if (taken) this.#groups?.commitNow();
    else this.#groups?.abandon(new StoreError("CLOSED", "the store closed before the commit"));
    this.#database.close();
    // Whoever still waits for the connection finds it closed (better-sqlite3 says so).
    if (taken) lock.release();
  }
}

/** Kysely's SQLite dialect over `driver`. */
export function sqliteDialect(driver: SqliteDriver): Dialect {
  return {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => driver,
    createIntrospector: (db) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  };
}
