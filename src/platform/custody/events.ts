import { isStoreError } from "../../store/index.js";
import type { PlatformContext } from "../context.js";
import type { CustodyRecord, CustodyStatus } from "./records.js";
import { getRecordEntry, putRecord } from "./records.js";

/**
 * A carrier's device event as its platform sync delivers it (src/carrier/README.md, "Platform
 * sync"). Status events carry the carrier's per-device version, which only grows; `activated`
 * carries the date of the first approval and no status.
 */
export type CustodyEvent =
  | { event: "blocked" | "unblocked" | "terminated"; version: number }
  | { event: "activated"; activatedAt: string };

export interface CustodyEventResult {
  imei: string;
  status: CustodyStatus;
  activatedAt: string | null;
  /** The highest status version the record has taken (0: none through sync yet). */
  version: number;
  /** False for a repeat, a late event, or an activation date no earlier than the known one. */
  applied: boolean;
}

const STATUS_OF = { blocked: "blocked", unblocked: "active", terminated: "terminated" } as const;

/** Concurrent writers of one record retry on the row's version this many times. */
const MAX_ATTEMPTS = 5;

const iso = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();

/**
 * The next record, or null when the event changes nothing: a status event applies only with a
 * version above the record's (so a repeated or late event never undoes a newer one); an
 * activation date applies only when none is known or it is earlier (the first approval's).
 */
function next(rec: CustodyRecord, e: CustodyEvent, now: number): CustodyRecord | null {
  if (e.event === "activated") {
    const at = Date.parse(e.activatedAt);
    if (rec.activatedAt != null && rec.activatedAt <= at) return null;
    return { ...rec, activatedAt: at, updatedAt: now };
  }
  if (e.version <= (rec.syncVersion ?? 0)) return null;
  return { ...rec, status: STATUS_OF[e.event], syncVersion: e.version, updatedAt: now };
}

/**
 * Applies one event to `carrierId`'s own record of `imei`; null when the carrier holds no such
 * record. Idempotent: delivering the same event twice, or an older one after a newer, answers
 * `applied: false` and writes nothing but the audit entry.
 */
export async function applyCustodyEvent(
  ctx: PlatformContext,
  carrierId: string,
  imei: string,
  e: CustodyEvent,
): Promise<CustodyEventResult | null> {
  for (let attempt = 1; ; attempt++) {
    const found = await getRecordEntry(ctx, carrierId, imei);
    if (!found) return null;
    const now = ctx.now();
    const rec = next(found.record, e, now);
    try {
      if (rec) await putRecord(ctx, carrierId, rec, found.rowVersion);
    } catch (err) {
      // Another event for this device was written in between: read it again and re-decide.
      if (isStoreError(err, "VERSION_CONFLICT") && attempt < MAX_ATTEMPTS) continue;
      throw err;
    }
    const r = rec ?? found.record;
    const result: CustodyEventResult = {
      imei,
      status: r.status,
      activatedAt: iso(r.activatedAt),
      version: r.syncVersion ?? 0,
      applied: rec !== null,
    };
    await ctx.part.audit.append(
      {
        actor: `carrier:${carrierId}`,
        action: "custody-event",
        subject: imei,
        details: {
          event: e.event,
          ...(e.event === "activated" ? { activatedAt: e.activatedAt } : { version: e.version }),
          applied: result.applied,
          status: result.status,
          activatedAt: result.activatedAt,
        },
      },
      now,
    );
    return result;
  }
}
