import type { JsonObject } from "../../store/index.js";
import type { PlatformContext } from "../context.js";
import { CUSTODY_SECRET, open, rowIdFor, type SealedRecord, seal } from "./seal.js";

/** Status marks a carrier keeps on a device (as its inventory does). */
export type CustodyStatus = "active" | "blocked" | "terminated";

/** One device in a carrier's custody at the platform: identity and marks, never a key. */
export interface CustodyRecord {
  imei: string;
  meid: string | null;
  esn: string | null;
  model: string;
  /** The slot key's id; the key itself is in the keystore, under the carrier's KEK. */
  kid: string;
  /** SHA-256 of the attestation key's SPKI, base64url (EVIDENCE.md). */
  attestationThumbprint: string;
  /** Subsidy/contract end, `YYYY-MM-DD`, or null. */
  contractEnd: string | null;
  status: CustodyStatus;
  /**
   * When the carrier first approved the device (epoch ms), or null when it never has; for a
   * "N days after activation" subsidy policy. Absent in records sealed before it existed.
   */
  activatedAt?: number | null;
  /**
   * The highest carrier event version applied to this record (carrier → platform sync): an
   * event with a version at or below it is a repeat or arrived late and changes nothing.
   */
  syncVersion?: number;
  updatedAt: number;
}

/** The kv namespace of one carrier's sealed rows (in the platform part). */
export function custodyNs(carrierId: string): string {
  return `custody/${carrierId}`;
}

function keysOf(ctx: PlatformContext, carrierId: string) {
  return ctx.keystore.forOwner(`carrier:${carrierId}`);
}

/**
 * Seals and stores `rec` in `carrierId`'s custody (replacing any earlier record of the IMEI).
 * With `expectedVersion` (from getRecordEntry) the write happens only if nobody wrote the row
 * since it was read (the store's VERSION_CONFLICT otherwise).
 */
export async function putRecord(
  ctx: PlatformContext,
  carrierId: string,
  rec: CustodyRecord,
  expectedVersion?: number,
): Promise<void> {
  const keys = keysOf(ctx, carrierId);
  const rowId = await rowIdFor(keys, rec.imei);
  const sealed = await seal(keys, rec.imei, rowId, rec);
  await ctx.part.kv.put(custodyNs(carrierId), rowId, sealed as unknown as JsonObject, {
    now: ctx.now(),
    ...(expectedVersion === undefined ? {} : { expectedVersion }),
  });
}

/** The record of `imei` and its row's version (for a conditional putRecord), or null. */
export async function getRecordEntry(
  ctx: PlatformContext,
  carrierId: string,
  imei: string,
): Promise<{ record: CustodyRecord; rowVersion: number } | null> {
  const keys = keysOf(ctx, carrierId);
  const rowId = await rowIdFor(keys, imei);
  const e = await ctx.part.kv.get(custodyNs(carrierId), rowId);
  if (!e) return null;
  const rec = (await open(
    keys,
    imei,
    rowId,
    e.value as unknown as SealedRecord,
  )) as CustodyRecord | null;
  return rec && rec.imei === imei ? { record: rec, rowVersion: e.version } : null;
}

/** The record of `imei` in `carrierId`'s custody, or null. Only platform code calls this. */
export async function getRecord(
  ctx: PlatformContext,
  carrierId: string,
  imei: string,
): Promise<CustodyRecord | null> {
  return (await getRecordEntry(ctx, carrierId, imei))?.record ?? null;
}

/** Makes sure a carrier's custody secret exists (at registration). */
export async function ensureCustody(ctx: PlatformContext, carrierId: string): Promise<void> {
  await keysOf(ctx, carrierId).ensureSecretKey(CUSTODY_SECRET);
}
