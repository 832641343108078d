import { canonicalJson } from "../canonical.js";
import { StoreError } from "../errors.js";
import { argsOf, prepared, rowOf } from "../prepared.js";
import type { VerdictsTable } from "../schema.js";
import { uuidV7 } from "../time-ordered.js";
import type { Verdict, VerdictInput, VerdictRecord, VerdictsRepo } from "../types.js";
import { id, limitOf, list, oneOf, optText } from "../validate.js";
import { num, Repo } from "./base.js";

const VERDICTS: readonly Verdict[] = ["approved", "denied"];

const COLUMNS = [
  "id",
  "part",
  "nonce",
  "imei",
  "verdict",
  "reasons",
  "evidence_hash",
  "signed",
  "created_at",
] as const satisfies readonly (keyof VerdictsTable)[];

const RECORD = prepared(COLUMNS.length, (db, ...v: unknown[]) =>
  db
    .insertInto("verdicts")
    .values(rowOf<VerdictsTable>(COLUMNS, v))
    .onConflict((oc) => oc.columns(["part", "nonce"]).doNothing())
    .returningAll(),
);

function toRecord(r: VerdictsTable): VerdictRecord {
  return {
    id: r.id,
    part: r.part,
    nonce: r.nonce,
    imei: r.imei,
    verdict: r.verdict as Verdict,
    reasons: JSON.parse(r.reasons) as string[],
    evidenceHash: r.evidence_hash,
    signed: r.signed,
    createdAt: r.created_at,
  };
}

export class Verdicts extends Repo implements VerdictsRepo {
  async record(
    input: VerdictInput,
    now?: number,
  ): Promise<{ created: boolean; verdict: VerdictRecord }> {
    if (typeof input !== "object" || input === null) {
      throw new StoreError("ARGUMENT_INVALID", "verdict must be an object");
    }
    const row: VerdictsTable = {
      id: input.id === undefined ? uuidV7() : id(input.id, "id", 128),
      part: this.part,
      nonce: id(input.nonce, "nonce", 128),
      imei: id(input.imei, "imei", 32),
      verdict: oneOf(input.verdict, "verdict", VERDICTS),
      reasons: canonicalJson(list(input.reasons, "reasons", 64, 64), "reasons"),
      evidence_hash: id(input.evidenceHash, "evidenceHash", 256),
      signed: optText(input.signed, "signed", 64 * 1024),
      created_at: this.time(now),
    };
    // The unique (part, nonce) constraint makes the second writer a no-op, even when two
    // retries race; then both read the one row that won.
    const inserted = await RECORD.first(this.ctx, ...argsOf(row, COLUMNS)).catch((err: unknown) => {
      if (!this.ctx.backend.isUniqueViolation(err)) throw err;
      throw new StoreError("ALREADY_EXISTS", "verdict id is already used", {
        field: "id",
        cause: err,
      });
    });
    if (inserted) return { created: true, verdict: toRecord(inserted) };
    const first = await this.byNonce(row.nonce);
    if (!first) throw new StoreError("ALREADY_EXISTS", "verdict id is already used");
    return { created: false, verdict: first };
  }

  async get(verdictId: string): Promise<VerdictRecord | null> {
    const r = await this.db
      .selectFrom("verdicts")
      .selectAll()
      .where("part", "=", this.part)
      .where("id", "=", id(verdictId, "id", 128))
      .executeTakeFirst();
    return r ? toRecord(r) : null;
  }

  async byNonce(nonce: string): Promise<VerdictRecord | null> {
    const r = await this.db
      .selectFrom("verdicts")
      .selectAll()
      .where("part", "=", this.part)
      .where("nonce", "=", id(nonce, "nonce", 128))
      .executeTakeFirst();
    return r ? toRecord(r) : null;
  }

  async forImei(imei: string, limit?: number): Promise<VerdictRecord[]> {
    const rows = await this.db
      .selectFrom("verdicts")
      .selectAll()
      .where("part", "=", this.part)
      .where("imei", "=", id(imei, "imei", 32))
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .limit(limitOf(limit, 20))
      .execute();
    return rows.map(toRecord);
  }

  async oldestForImei(imei: string, verdict: Verdict): Promise<VerdictRecord | null> {
    // The (part, imei, created_at) index yields the IMEI's rows oldest first: the scan stops at
    // the first match instead of reading every verdict the device ever had.
    const r = await this.db
      .selectFrom("verdicts")
      .selectAll()
      .where("part", "=", this.part)
      .where("imei", "=", id(imei, "imei", 32))
      .where("verdict", "=", oneOf(verdict, "verdict", VERDICTS))
      .orderBy("created_at", "asc")
      .orderBy("id", "asc")
      .limit(1)
      .executeTakeFirst();
    return r ? toRecord(r) : null;
  }

  async count(verdict?: Verdict): Promise<number> {
    let q = this.db
      .selectFrom("verdicts")
      .select((eb) => eb.fn.countAll().as("n"))
      .where("part", "=", this.part);
    if (verdict !== undefined) q = q.where("verdict", "=", oneOf(verdict, "verdict", VERDICTS));
    return num((await q.executeTakeFirstOrThrow()).n);
  }
}
