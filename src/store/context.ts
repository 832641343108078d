/**
 * The connection a handle runs on, and transactions over it. A root handle runs each query on
 * any pooled connection; `transaction` pins one connection, opens the transaction and hands a
 * child context to the callback; nested calls use savepoints on the same connection.
 *
 * With DMGUARD_STORE_CHECKS=1 (the test suite sets it), an AsyncLocalStorage marks the
 * innermost open transaction, so using an outer handle inside it fails loudly
 * (`OUTSIDE_TRANSACTION`) instead of deadlocking on SQLite's single connection or silently
 * escaping the transaction on PostgreSQL. It is off otherwise because an AsyncLocalStorage
 * turns on V8's promise hooks for the whole process, which cost `up` a twentieth of its CPU
 * for a check that guards against a programming error the tests already exercise.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { CompiledQuery, type Kysely, sql } from "kysely";
import type { Backend } from "./backend.js";
import { StoreError } from "./errors.js";
import type { Database } from "./schema.js";
import type { Clock } from "./types.js";

export interface Ctx {
  readonly backend: Backend;
  readonly clock: Clock;
  /** The root kysely instance, or one bound to the transaction's connection. */
  readonly exec: Kysely<Database>;
  /** Identity of the transaction this context belongs to; null at the root. */
  readonly tx: object | null;
  /** Savepoint nesting depth (0 at the root, 1 in a transaction). */
  readonly depth: number;
  readonly life: { closed: boolean };
}

/** Keyed by the root kysely instance: stores sharing one SQLite connection share it too. */
const active =
  process.env.DMGUARD_STORE_CHECKS === "1"
    ? new AsyncLocalStorage<{ root: Kysely<Database>; tx: object }>()
    : null;

function within<T>(ctx: Ctx, tx: object, fn: () => Promise<T>): Promise<T> {
  return active === null ? fn() : active.run({ root: ctx.backend.db, tx }, fn);
}

const COMMIT = CompiledQuery.raw("commit");
const ROLLBACK = CompiledQuery.raw("rollback");

/** The executor of `ctx`, after checking it may be used here and now. */
export function dbOf(ctx: Ctx): Kysely<Database> {
  if (ctx.life.closed) throw new StoreError("CLOSED", "the store is closed");
  const inner = active?.getStore();
  if (inner !== undefined && inner.root === ctx.backend.db && inner.tx !== ctx.tx) {
    throw new StoreError(
      "OUTSIDE_TRANSACTION",
      "a store handle from outside the current transaction was used inside it; use its tx",
    );
  }
  return ctx.exec;
}

export async function transaction<T>(ctx: Ctx, fn: (child: Ctx) => Promise<T>): Promise<T> {
  const exec = dbOf(ctx);
  const tx = {};
  if (ctx.tx === null) {
    if (ctx.backend.hold !== undefined) return heldTransaction(ctx, ctx.backend.hold, tx, fn);
    return exec.connection().execute(async (conn) => {
      const child: Ctx = { ...ctx, exec: conn, tx, depth: 1 };
      await ctx.backend.begin(conn);
      try {
        const out = await within(ctx, tx, () => fn(child));
        await conn.executeQuery(COMMIT);
        return out;
      } catch (err) {
        await conn.executeQuery(ROLLBACK).catch(() => {});
        throw err;
      }
    });
  }
  const name = sql.raw(`dmg_sp_${ctx.depth}`);
  await sql`savepoint ${name}`.execute(exec);
  const child: Ctx = { ...ctx, tx, depth: ctx.depth + 1 };
  try {
    const out = await within(ctx, tx, () => fn(child));
    await sql`release savepoint ${name}`.execute(exec);
    return out;
  } catch (err) {
    await sql`rollback to savepoint ${name}`.execute(exec).catch(() => {});
    await sql`release savepoint ${name}`.execute(exec).catch(() => {});
    throw err;
  }
}

/**
 * SQLite's transaction: on the connection taken as `hold` gives it, opened and closed by hand, a
 * member of a commit group (sqlite/commit-group.ts).
 */
async function heldTransaction<T>(
  ctx: Ctx,
  hold: NonNullable<Backend["hold"]>,
  tx: object,
  fn: (child: Ctx) => Promise<T>,
): Promise<T> {
  const held = await hold();
  let out: T | undefined;
  let failure: { err: unknown } | undefined;
  try {
    held.begin();
    const child: Ctx = { ...ctx, exec: held.db, tx, depth: 1 };
    try {
      out = await within(ctx, tx, () => fn(child));
      held.commit();
    } catch (err) {
      held.rollback(err);
      failure = { err };
    }
  } finally {
    held.release();
  }
  // Its caller hears of it once its commit group has committed, or failed: a failure too may
  // come of another member's write (a unique key it took), which is then committed or gone.
  if (failure !== undefined) {
    await held.settled().catch(() => undefined);
    throw failure.err;
  }
  await held.settled();
  return out as T;
}

/** Runs `fn` in a transaction unless `ctx` is in one already (then directly, on it). */
export function inTransaction<T>(ctx: Ctx, fn: (c: Ctx) => Promise<T>): Promise<T> {
  if (ctx.tx !== null) {
    dbOf(ctx);
    return fn(ctx);
  }
  return transaction(ctx, fn);
}
