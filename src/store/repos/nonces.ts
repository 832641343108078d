import { StoreError } from "../errors.js";
import { prepared } from "../prepared.js";
import type { NoncesTable } from "../schema.js";
import { timeOrderedToken } from "../time-ordered.js";
import type { ConsumeResult, IssuedNonce, NoncesRepo } from "../types.js";
import { count, optId } from "../validate.js";
import { num, Repo } from "./base.js";

const ISSUE = prepared(
  5,
  (db, part: string, nonce: string, subject: string | null, issuedAt: number, expiresAt: number) =>
    db.insertInto("nonces").values({
      part,
      nonce,
      subject,
      issued_at: issuedAt,
      expires_at: expiresAt,
      consumed_at: null,
    }),
);

const CONSUME = prepared(3, (db, part: string, nonce: string, at: number) =>
  db
    .updateTable("nonces")
    .set({ consumed_at: at })
    .where("part", "=", part)
    .where("nonce", "=", nonce)
    .where("consumed_at", "is", null)
    .where("expires_at", ">", at)
    .returning(["nonce", "subject", "issued_at", "expires_at"]),
);

const SEEN = prepared(2, (db, part: string, nonce: string) =>
  db
    .selectFrom("nonces")
    .select(["consumed_at", "expires_at"])
    .where("part", "=", part)
    .where("nonce", "=", nonce),
);

/** Our nonces are 43 characters; anything longer than this was never issued. */
const MAX_NONCE = 128;

/** Untrusted input: anything we could not have issued is simply unknown. */
function issuable(nonce: unknown): nonce is string {
  return typeof nonce === "string" && nonce.length > 0 && nonce.length <= MAX_NONCE;
}
const MAX_TTL = 24 * 3600 * 1000;

function toIssued(r: Pick<NoncesTable, "nonce" | "subject" | "issued_at" | "expires_at">) {
  return { nonce: r.nonce, subject: r.subject, issuedAt: r.issued_at, expiresAt: r.expires_at };
}

export class Nonces extends Repo implements NoncesRepo {
  async issue(opts: {
    ttlMs: number;
    subject?: string | null;
    now?: number;
  }): Promise<IssuedNonce> {
    const ttl = count(opts.ttlMs, "ttlMs");
    if (ttl < 1 || ttl > MAX_TTL) {
      throw new StoreError("ARGUMENT_INVALID", `ttlMs must be 1 to ${MAX_TTL}`, { field: "ttlMs" });
    }
    const row: NoncesTable = {
      part: this.part,
      nonce: timeOrderedToken(),
      subject: optId(opts.subject, "subject", 128),
      issued_at: this.time(opts.now),
      expires_at: 0,
      consumed_at: null,
    };
    row.expires_at = row.issued_at + ttl;
    await ISSUE.execute(this.ctx, row.part, row.nonce, row.subject, row.issued_at, row.expires_at);
    return toIssued(row);
  }

  async consume(nonce: string, now?: number): Promise<ConsumeResult> {
    if (!issuable(nonce)) return { status: "unknown" };
    const t = this.time(now);
    // One statement decides: the first UPDATE to reach the row sets consumed_at; a concurrent
    // one waits for its row lock (PostgreSQL) or for the connection (SQLite) and then no
    // longer matches `consumed_at is null`.
    const won = await CONSUME.first(this.ctx, this.part, nonce, t);
    if (won) return { status: "ok", nonce: toIssued(won) };
    const seen = await SEEN.first(this.ctx, this.part, nonce);
    if (!seen) return { status: "unknown" };
    return { status: seen.consumed_at !== null ? "replayed" : "expired" };
  }

  async peek(nonce: string, now?: number): Promise<ConsumeResult["status"]> {
    if (!issuable(nonce)) return "unknown";
    const t = this.time(now);
    const seen = await SEEN.first(this.ctx, this.part, nonce);
    if (!seen) return "unknown";
    if (seen.consumed_at !== null) return "replayed";
    return seen.expires_at > t ? "ok" : "expired";
  }

  async sweep(now?: number, opts: { consumedOlderThanMs?: number } = {}): Promise<number> {
    const t = this.time(now);
    const expired = await this.db
      .deleteFrom("nonces")
      .where("part", "=", this.part)
      .where("expires_at", "<=", t)
      .executeTakeFirst();
    let n = num(expired.numDeletedRows);
    if (opts.consumedOlderThanMs !== undefined) {
      const cutoff = t - count(opts.consumedOlderThanMs, "consumedOlderThanMs");
      const used = await this.db
        .deleteFrom("nonces")
        .where("part", "=", this.part)
        .where("consumed_at", "is not", null)
        .where("consumed_at", "<=", cutoff)
        .executeTakeFirst();
      n += num(used.numDeletedRows);
    }
    return n;
  }

  async count(): Promise<number> {
    const r = await this.db
      .selectFrom("nonces")
      .select((eb) => eb.fn.countAll().as("n"))
      .where("part", "=", this.part)
      .executeTakeFirstOrThrow();
    return num(r.n);
  }
}
