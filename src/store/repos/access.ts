import { prepared } from "../prepared.js";
import type { AccessTable } from "../schema.js";
import type { AccessEntry, AccessRepo, NetworkAccess, Page } from "../types.js";
import { id, limitOf, oneOf } from "../validate.js";
import { num, Repo } from "./base.js";

const SET = prepared(4, (db, part: string, imei: string, access: string, at: number) =>
  db
    .insertInto("access")
    .values({ part, imei, access, updated_at: at })
    .onConflict((oc) => oc.columns(["part", "imei"]).doUpdateSet({ access, updated_at: at })),
);

const ACCESS: readonly NetworkAccess[] = ["full", "limited"];

function toEntry(r: AccessTable): AccessEntry {
  return { part: r.part, imei: r.imei, access: r.access as NetworkAccess, updatedAt: r.updated_at };
}

export class Access extends Repo implements AccessRepo {
  async set(imei: string, access: NetworkAccess, now?: number): Promise<AccessEntry> {
    const row: AccessTable = {
      part: this.part,
      imei: id(imei, "imei", 32),
      access: oneOf(access, "access", ACCESS),
      updated_at: this.time(now),
    };
    await SET.execute(this.ctx, row.part, row.imei, row.access, row.updated_at);
    return toEntry(row);
  }

  async remove(imei: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom("access")
      .where("part", "=", this.part)
      .where("imei", "=", id(imei, "imei", 32))
      .executeTakeFirst();
    return num(r.numDeletedRows) > 0;
  }

  async get(imei: string): Promise<AccessEntry | null> {
    const r = await this.db
      .selectFrom("access")
      .selectAll()
      .where("part", "=", this.part)
      .where("imei", "=", id(imei, "imei", 32))
      .executeTakeFirst();
    return r ? toEntry(r) : null;
  }

  async list(page: Page & { access?: NetworkAccess } = {}): Promise<AccessEntry[]> {
    let q = this.db.selectFrom("access").selectAll().where("part", "=", this.part);
    if (page.access !== undefined) q = q.where("access", "=", oneOf(page.access, "access", ACCESS));
    if (page.after !== undefined) q = q.where("imei", ">", id(page.after, "after", 32));
    const rows = await q.orderBy("imei").limit(limitOf(page.limit)).execute();
    return rows.map(toEntry);
  }

  async count(access?: NetworkAccess): Promise<number> {
    let q = this.db
      .selectFrom("access")
      .select((eb) => eb.fn.countAll().as("n"))
      .where("part", "=", this.part);
    if (access !== undefined) q = q.where("access", "=", oneOf(access, "access", ACCESS));
    return num((await q.executeTakeFirstOrThrow()).n);
  }
}
