import type { WrappedKey } from "../../keystore/index.js";
import type { JsonObject, PartStore } from "../../store/index.js";

/**
 * The new carrier's record of one device migrating to it, in kv `migrations/<IMEI>` of its own
 * store part. It holds the wrapped key as it was sent (opens only in that device's TSZ), so a
 * retry after a crash sends the very same key — never a second one. Never a key in clear.
 *
 * `pending` (approved, key made and wrapped) → `deposited` (the device's DM client answered 200
 * for the key: inventory and device rows written) → `complete` (profile applied, full access).
 * `failed`: the device refused the key (slots full, unwrap failure); nothing was provisioned.
 */
export type MigrationState = "pending" | "deposited" | "complete" | "failed";

export interface MigrationRow {
  imei: string;
  /** The carrier the device leaves (its slot proved the device). */
  from: string;
  state: MigrationState;
  kid: string;
  wrapped: WrappedKey;
  /** The same key wrapped to the platform's transport key, for this carrier's custody there. */
  custodyWrapped: WrappedKey | null;
  /** The TSZ's HPKE public key (base64url) the key is wrapped to. */
  hpke: string;
  attestationThumbprint: string;
  attestationKey: string;
  model: string;
  meid: string | null;
  esn: string | null;
  /** The device's migration evidence, shown to the old carrier as proof of the port-out. */
  evidence: string;
  verdictId: string | null;
  failure: string | null;
  /** A migration verdict was issued and its DM session (key, then profile) has not completed. */
  awaitingSession: boolean;
  custodyDeposited: boolean;
  sourceNotified: boolean;
  createdAt: number;
  updatedAt: number;
}

export const MIGRATIONS_NS = "migrations";

export async function getMigration(part: PartStore, imei: string): Promise<MigrationRow | null> {
  const e = await part.kv.get(MIGRATIONS_NS, imei);
  return e ? (e.value as unknown as MigrationRow) : null;
}

export async function putMigration(part: PartStore, row: MigrationRow, now: number): Promise<void> {
  await part.kv.put(MIGRATIONS_NS, row.imei, { ...row, updatedAt: now } as unknown as JsonObject, {
    now,
  });
}
