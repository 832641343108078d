/**
 * Queries built and compiled once per backend, then run with each call's arguments.
 *
 * kysely builds an immutable operation tree (frozen nodes, cloned at every step) and compiles
 * it to SQL on every call; for the small fixed-shape queries an activation runs (a key
 * lookup, an upsert, an audit append) that cost more than SQLite took to run them. A prepared
 * query is built once per dialect with placeholder arguments, compiled, and each call puts its
 * arguments where the placeholders landed in the parameter list. It runs through the handle's
 * kysely executor, so connection pinning, transactions and the store's checks are the same as
 * for a built query; on SQLite it runs at once instead where the backend says it may
 * (`Backend.runNow`), with the same effect minus kysely's async frames.
 *
 * Only for queries whose SQL text does not depend on the arguments' values: a placeholder
 * must reach the parameter list as a bound value (no `in (list)`, no `sql.raw`, no shape that
 * changes with an argument). `compileTemplate` refuses a build that loses a placeholder.
 */
import { type Compilable, type CompiledQuery, createQueryId, type QueryResult } from "kysely";
import { type Ctx, dbOf } from "./context.js";

/** Stands for argument `index` while the query is built. */
class Placeholder {
  constructor(readonly index: number) {}
}

interface Template {
  readonly sql: string;
  readonly query: CompiledQuery["query"];
  readonly queryId: CompiledQuery["queryId"];
  /** Constants as compiled; a placeholder's position holds null. */
  readonly constants: readonly unknown[];
  /** For each parameter position, the argument it takes, or -1 for a constant. */
  readonly slots: Int16Array;
}

type Db = Ctx["exec"];

export class PreparedQuery<A extends readonly unknown[], R> {
  readonly #arity: number;
  readonly #build: (db: Db, ...args: A) => Compilable<R>;
  /** Per backend (each compiles its own dialect's SQL). */
  readonly #templates = new WeakMap<object, Template>();

  constructor(arity: A["length"], build: (db: Db, ...args: A) => Compilable<R>) {
    this.#arity = arity;
    this.#build = build;
  }

  /** Runs the query on `ctx`'s handle (root or transaction) with `args`. */
  execute(ctx: Ctx, ...args: A): Promise<QueryResult<R>> {
    const db = dbOf(ctx);
    let t = this.#templates.get(ctx.backend);
    if (t === undefined) {
      t = this.#compile(ctx.backend.db);
      this.#templates.set(ctx.backend, t);
    }
    const parameters = new Array<unknown>(t.slots.length);
    for (let i = 0; i < parameters.length; i++) {
      const s = t.slots[i]!;
      parameters[i] = s < 0 ? t.constants[i] : args[s];
    }
    const now = ctx.backend.runNow;
    if (now !== undefined) {
      const r = now<R>(t.sql, parameters, ctx.tx !== null);
      if (r !== undefined) return r;
    }
    return db.executeQuery<R>({ sql: t.sql, query: t.query, queryId: t.queryId, parameters });
  }

  /** The first row, if any. */
  async first(ctx: Ctx, ...args: A): Promise<R | undefined> {
    return (await this.execute(ctx, ...args)).rows[0];
  }

  /** Rows changed by an insert, update or delete without `returning`. */
  async affected(ctx: Ctx, ...args: A): Promise<number> {
    return Number((await this.execute(ctx, ...args)).numAffectedRows ?? 0);
  }

  #compile(db: Db): Template {
    const placeholders = Array.from({ length: this.#arity }, (_, i) => new Placeholder(i));
    const compiled = this.#build(db, ...(placeholders as unknown as A)).compile();
    const slots = new Int16Array(compiled.parameters.length);
    const constants = compiled.parameters.map((p, i) => {
      slots[i] = p instanceof Placeholder ? p.index : -1;
      return p instanceof Placeholder ? null : p;
    });
    const used = new Set(slots);
    for (let i = 0; i < this.#arity; i++) {
      if (!used.has(i)) throw new Error(`prepared query lost argument ${i}: ${compiled.sql}`);
    }
    return {
      sql: compiled.sql,
      query: compiled.query,
      queryId: createQueryId(),
      constants,
      slots,
    };
  }
}

/** A query prepared once per backend; see PreparedQuery. */
export function prepared<A extends readonly unknown[], R>(
  arity: A["length"],
  build: (db: Db, ...args: A) => Compilable<R>,
): PreparedQuery<A, R> {
  return new PreparedQuery(arity, build);
}

/** A row whose columns are a prepared query's arguments, in `columns` order. */
export function rowOf<T>(columns: readonly (keyof T & string)[], args: readonly unknown[]): T {
  const row: Record<string, unknown> = {};
  columns.forEach((c, i) => {
    row[c] = args[i];
  });
  return row as T;
}

/** The arguments for a query built with `rowOf(columns, …)`: `row`'s values in that order. */
export function argsOf<T>(row: T, columns: readonly (keyof T & string)[]): unknown[] {
  return columns.map((c) => row[c]);
}
