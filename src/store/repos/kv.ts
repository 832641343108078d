import { randomFillSync } from "node:crypto";
import { canonicalJson, parseJson } from "../canonical.js";
import type { Ctx } from "../context.js";
import { isStoreError, StoreError } from "../errors.js";
import { prepared } from "../prepared.js";
import type { KvTable } from "../schema.js";
import type { JsonValue, KvChange, KvEntry, KvRepo, KvVersion, Page } from "../types.js";
import { count, id, limitOf } from "../validate.js";
import { Repo } from "./base.js";

const MAX_VALUE = 256 * 1024;

/**
 * Attempts of `modify` by default: the rows it serves have a handful of writers at most (a DM
 * session's two nonce saves, a carrier's update racing its sync), so more conflicts than this
 * mean something keeps rewriting the row and waiting longer would not help.
 */
const MODIFY_ATTEMPTS = 5;
const MAX_MODIFY_ATTEMPTS = 100;

/**
 * The version a new row starts at: 52 random bits, plus one. Versions must never repeat for a
 * key, or `put(…, { expectedVersion })` (and so `modify`) could match a row deleted and made
 * again since it was read, and overwrite it (ABA). Random, because every other source fails on
 * one of the backends or deployments: a counter per store needs a sequence on PostgreSQL and a
 * counter row on SQLite, a migration, and (the row) serialises every create until commit; the
 * store's clock is frozen in tests and may step back, and two servers on one PostgreSQL do not
 * share one. With a random start, a stale writer holding version v of an earlier incarnation
 * matches the new one only if the new start landed within the updates made since, that is with
 * a chance of about (updates + 1) / 2^52. Starting below 2^52 leaves 2^52 updates before a
 * version leaves JavaScript's safe integers (both backends store 64 bits); never 0, which
 * `expectedVersion` takes to mean "absent".
 */
const random = new Uint32Array(2);
function firstVersion(): number {
  randomFillSync(random);
  return (random[0]! & 0xfffff) * 2 ** 32 + random[1]! + 1;
}

const GET = prepared(3, (db, part: string, ns: string, key: string) =>
  db
    .selectFrom("kv")
    .selectAll()
    .where("part", "=", part)
    .where("ns", "=", ns)
    .where("key", "=", key),
);

const UPSERT = prepared(
  6,
  (db, part: string, ns: string, key: string, value: string, at: number, first: number) =>
    db
      .insertInto("kv")
      .values({ part, ns, key, value, version: first, updated_at: at })
      .onConflict((oc) =>
        oc.columns(["part", "ns", "key"]).doUpdateSet((eb) => ({
          value,
          version: eb("kv.version", "+", 1),
          updated_at: at,
        })),
      )
      .returningAll(),
);

const CREATE = prepared(
  6,
  (db, part: string, ns: string, key: string, value: string, at: number, first: number) =>
    db
      .insertInto("kv")
      .values({ part, ns, key, value, version: first, updated_at: at })
      .onConflict((oc) => oc.columns(["part", "ns", "key"]).doNothing())
      .returningAll(),
);

const SWAP = prepared(
  6,
  (db, part: string, ns: string, key: string, value: string, at: number, expected: number) =>
    db
      .updateTable("kv")
      .set((eb) => ({ value, version: eb("version", "+", 1), updated_at: at }))
      .where("part", "=", part)
      .where("ns", "=", ns)
      .where("key", "=", key)
      .where("version", "=", expected)
      .returningAll(),
);

const DELETE = prepared(3, (db, part: string, ns: string, key: string) =>
  db.deleteFrom("kv").where("part", "=", part).where("ns", "=", ns).where("key", "=", key),
);

/**
 * A page of a namespace without a prefix, as a queue's delivery loop lists it several times a
 * second under load: prepared, so that on SQLite it joins the open commit group instead of
 * committing it first as a query through kysely does. The first page is the one after "" (keys
 * are never empty).
 */
/** A namespace's keys after `after`, in order: the shape both prepared pages share. */
function unprefixedPage(db: Ctx["exec"], part: string, ns: string, after: string, limit: number) {
  return db
    .selectFrom("kv")
    .where("part", "=", part)
    .where("ns", "=", ns)
    .where("key", ">", after)
    .orderBy("key")
    .limit(limit);
}

const PAGE = prepared(4, (db, part: string, ns: string, after: string, limit: number) =>
  unprefixedPage(db, part, ns, after, limit).selectAll(),
);

const PAGE_VERSIONS = prepared(4, (db, part: string, ns: string, after: string, limit: number) =>
  unprefixedPage(db, part, ns, after, limit).select(["key", "version", "updated_at"]),
);

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
    const r = await GET.first(this.ctx, this.part, id(ns, "ns", 64), id(key, "key", 256));
    return r ? toEntry(r) : null;
  }

  async put(
    ns: string,
    key: string,
    value: JsonValue,
    opts: { expectedVersion?: number; now?: number } = {},
  ): Promise<KvEntry> {
    const nsId = id(ns, "ns", 64);
    const keyId = id(key, "key", 256);
    const json = canonicalJson(value, "value");
    if (json.length > MAX_VALUE) {
      throw new StoreError("ARGUMENT_INVALID", `value exceeds ${MAX_VALUE} bytes`, {
        field: "value",
      });
    }
    const expected =
      opts.expectedVersion === undefined
        ? undefined
        : count(opts.expectedVersion, "expectedVersion");
    const args = [this.part, nsId, keyId, json, this.time(opts.now)] as const;
    // Only a create or an upsert may start a row, so only they draw its first version.
    const r =
      expected === undefined
        ? await UPSERT.first(this.ctx, ...args, firstVersion())
        : expected === 0
          ? await CREATE.first(this.ctx, ...args, firstVersion())
          : await SWAP.first(this.ctx, ...args, expected);
    if (!r) {
      throw new StoreError("VERSION_CONFLICT", `${nsId}/${keyId} is not at version ${expected}`);
    }
    return toEntry(r);
  }

  async modify(
    ns: string,
    key: string,
    change: KvChange,
    opts: { now?: number; attempts?: number } = {},
  ): Promise<KvEntry | null> {
    id(ns, "ns", 64);
    id(key, "key", 256);
    if (opts.now !== undefined) count(opts.now, "now");
    const attempts = opts.attempts ?? MODIFY_ATTEMPTS;
    if (!Number.isSafeInteger(attempts) || attempts < 1 || attempts > MAX_MODIFY_ATTEMPTS) {
      throw new StoreError(
        "ARGUMENT_INVALID",
        `attempts must be an integer from 1 to ${MAX_MODIFY_ATTEMPTS}`,
        { field: "attempts" },
      );
    }
    for (let attempt = 1; ; attempt++) {
      const current = await this.get(ns, key);
      const value = await change(current);
      if (value === undefined) return current;
      try {
        return await this.put(ns, key, value, {
          // 0 when absent: create only if nobody created it meanwhile.
          expectedVersion: current?.version ?? 0,
          ...(opts.now === undefined ? {} : { now: opts.now }),
        });
      } catch (err) {
        if (!isStoreError(err, "VERSION_CONFLICT")) throw err;
        if (attempt >= attempts) {
          throw new StoreError(
            "VERSION_CONFLICT",
            `${ns}/${key} kept changing under modify; gave up after ${attempts} attempts`,
            { cause: err },
          );
        }
      }
    }
  }

  async delete(ns: string, key: string): Promise<boolean> {
    return (await DELETE.affected(this.ctx, this.part, id(ns, "ns", 64), id(key, "key", 256))) > 0;
  }

  async list(ns: string, page: Page & { prefix?: string } = {}): Promise<KvEntry[]> {
    const rows =
      page.prefix === undefined
        ? (await PAGE.execute(this.ctx, this.part, ...this.#unprefixed(ns, page))).rows
        : await this.#page(ns, page).selectAll().execute();
    return rows.map(toEntry);
  }

  async versions(ns: string, page: Page & { prefix?: string } = {}): Promise<KvVersion[]> {
    const rows =
      page.prefix === undefined
        ? (await PAGE_VERSIONS.execute(this.ctx, this.part, ...this.#unprefixed(ns, page))).rows
        : await this.#page(ns, page).select(["key", "version", "updated_at"]).execute();
    return rows.map((r) => ({ key: r.key, version: r.version, updatedAt: r.updated_at }));
  }

  /** The arguments of PAGE and PAGE_VERSIONS after the part, checked as #page checks them. */
  #unprefixed(ns: string, page: Page): [string, string, number] {
    const nsId = id(ns, "ns", 64);
    const after = page.after === undefined ? "" : id(page.after, "after", 256);
    return [nsId, after, limitOf(page.limit)];
  }

  #page(ns: string, page: Page & { prefix?: string }) {
    let q = this.db
      .selectFrom("kv")
      .where("part", "=", this.part)
      .where("ns", "=", id(ns, "ns", 64));
    if (page.prefix !== undefined) {
      const p = id(page.prefix, "prefix", 256);
      // substr, not LIKE: SQLite's LIKE ignores ASCII case and both treat _ and % specially.
      q = q.where((eb) => eb(eb.fn("substr", ["key", eb.val(1), eb.val(p.length)]), "=", p));
    }
    if (page.after !== undefined) q = q.where("key", ">", id(page.after, "after", 256));
    return q.orderBy("key").limit(limitOf(page.limit));
  }
}
