import type { PlatformContext } from "../context.js";
import { isPlatformError, PlatformError } from "../errors.js";
import type { CustodyRecord, CustodyStatus } from "./records.js";
import { modifyRecord } from "./records.js";

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

/** One event of a batch (`POST /platform/custody/{carrier}/events`), as the schema let it in. */
export interface CustodyEventItem {
  imei: string;
  event: CustodyEvent["event"];
  version?: number;
  activatedAt?: string;
}

/** A batch item's answer: the event's result, or why it was refused (it changed nothing). */
export type CustodyEventItemResult =
  | CustodyEventResult
  | { imei: string; error: { code: string; message: string } };

/** Events in one batch; the carrier sends at most one page of its outbox (256 rows). */
export const MAX_BATCH = 256;

/**
 * Devices of one batch applied at once: each event waits on the store and the keystore's
 * crypto, so one by one a batch would crawl while activations share the event loop; a bounded
 * number keeps its memory small.
 */
const BATCH_CONCURRENCY = 32;

const STATUS_OF = { blocked: "blocked", unblocked: "active", terminated: "terminated" } as const;

const iso = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();

/**
 * The next record, or null when the event changes nothing: a status event applies only with a
 * version above the record's (so a repeated or late event never undoes a newer one), and never
 * to a terminated record; an
 * activation date applies only when none is known or it is earlier (the first approval's).
 */
function next(rec: CustodyRecord, e: CustodyEvent, now: number): CustodyRecord | null {
  if (e.event === "activated") {
    const at = Date.parse(e.activatedAt);
    if (rec.activatedAt != null && rec.activatedAt <= at) return null;
    return { ...rec, activatedAt: at, updatedAt: now };
  }
  if (e.version <= (rec.syncVersion ?? 0)) return null;
  // Termination is final at the carrier too (its block and unblock refuse a terminated device):
  // a status event never brings a terminated record back into service.
  if (rec.status === "terminated") return null;
  return { ...rec, status: STATUS_OF[e.event], syncVersion: e.version, updatedAt: now };
}

/**
 * A validated body (or batch item) as an event: status events need a version, `activated` its
 * date (INVALID_REQUEST otherwise).
 */
export function parseCustodyEvent(body: unknown): CustodyEvent {
  const b = body as { event: CustodyEvent["event"]; version?: number; activatedAt?: string };
  if (b.event === "activated") {
    if (
      b.activatedAt === undefined ||
      b.version !== undefined ||
      Number.isNaN(Date.parse(b.activatedAt))
    )
      throw new PlatformError("INVALID_REQUEST", "activated takes activatedAt and no version");
    return { event: "activated", activatedAt: b.activatedAt };
  }
  if (b.version === undefined || b.activatedAt !== undefined)
    throw new PlatformError("INVALID_REQUEST", `${b.event} takes a version and no activatedAt`);
  return { event: b.event, version: b.version };
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
  tokenId: string | null = null,
): Promise<CustodyEventResult | null> {
  const now = ctx.now();
  // Decided against the record as written: another event or update of this device landing in
  // between makes the store re-read and this decide again, so none is undone.
  const { prior, next: rec } = await modifyRecord(ctx, carrierId, imei, (cur) =>
    cur ? (next(cur, e, now) ?? undefined) : undefined,
  );
  if (!prior) return null;
  const r = rec ?? prior;
  const result: CustodyEventResult = {
    imei,
    status: r.status,
    activatedAt: iso(r.activatedAt),
    version: r.syncVersion ?? 0,
    applied: rec !== undefined,
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
        tokenId,
      },
    },
    now,
  );
  return result;
}

/** One batch item: its result, or the refusal that event alone would have had as its answer. */
async function applyItem(
  ctx: PlatformContext,
  carrierId: string,
  item: CustodyEventItem,
  tokenId: string | null,
): Promise<CustodyEventItemResult> {
  try {
    const r = await applyCustodyEvent(ctx, carrierId, item.imei, parseCustodyEvent(item), tokenId);
    if (r) return r;
    throw new PlatformError("DEVICE_NOT_FOUND", "no such device in this carrier's custody");
  } catch (err) {
    // Only the refusals of this one event; a store failing fails the batch (the carrier retries).
    if (!isPlatformError(err)) throw err;
    return { imei: item.imei, error: { code: err.code, message: err.message } };
  }
}

/**
 * A batch of `carrierId`'s events (several devices, as its outbox holds them), each applied as
 * the single-event route applies it and answered in the batch's order. Events of one device
 * are applied in the batch's order, one after the other; devices concurrently.
 */
export async function applyCustodyEvents(
  ctx: PlatformContext,
  carrierId: string,
  items: readonly CustodyEventItem[],
  tokenId: string | null = null,
): Promise<CustodyEventItemResult[]> {
  const results: CustodyEventItemResult[] = new Array(items.length);
  const byDevice = new Map<string, number[]>();
  items.forEach((item, i) => {
    const list = byDevice.get(item.imei);
    if (list) list.push(i);
    else byDevice.set(item.imei, [i]);
  });
  const groups = [...byDevice.values()];
  let next = 0;
  // A store failure fails the batch; the other workers take no new device after it, and the
  // answer waits for what they are applying, so the carrier's retry never races this request.
  let failed = false;
  const worker = async () => {
    while (!failed && next < groups.length) {
      const group = groups[next++]!;
      try {
        for (const i of group) results[i] = await applyItem(ctx, carrierId, items[i]!, tokenId);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const settled = await Promise.allSettled(
    Array.from({ length: Math.min(BATCH_CONCURRENCY, groups.length) }, worker),
  );
  const failure = settled.find((s) => s.status === "rejected");
  if (failure) throw failure.reason;
  return results;
}
