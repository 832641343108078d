import type { JsonObject, KvEntry, PartStore } from "../../store/index.js";

/**
 * The carrier's outbox of device events for the platform (src/carrier/README.md, "Platform
 * sync"), in its own store part (kv):
 *
 *   platform-sync/version    IMEI → { version }   the device's last status event version
 *   platform-sync/activated  IMEI → { at }        its first approval was queued (once)
 *   platform-sync/outbox     "IMEI/status" | "IMEI/activated" → OutboxRow, until delivered
 *
 * A status event is written in the transaction that changes the carrier's inventory status, so
 * it exists if and only if the change committed. One row per device and kind: a newer status
 * replaces an undelivered older one (the platform needs the latest, and the version tells it
 * whether what it holds is newer).
 */
export const VERSION_NS = "platform-sync/version";
export const ACTIVATED_NS = "platform-sync/activated";
export const OUTBOX_NS = "platform-sync/outbox";

export type StatusEvent = "blocked" | "unblocked" | "terminated";

export interface OutboxRow {
  imei: string;
  /** `migration-…`: a row of the migration queue (src/carrier/migration/finish.ts). */
  event: StatusEvent | "activated" | `migration-${string}`;
  /** Migration rows: the key the migration deposited (a newer migration's rows replace them). */
  kid?: string;
  /** Status events: the device's event version (only grows). */
  version?: number;
  /** `activated`: the first approval's time, ISO 8601 UTC. */
  activatedAt?: string;
  attempts: number;
  /** Not before this time (epoch ms, wall clock) is the next delivery tried. */
  dueAt: number;
  lastError?: string;
}

export function rowOf(e: KvEntry): OutboxRow {
  return e.value as unknown as OutboxRow;
}

/**
 * Queues a status event inside `tx` (the transaction that changed the status) and returns its
 * version. The version row is written conditionally, so two writers can never hand out one
 * version twice (the second fails its transaction instead).
 */
export async function queueStatusEvent(
  tx: PartStore,
  imei: string,
  event: StatusEvent,
  now: number,
  wallNow: number,
): Promise<number> {
  const had = await tx.kv.get(VERSION_NS, imei);
  const version = ((had?.value as { version?: number } | undefined)?.version ?? 0) + 1;
  await tx.kv.put(VERSION_NS, imei, { version }, { expectedVersion: had?.version ?? 0, now });
  const row: OutboxRow = { imei, event, version, attempts: 0, dueAt: wallNow };
  await tx.kv.put(OUTBOX_NS, `${imei}/status`, row as unknown as JsonObject, { now });
  return version;
}

/**
 * Inside the transaction that approved the device: queues its first approval (once per device;
 * later approvals queue nothing), so the activation date is committed with the verdict or not at
 * all. Returns false when it was queued before. Two first approvals racing on PostgreSQL may both
 * queue one: harmless, since the platform keeps the earliest date.
 */
export async function queueActivatedEvent(
  tx: PartStore,
  imei: string,
  at: number,
  wallNow: number,
): Promise<boolean> {
  if (await tx.kv.get(ACTIVATED_NS, imei)) return false;
  const activatedAt = new Date(at).toISOString();
  await tx.kv.put(ACTIVATED_NS, imei, { at: activatedAt }, { now: at });
  const row: OutboxRow = { imei, event: "activated", activatedAt, attempts: 0, dueAt: wallNow };
  await tx.kv.put(OUTBOX_NS, `${imei}/activated`, row as unknown as JsonObject, { now: at });
  return true;
}
