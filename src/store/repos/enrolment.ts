import { transaction } from "../context.js";
import { StoreError } from "../errors.js";
import type { EnrolmentTable } from "../schema.js";
import type {
  EnrolmentInput,
  EnrolmentRecord,
  EnrolmentRepo,
  ImportResult,
  Page,
} from "../types.js";
import { id, limitOf, optText } from "../validate.js";
import { num, Repo } from "./base.js";

/** Rows per INSERT: 6 bound values each stays far below both databases' parameter limits. */
const BATCH = 500;

function toRecord(r: EnrolmentTable): EnrolmentRecord {
  return {
    part: r.part,
    imei: r.imei,
    user: r.user_name,
    userGroup: r.user_group,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toRow(part: string, input: unknown, now: number, index?: number): EnrolmentTable {
  if (typeof input !== "object" || input === null) {
    throw new StoreError(
      index === undefined ? "ARGUMENT_INVALID" : "ROW_INVALID",
      index === undefined ? "row must be an object" : `row ${index}: must be an object`,
      index === undefined ? {} : { index },
    );
  }
  const r = input as EnrolmentInput;
  return {
    part,
    imei: id(r.imei, "imei", 32, index),
    user_name: optText(r.user, "user", 256, index),
    user_group: optText(r.userGroup, "userGroup", 128, index),
    created_at: now,
    updated_at: now,
  };
}

export class Enrolment extends Repo implements EnrolmentRepo {
  async import(rows: readonly EnrolmentInput[], now?: number): Promise<ImportResult> {
    if (!Array.isArray(rows)) {
      throw new StoreError("ARGUMENT_INVALID", "rows must be an array", { field: "rows" });
    }
    const t = this.time(now);
    const seen = new Map<string, number>();
    const all = rows.map((r, i) => {
      const row = toRow(this.part, r, t, i);
      const again = seen.get(row.imei);
      if (again !== undefined) {
        throw new StoreError("ROW_INVALID", `row ${i}: imei repeats row ${again}`, {
          index: i,
          field: "imei",
        });
      }
      seen.set(row.imei, i);
      return row;
    });
    if (all.length === 0) return { inserted: 0, updated: 0 };
    return transaction(this.ctx, async (c) => {
      const before = await c.exec
        .selectFrom("enrolment")
        .select((eb) => eb.fn.countAll().as("n"))
        .where("part", "=", this.part)
        .executeTakeFirstOrThrow();
      for (let i = 0; i < all.length; i += BATCH) {
        await c.exec
          .insertInto("enrolment")
          .values(all.slice(i, i + BATCH))
          .onConflict((oc) =>
            oc.columns(["part", "imei"]).doUpdateSet((eb) => ({
              user_name: eb.ref("excluded.user_name"),
              user_group: eb.ref("excluded.user_group"),
              updated_at: eb.ref("excluded.updated_at"),
            })),
          )
          .execute();
      }
      const after = await c.exec
        .selectFrom("enrolment")
        .select((eb) => eb.fn.countAll().as("n"))
        .where("part", "=", this.part)
        .executeTakeFirstOrThrow();
      const inserted = num(after.n) - num(before.n);
      return { inserted, updated: all.length - inserted };
    });
  }

  async set(input: EnrolmentInput, now?: number): Promise<EnrolmentRecord> {
    const row = toRow(this.part, input, this.time(now));
    const r = await this.db
      .insertInto("enrolment")
      .values(row)
      .onConflict((oc) =>
        oc.columns(["part", "imei"]).doUpdateSet({
          user_name: row.user_name,
          user_group: row.user_group,
          updated_at: row.updated_at,
        }),
      )
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRecord(r);
  }

  async remove(imei: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom("enrolment")
      .where("part", "=", this.part)
      .where("imei", "=", id(imei, "imei", 32))
      .executeTakeFirst();
    return num(r.numDeletedRows) > 0;
  }

  async get(imei: string): Promise<EnrolmentRecord | null> {
    const r = await this.db
      .selectFrom("enrolment")
      .selectAll()
      .where("part", "=", this.part)
      .where("imei", "=", id(imei, "imei", 32))
      .executeTakeFirst();
    return r ? toRecord(r) : null;
  }

  async list(page: Page = {}): Promise<EnrolmentRecord[]> {
    let q = this.db.selectFrom("enrolment").selectAll().where("part", "=", this.part);
    if (page.after !== undefined) q = q.where("imei", ">", id(page.after, "after", 32));
    const rows = await q.orderBy("imei").limit(limitOf(page.limit)).execute();
    return rows.map(toRecord);
  }

  async count(): Promise<number> {
    const r = await this.db
      .selectFrom("enrolment")
      .select((eb) => eb.fn.countAll().as("n"))
      .where("part", "=", this.part)
      .executeTakeFirstOrThrow();
    return num(r.n);
  }
}
