/**
 * SQLite's one connection, as kysely's driver and as the store's direct path to it.
 *
 * better-sqlite3 runs a statement synchronously, yet through kysely every query still passes
 * a connection provider, a mutex and half a dozen async frames: about 4 KB of promises and
 * closures per query, a third of what `up`'s main thread allocated per activation, and a
 * tenth of its CPU between those frames and the scavenges they caused. Kysely's own SQLite
 * driver keeps its mutex private, so nothing outside can tell whether a query may run at once.
 * This driver does what it does (one connection, callers queue for it in order) with the lock
 * in the open, and `runNow` runs a compiled query on the spot when that is safe:
 * - inside a transaction, whose callback holds the connection for as long as it runs, unless
 *   a query built in it and issued earlier has not run yet (order as issued is kept);
 * - at the root, when nobody holds the connection or waits for it. Being synchronous, the
 *   query is over before anyone else can take it.
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
import type { Database } from "../schema.js";

/**
 * A write transaction from its start: the write lock is taken at once, so the transaction never
 * fails to upgrade a read lock halfway through.
 */
export const BEGIN_IMMEDIATE = "begin immediate";

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
  readonly connection: SqliteConnection;
  /**
   * Queries between acquireConnection and releaseConnection. Kysely reaches acquireConnection
   * synchronously when a query is issued, so a query built inside a transaction counts from
   * the moment it is issued until it has run.
   */
  #inFlight = 0;
  #held: { db: Kysely<Database>; driver: SqliteDriver } | undefined;

  /** `lock` null: a driver for whoever holds the connection already (see `hold`). */
  constructor(database: Sqlite.Database, connection?: SqliteConnection, lock?: null) {
    this.#database = database;
    this.#lock = lock === null ? null : new ConnectionLock();
    this.connection = connection ?? new SqliteConnection(database);
  }

  /**
   * Runs a compiled query at once if it may (see the file's comment): `inTransaction` says the
   * caller runs inside the transaction holding the connection. Undefined when it must queue.
   */
  runNow<R>(sql: string, parameters: readonly unknown[], inTransaction: boolean) {
    if (inTransaction) {
      // A query built in the transaction, issued before this one, has not run yet: queue
      // behind it through kysely, so the transaction's queries run in the order issued.
      if (this.#held !== undefined && this.#held.driver.#inFlight > 0) return undefined;
    } else if (this.#lock !== null && !this.#lock.free) {
      return undefined;
    }
    return this.connection.run<R>(sql, parameters);
  }

  /**
   * Takes the connection for a transaction, in turn with kysely's callers, without kysely's
   * connection provider: two of those per activation cost more than the statements they ran.
   */
  async hold(): Promise<HeldConnection> {
    await this.#lock?.acquire();
    if (this.#held === undefined) {
      const driver = new SqliteDriver(this.#database, this.connection, null);
      const db = new Kysely<Database>({ dialect: sqliteDialect(driver) });
      // Kysely starts a driver on its first query, after a turn of the microtask queue; from
      // then on it reaches acquireConnection synchronously, which #inFlight relies on.
      await db.executeQuery(CompiledQuery.raw("select 1"));
      this.#held = { db, driver };
    }
    let released = false;
    return {
      db: this.#held.db,
      begin: () => {
        this.connection.run(BEGIN_IMMEDIATE, []);
      },
      commit: () => {
        this.connection.run("commit", []);
      },
      rollback: () => {
        this.connection.run("rollback", []);
      },
      release: () => {
        if (released) return;
        released = true;
        this.#lock?.release();
      },
    };
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    this.#inFlight++;
    await this.#lock?.acquire();
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

  /** Closes the database (not the held connection's driver's: it does not own it). */
  async destroy(): Promise<void> {
    if (this.#lock !== null && this.#database.open) this.#database.close();
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
