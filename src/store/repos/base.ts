import type { Kysely } from "kysely";
import { type Ctx, dbOf } from "../context.js";
import type { Database } from "../schema.js";
import { timeOf } from "../validate.js";

/** What every repository holds: its context (connection + clock) and its owner part. */
export abstract class Repo {
  constructor(
    protected readonly ctx: Ctx,
    protected readonly part: string,
  ) {}

  protected get db(): Kysely<Database> {
    return dbOf(this.ctx);
  }

  protected time(now: number | undefined): number {
    return timeOf(now, this.ctx.clock);
  }
}

/** `count(*)` comes back as number (SQLite) or bigint-as-number (our pg parser); normalise. */
export function num(value: unknown): number {
  return Number(value ?? 0);
}
