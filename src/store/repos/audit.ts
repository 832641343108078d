/**
 * The append-only, hash-chained audit log of one part.
 *
 * Entry n stores hash_n = SHA-256(canonical JSON of {v, part, ts, actor, action, subject,
 * details, prevHash: hash_(n-1)}) with hash_0 = 64 zeros (canonical JSON: see canonical.ts).
 * The chain itself fixes each entry's position (and `part` its owner), so `seq` is an index
 * the verifier checks for gaps rather than hashed content: that is what lets `verify` tell an
 * edit (the entry no longer matches its hash) from a reordering (intact entries, linked out of
 * order) and a removal (a gap, or a link to an entry no longer there). A head row per part (`audit_head`: last seq and hash) is the lock that
 * serialises appends — `SELECT … FOR UPDATE` on PostgreSQL, the file's write lock
 * (`BEGIN IMMEDIATE`) on SQLite — and lets `verify` notice a truncated tail.
 *
 * What this proves: an edit, deletion or reordering by someone who did not also recompute
 * every later hash and the head. Resisting an attacker who rewrites the whole chain needs the
 * head anchored outside the database (signed by the keystore, or copied elsewhere).
 */
import { canonicalJson, sha256Hex } from "../canonical.js";
import type { Ctx } from "../context.js";
import { inTransaction } from "../context.js";
import { StoreError } from "../errors.js";
import { argsOf, prepared, rowOf } from "../prepared.js";
import type { AuditLogTable } from "../schema.js";
import type { AuditEntry, AuditInput, AuditRepo, AuditVerification, JsonObject } from "../types.js";
import { count, limitOf, optText, text } from "../validate.js";
import { Repo } from "./base.js";

export const GENESIS = "0".repeat(64);
const MAX_DETAILS = 16 * 1024;
const PAGE = 1000;

const HEAD = prepared(1, (db, part: string) =>
  db.selectFrom("audit_head").select(["seq", "hash"]).where("part", "=", part),
);
const HEAD_FOR_UPDATE = prepared(1, (db, part: string) =>
  db.selectFrom("audit_head").select(["seq", "hash"]).where("part", "=", part).forUpdate(),
);

const COLUMNS = [
  "part",
  "seq",
  "ts",
  "actor",
  "action",
  "subject",
  "details",
  "prev_hash",
  "hash",
] as const satisfies readonly (keyof AuditLogTable)[];

const INSERT = prepared(COLUMNS.length, (db, ...v: unknown[]) =>
  db.insertInto("audit_log").values(rowOf<AuditLogTable>(COLUMNS, v)),
);

const MOVE_HEAD = prepared(4, (db, part: string, seq: number, hash: string, at: number) =>
  db.updateTable("audit_head").set({ seq, hash, updated_at: at }).where("part", "=", part),
);

/** Field names that mark a value as secret; refused anywhere in `details`. */
const SECRET_NAMES =
  /^(secret|secrets|password|passwd|passphrase|pin|puk|key|keys|privatekey|private_key|secretkey|secret_key|keymaterial|key_material|token|accesstoken|access_token|refreshtoken|seed|credential|credentials|masterkey|master_key)$/i;

function findSecret(value: unknown, path: string): string | null {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = findSecret(value[i], `${path}[${i}]`);
      if (hit) return hit;
    }
  } else if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (SECRET_NAMES.test(k)) return `${path}.${k}`;
      const hit = findSecret(v, `${path}.${k}`);
      if (hit) return hit;
    }
  }
  return null;
}

/**
 * hash_n of an entry as stored: its details canonicalised again first, so that a row whose
 * details were rewritten (even to equal JSON in another form) no longer matches.
 */
export function auditHash(e: Omit<AuditLogTable, "hash" | "seq">): string {
  let details: string;
  try {
    details = canonicalJson(JSON.parse(e.details), "details");
  } catch {
    return ""; // not (canonical-able) JSON any more: matches no hash
  }
  return entryHash({ ...e, details });
}

/**
 * hash_n of an entry whose `details` is canonical JSON already (as append makes it): the
 * canonical JSON of the envelope, keys in their sorted order, written around it.
 */
function entryHash(e: Omit<AuditLogTable, "hash" | "seq">): string {
  const j = JSON.stringify;
  const subject = e.subject === null ? "null" : j(e.subject);
  return sha256Hex(
    `{"action":${j(e.action)},"actor":${j(e.actor)},"details":${e.details},"part":${j(e.part)},` +
      `"prevHash":${j(e.prev_hash)},"subject":${subject},"ts":${j(e.ts)},"v":1}`,
  );
}

function toEntry(r: AuditLogTable): AuditEntry {
  return {
    part: r.part,
    seq: r.seq,
    ts: r.ts,
    actor: r.actor,
    action: r.action,
    subject: r.subject,
    details: JSON.parse(r.details) as JsonObject,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

export class Audit extends Repo implements AuditRepo {
  async append(input: AuditInput, now?: number): Promise<AuditEntry> {
    if (typeof input !== "object" || input === null) {
      throw new StoreError("ARGUMENT_INVALID", "audit entry must be an object");
    }
    const actor = text(input.actor, "actor", 256);
    const action = text(input.action, "action", 128);
    const subject = optText(input.subject, "subject", 256);
    const raw = input.details ?? {};
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      throw new StoreError("ARGUMENT_INVALID", "details must be a JSON object", {
        field: "details",
      });
    }
    const secret = findSecret(raw, "details");
    if (secret) {
      throw new StoreError("SECRET_IN_AUDIT", `${secret} looks like a secret; log a reference`, {
        field: secret,
      });
    }
    const details = canonicalJson(raw, "details");
    if (details.length > MAX_DETAILS) {
      throw new StoreError("ARGUMENT_INVALID", `details exceed ${MAX_DETAILS} bytes`, {
        field: "details",
      });
    }
    const ts = this.time(now);
    return inTransaction(this.ctx, (c) =>
      this.appendLocked(c, { actor, action, subject, details, ts }),
    );
  }

  private async appendLocked(
    c: Ctx,
    e: { actor: string; action: string; subject: string | null; details: string; ts: number },
  ): Promise<AuditEntry> {
    const db = c.exec;
    const lockHead = () => (c.backend.rowLocks ? HEAD_FOR_UPDATE : HEAD).first(c, this.part);
    let head = await lockHead();
    if (head === undefined) {
      // The part's first entry: create the head (a racing first append waits on it), lock it.
      await db
        .insertInto("audit_head")
        .values({ part: this.part, seq: 0, hash: GENESIS, updated_at: e.ts })
        .onConflict((oc) => oc.column("part").doNothing())
        .execute();
      head = await lockHead();
      if (head === undefined) throw new Error("audit head vanished");
    }
    const row: AuditLogTable = {
      part: this.part,
      seq: head.seq + 1,
      ts: e.ts,
      actor: e.actor,
      action: e.action,
      subject: e.subject,
      details: e.details,
      prev_hash: head.hash,
      hash: "",
    };
    row.hash = entryHash(row);
    await INSERT.execute(c, ...argsOf(row, COLUMNS));
    await MOVE_HEAD.execute(c, this.part, row.seq, row.hash, e.ts);
    return toEntry(row);
  }

  async list(opts: { afterSeq?: number; limit?: number } = {}): Promise<AuditEntry[]> {
    const rows = await this.db
      .selectFrom("audit_log")
      .selectAll()
      .where("part", "=", this.part)
      .where("seq", ">", count(opts.afterSeq ?? 0, "afterSeq"))
      .orderBy("seq")
      .limit(limitOf(opts.limit))
      .execute();
    return rows.map(toEntry);
  }

  async head(): Promise<{ seq: number; hash: string }> {
    const r = await this.db
      .selectFrom("audit_head")
      .select(["seq", "hash"])
      .where("part", "=", this.part)
      .executeTakeFirst();
    return r ?? { seq: 0, hash: GENESIS };
  }

  async verify(): Promise<AuditVerification> {
    // The head first: entries appended while we walk lie beyond it and are checked by the
    // chain alone, so a concurrent append never looks like tampering.
    const head = await this.db
      .selectFrom("audit_head")
      .select(["seq", "hash"])
      .where("part", "=", this.part)
      .executeTakeFirst();
    let expectedSeq = 1;
    let prev = GENESIS;
    let entries = 0;
    let headHashSeen: string | null = null;
    const bad = (firstBadSeq: number, problem: "altered" | "removed" | "reordered") =>
      ({ ok: false, entries, firstBadSeq, problem }) as const;
    for (;;) {
      const rows = await this.db
        .selectFrom("audit_log")
        .selectAll()
        .where("part", "=", this.part)
        .where("seq", ">=", expectedSeq)
        .orderBy("seq")
        .limit(PAGE)
        .execute();
      for (const r of rows) {
        if (r.seq !== expectedSeq) return bad(expectedSeq, "removed");
        if (auditHash(r) !== r.hash) return bad(r.seq, "altered");
        if (r.prev_hash !== prev) {
          // Intact in itself but not linked to its predecessor: the entry it follows is
          // elsewhere in the log (reordered) or no longer in it (removed, then renumbered).
          return (await this.seqOfHash(r.prev_hash)) !== null
            ? bad(r.seq, "reordered")
            : bad(r.seq, "removed");
        }
        if (head && r.seq === head.seq) headHashSeen = r.hash;
        prev = r.hash;
        expectedSeq = r.seq + 1;
        entries++;
      }
      if (rows.length < PAGE) break;
    }
    if (head) {
      if (entries < head.seq) return bad(entries + 1, "removed");
      if (head.seq > 0 && headHashSeen !== head.hash) return bad(head.seq, "altered");
    } else if (entries > 0) {
      // Entries without a head: the head row was deleted; we cannot tell what followed.
      return bad(entries + 1, "removed");
    }
    return { ok: true, entries, head: prev };
  }

  private async seqOfHash(hash: string): Promise<number | null> {
    if (hash === GENESIS) return 0;
    const r = await this.db
      .selectFrom("audit_log")
      .select("seq")
      .where("part", "=", this.part)
      .where("hash", "=", hash)
      .executeTakeFirst();
    return r ? r.seq : null;
  }
}
