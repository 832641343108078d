import { canonicalJson, parseJson } from "../canonical.js";
import { StoreError } from "../errors.js";
import type { KvTable } from "../schema.js";
import type { JsonValue, KvEntry, KvRepo, Page } from "../types.js";
import { count, id, limitOf } from "../validate.js";
import { num, Repo } from "./base.js";

const MAX_VALUE = 256 * 1024;

function toEntry(r: KvTable): KvEntry {
  return {
    ns: r.ns,
    key: r.key,
    value: parseJson(r.value),
    version: r.version,
    updatedAt: r.updated_at,
  };
}

export class Kv extends Repo implements KvRepo {
  async get(ns: string, key: string): Promise<KvEntry | null> {
    const r = await this.db
      .selectFrom("kv")
      .selectAll()
      .where("part", "=", this.part)
      .where("ns", "=", id(ns, "ns", 64))
      .where("key", "=", id(key, "key", 256))
      .executeTakeFirst();
    return r ? toEntry(r) : null;
  }

  async put(
    ns: string,
    key: string,
    value: JsonValue,
    opts: { expectedVersion?: number; now?: number } = {},
  ): Promise<KvEntry> {
    const row: KvTable = {
      part: this.part,
      ns: id(ns, "ns", 64),
      key: id(key, "key", 256),
      value: canonicalJson(value, "value"),
      version: 1,
      updated_at: this.time(opts.now),
    };
    if (row.value.length > MAX_VALUE) {
      throw new StoreError("ARGUMENT_INVALID", `value exceeds ${MAX_VALUE} bytes`, {
        field: "value",
      });
    }
    const expected =
      opts.expectedVersion === undefined
        ? undefined
        : count(opts.expectedVersion, "expectedVersion");
    let r: KvTable | undefined;
    if (expected === undefined) {
      r = await this.db
        .insertInto("kv")
        .values(row)
        .onConflict((oc) =>
          oc.columns(["part", "ns", "key"]).doUpdateSet((eb) => ({
            value: row.value,
            version: eb("kv.version", "+", 1),
            updated_at: row.updated_at,
          })),
        )
        .returningAll()
        .executeTakeFirst();
    } else if (expected === 0) {
      r = await this.db
        .insertInto("kv")
        .values(row)
        .onConflict((oc) => oc.columns(["part", "ns", "key"]).doNothing())
        .returningAll()
        .executeTakeFirst();
    } else {
      r = await this.db
        .updateTable("kv")
        .set((eb) => ({
          value: row.value,
          version: eb("version", "+", 1),
          updated_at: row.updated_at,
        }))
        .where("part", "=", this.part)
        .where("ns", "=", row.ns)
        .where("key", "=", row.key)
        .where("version", "=", expected)
        .returningAll()
        .executeTakeFirst();
    }
    if (!r) {
      throw new StoreError(
        "VERSION_CONFLICT",
        `${row.ns}/${row.key} is not at version ${expected}`,
      );
    }
    return toEntry(r);
  }

  async delete(ns: string, key: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom("kv")
      .where("part", "=", this.part)
      .where("ns", "=", id(ns, "ns", 64))
      .where("key", "=", id(key, "key", 256))
      .executeTakeFirst();
    return num(r.numDeletedRows) > 0;
  }

  async list(ns: string, page: Page & { prefix?: string } = {}): Promise<KvEntry[]> {
    let q = this.db
      .selectFrom("kv")
      .selectAll()
      .where("part", "=", this.part)
      .where("ns", "=", id(ns, "ns", 64));
    if (page.prefix !== undefined) {
      const p = id(page.prefix, "prefix", 256);
      // substr, not LIKE: SQLite's LIKE ignores ASCII case and both treat _ and % specially.
      q = q.where((eb) => eb(eb.fn("substr", ["key", eb.val(1), eb.val(p.length)]), "=", p));
    }
    if (page.after !== undefined) q = q.where("key", ">", id(page.after, "after", 256));
    const rows = await q.orderBy("key").limit(limitOf(page.limit)).execute();
    return rows.map(toEntry);
  }
}
