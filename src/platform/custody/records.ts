import type { JsonObject, KvEntry } from "../../store/index.js";
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

/** Seals and stores `rec` in `carrierId`'s custody (replacing any earlier record of the IMEI). */
export async function putRecord(
  ctx: PlatformContext,
  carrierId: string,
  rec: CustodyRecord,
): Promise<void> {
  const keys = keysOf(ctx, carrierId);
  const rowId = await rowIdFor(keys, rec.imei);
  const sealed = await seal(keys, rec.imei, rowId, rec);
  await ctx.part.kv.put(custodyNs(carrierId), rowId, sealed as unknown as JsonObject, {
    now: ctx.now(),
  });
}

async function openRow(
  keys: ReturnType<typeof keysOf>,
  imei: string,
  rowId: string,
  e: KvEntry | null,
): Promise<CustodyRecord | null> {
  if (!e) return null;
  const rec = (await open(
    keys,
    imei,
    rowId,
    e.value as unknown as SealedRecord,
  )) as CustodyRecord | null;
  return rec && rec.imei === imei ? rec : null;
}

/**
 * Changes `imei`'s record without losing a concurrent writer's change (another request, another
 * server on the same database): `change` gets the record (null: none, or none that opens as
 * this IMEI's) and answers the next one, or undefined to write nothing. When the row was
 * written in between, it is read again and `change` asked again (the store's kv.modify), so
 * `change` must only decide. Answers what the attempt that counted saw and wrote.
 */
export async function modifyRecord(
  ctx: PlatformContext,
  carrierId: string,
  imei: string,
  change: (prior: CustodyRecord | null) => CustodyRecord | undefined,
): Promise<{ prior: CustodyRecord | null; next: CustodyRecord | undefined }> {
  const keys = keysOf(ctx, carrierId);
  const rowId = await rowIdFor(keys, imei);
  let prior: CustodyRecord | null = null;
  let next: CustodyRecord | undefined;
  await ctx.part.kv.modify(
    custodyNs(carrierId),
    rowId,
    async (e) => {
      prior = await openRow(keys, imei, rowId, e);
      next = change(prior);
      if (next === undefined) return undefined;
      if (next.imei !== imei) throw new TypeError("a custody record cannot change its IMEI");
      return (await seal(keys, imei, rowId, next)) as unknown as JsonObject;
    },
    { now: ctx.now() },
  );
  return { prior, next };
}

/** The record of `imei` in `carrierId`'s custody, or null. Only platform code calls this. */
export async function getRecord(
  ctx: PlatformContext,
  carrierId: string,
  imei: string,
): Promise<CustodyRecord | null> {
  const keys = keysOf(ctx, carrierId);
  const rowId = await rowIdFor(keys, imei);
  return openRow(keys, imei, rowId, await ctx.part.kv.get(custodyNs(carrierId), rowId));
}

/** Makes sure a carrier's custody secret exists (at registration). */
export async function ensureCustody(ctx: PlatformContext, carrierId: string): Promise<void> {
  await keysOf(ctx, carrierId).ensureSecretKey(CUSTODY_SECRET);
}
