/**
 * Bearer tokens, stored as SHA-256 digests only: a 256-bit random token needs no slow hash,
 * and a database dump yields nothing presentable. Lookup is by digest through a unique index.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { canonicalJson } from "../canonical.js";
import { StoreError } from "../errors.js";
import { prepared } from "../prepared.js";
import type { TokensTable } from "../schema.js";
import type { Page, TokenCheck, TokenRecord, TokensRepo } from "../types.js";
import { count, id, limitOf, list, optText } from "../validate.js";
import { num, Repo } from "./base.js";

const BY_HASH = prepared(2, (db, part: string, hash: string) =>
  db.selectFrom("tokens").selectAll().where("part", "=", part).where("hash", "=", hash),
);

const MAX_TOKEN = 256;

export function tokenDigest(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

function toRecord(r: TokensTable): TokenRecord {
  return {
    part: r.part,
    id: r.id,
    holders: JSON.parse(r.holders) as string[],
    scopes: JSON.parse(r.scopes) as string[],
    label: r.label,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
  };
}

export class Tokens extends Repo implements TokensRepo {
  async issue(
    opts: {
      holders: readonly string[];
      scopes: readonly string[];
      ttlMs?: number | null;
      label?: string | null;
      id?: string;
    },
    now?: number,
  ): Promise<{ token: string; record: TokenRecord }> {
    const t = this.time(now);
    const holders = list(opts.holders, "holders", 256, 128);
    if (holders.length === 0) {
      throw new StoreError("ARGUMENT_INVALID", "holders must name at least one holder", {
        field: "holders",
      });
    }
    const token = `dmg_${randomBytes(32).toString("base64url")}`;
    const ttl = opts.ttlMs === undefined || opts.ttlMs === null ? null : count(opts.ttlMs, "ttlMs");
    const row: TokensTable = {
      part: this.part,
      id: opts.id === undefined ? randomUUID() : id(opts.id, "id", 128),
      hash: tokenDigest(token),
      holders: canonicalJson(holders),
      scopes: canonicalJson(list(opts.scopes, "scopes", 64, 128)),
      label: optText(opts.label, "label", 256),
      created_at: t,
      expires_at: ttl === null ? null : t + ttl,
      revoked_at: null,
    };
    try {
      await this.db.insertInto("tokens").values(row).execute();
    } catch (err) {
      if (!this.ctx.backend.isUniqueViolation(err)) throw err;
      throw new StoreError("ALREADY_EXISTS", "token id is already used", {
        field: "id",
        cause: err,
      });
    }
    return { token, record: toRecord(row) };
  }

  async check(token: string, now?: number): Promise<TokenCheck> {
    if (typeof token !== "string" || token.length === 0 || token.length > MAX_TOKEN) {
      return { status: "unknown" };
    }
    const t = this.time(now);
    const r = await BY_HASH.first(this.ctx, this.part, tokenDigest(token));
    if (!r) return { status: "unknown" };
    if (r.revoked_at !== null && r.revoked_at <= t) return { status: "revoked" };
    if (r.expires_at !== null && r.expires_at <= t) return { status: "expired" };
    return { status: "ok", token: toRecord(r) };
  }

  async revoke(tokenId: string, now?: number): Promise<boolean> {
    const r = await this.db
      .updateTable("tokens")
      .set({ revoked_at: this.time(now) })
      .where("part", "=", this.part)
      .where("id", "=", id(tokenId, "id", 128))
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    return num(r.numUpdatedRows) > 0;
  }

  async get(tokenId: string): Promise<TokenRecord | null> {
    const r = await this.db
      .selectFrom("tokens")
      .selectAll()
      .where("part", "=", this.part)
      .where("id", "=", id(tokenId, "id", 128))
      .executeTakeFirst();
    return r ? toRecord(r) : null;
  }

  async list(page: Page = {}): Promise<TokenRecord[]> {
    let q = this.db.selectFrom("tokens").selectAll().where("part", "=", this.part);
    if (page.after !== undefined) q = q.where("id", ">", id(page.after, "after", 128));
    const rows = await q.orderBy("id").limit(limitOf(page.limit)).execute();
    return rows.map(toRecord);
  }
}
