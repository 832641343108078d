/**
 * What a database backend gives the store (STYLE habit 6: a small structural interface, one
 * factory per database, the same files per backend under `sqlite/` and `postgres/`). The
 * repositories speak kysely; the few things SQL dialects disagree on live here.
 */
import type { Kysely, QueryResult } from "kysely";
import type { Database, InventoryTable } from "./schema.js";
import type { ImportResult, StoreKind } from "./types.js";

/** An inventory row ready to store; `status` null means "active if new, else unchanged". */
export type BulkInventoryRow = Omit<InventoryTable, "status"> & { status: string | null };

export interface Backend {
  readonly kind: StoreKind;
  readonly db: Kysely<Database>;
  /** Whether `SELECT … FOR UPDATE` exists (PostgreSQL); SQLite locks the whole file instead. */
  readonly rowLocks: boolean;
  /**
   * SQLite only: runs a compiled query without kysely (sqlite/connection.ts says why): inside a
   * transaction at once, outside one in the open commit group (sqlite/commit-group.ts), its
   * result coming once the group has committed. Undefined when it must queue through kysely.
   */
  readonly runNow?: <R>(
    sql: string,
    parameters: readonly unknown[],
    inTransaction: boolean,
  ) => Promise<QueryResult<R>> | undefined;
  /**
   * SQLite only: takes the one connection for a transaction without kysely, in turn with
   * kysely's callers; the transaction is opened and closed on it by the caller.
   */
  readonly hold?: () => Promise<HeldConnection>;
  /** Opens a write transaction on `conn` (SQLite: `BEGIN IMMEDIATE`). */
  begin(conn: Kysely<Database>): Promise<void>;
  /** The schema kysely's migration bookkeeping belongs in (PostgreSQL), created if missing. */
  migrationSchema(): Promise<string | undefined>;
  /**
   * Writes `count` inventory rows, `rowAt(i)` each, inside the transaction already open on
   * `conn`. A row that conflicts throws StoreError `ROW_INVALID` with its index.
   */
  bulkInventory(
    conn: Kysely<Database>,
    count: number,
    rowAt: (i: number) => BulkInventoryRow,
    mode: "insert" | "upsert",
  ): Promise<ImportResult>;
  /** The driver error is a unique/primary-key violation. */
  isUniqueViolation(err: unknown): boolean;
  close(): Promise<void>;
}

/** Column order the bulk paths bind in. */
export const INVENTORY_COLUMNS = [
  "part",
  "imei",
  "meid",
  "esn",
  "model",
  "kid",
  "attestation_key",
  "attestation_thumbprint",
  "contract_end",
  "user_group",
  "enterprise",
  "status",
  "created_at",
  "updated_at",
] as const satisfies readonly (keyof BulkInventoryRow)[];

/** SQLite's one connection, held for a transaction without kysely (`Backend.hold`). */
export interface HeldConnection {
  /** Kysely over the held connection, for the queries built inside the transaction. */
  readonly db: Kysely<Database>;
  /**
   * Opens the transaction as a member of a commit group (sqlite/commit-group.ts): the group's
   * `BEGIN IMMEDIATE`, which takes the write lock at once, or a savepoint in the open group.
   */
  begin(): void;
  /** Keeps the transaction's work in its group. */
  commit(): void;
  /**
   * Undoes the transaction's work after `cause`, and only its own, unless SQLite rolled back its
   * whole group by itself after `cause` (the group's members are then failed with it).
   */
  rollback(cause: unknown): void;
  /** Resolves once the group the transaction was kept in has committed; rejects if it did not. */
  settled(): Promise<void>;
  /** Gives the connection to the next in line; once. */
  release(): void;
}
