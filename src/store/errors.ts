/**
 * The one error type the store throws. Callers switch on `code`, never on message text.
 * Messages name the table, field and row index at fault but never echo stored values that
 * could be secret (token hashes, credentials references, audit details).
 */
export type StoreErrorCode =
  /** `openStore` got a URL it cannot use (neither `sqlite:` nor `postgres://`). */
  | "URL_INVALID"
  /** An argument is malformed: wrong type, empty, too long, not one of the allowed values. */
  | "ARGUMENT_INVALID"
  /** One row of a bulk import is malformed or conflicts; `index` is its 0-based position. */
  | "ROW_INVALID"
  /** A row with that key already exists (insert, not upsert). */
  | "ALREADY_EXISTS"
  /** The row to update does not exist. */
  | "NOT_FOUND"
  /** Optimistic concurrency: the row changed since it was read (`expectedVersion` is stale). */
  | "VERSION_CONFLICT"
  /** An audit entry's details carry a field whose name marks it as secret. */
  | "SECRET_IN_AUDIT"
  /** A migration failed; the database is left at the last migration that succeeded. */
  | "MIGRATION_FAILED"
  /** The database cannot be reached or opened. */
  | "UNAVAILABLE"
  /** The store was used after `close()`. */
  | "CLOSED"
  /**
   * SQLite ended the transaction by itself after an error (a full disk, an I/O error): nothing
   * of it is kept, and a statement the transaction still sends is refused.
   */
  | "ROLLED_BACK"
  /**
   * The root store (or an outer transaction) was used while inside a transaction of the same
   * store: on SQLite that would wait for itself forever, on PostgreSQL it would run outside
   * the transaction. Use the `tx` handed to the callback.
   */
  | "OUTSIDE_TRANSACTION";

export class StoreError extends Error {
  override readonly name = "StoreError";
  readonly code: StoreErrorCode;
  /** For `ROW_INVALID`: the 0-based index of the offending row in the input. */
  readonly index: number | undefined;
  /** The field at fault, when one is. */
  readonly field: string | undefined;

  constructor(
    code: StoreErrorCode,
    message: string,
    opts: { index?: number; field?: string; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.index = opts.index;
    this.field = opts.field;
  }
}

export function isStoreError(err: unknown, code?: StoreErrorCode): err is StoreError {
  return err instanceof StoreError && (code === undefined || err.code === code);
}
