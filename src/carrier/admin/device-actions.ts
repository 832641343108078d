import { crashPoint } from "../../fault/crash-point.js";
import type { InventoryStatus, JsonObject, PartStore } from "../../store/index.js";
import type { CarrierContext } from "../context.js";
import { DM_ACCOUNTS_NS } from "../dm/credentials.js";
import { CarrierError } from "../errors.js";
import { portOutOf } from "../migration/port-out.js";
import type { StatusEvent } from "../platform-sync/outbox.js";

/** What the admin API shows about one device: its inventory record, state, access, verdicts. */
export async function lookupDevice(ctx: CarrierContext, imei: string): Promise<JsonObject> {
  const [inv, dev, access, verdicts, portedOut] = await Promise.all([
    ctx.part.inventory.get(imei),
    ctx.part.devices.get(imei),
    ctx.part.access.get(imei),
    ctx.part.verdicts.forImei(imei, 5),
    portOutOf(ctx, imei),
  ]);
  if (!inv) throw new CarrierError("DEVICE_NOT_FOUND", "no device with this IMEI in the inventory");
  return {
    imei: inv.imei,
    meid: inv.meid,
    esn: inv.esn,
    model: inv.model,
    kid: inv.kid,
    attestationThumbprint: inv.attestationThumbprint,
    contractEnd: inv.contractEnd,
    userGroup: inv.userGroup,
    enterprise: inv.enterprise,
    status: inv.status,
    state: dev?.state ?? null,
    networkAccess: access?.access ?? null,
    profile: dev?.profile ?? null,
    // Migration: the carrier the device moved to (src/carrier/README.md "Migration"), or null.
    portedOutTo: portedOut?.to ?? null,
    verdicts: verdicts.map((v) => ({
      id: v.id,
      verdict: v.verdict,
      reasons: v.reasons,
      at: new Date(v.createdAt).toISOString(),
    })),
  };
}

/**
 * One status change in one transaction: the inventory mark, what goes with it, the audit entry
 * and, when the carrier syncs with the platform, the event in its outbox (so the platform's
 * custody copy learns of the change exactly when it commits; delivered afterwards).
 */
async function mark(
  ctx: CarrierContext,
  imei: string,
  status: InventoryStatus,
  action: StatusEvent,
  more: (tx: PartStore, now: number) => Promise<JsonObject>,
): Promise<JsonObject> {
  const now = ctx.now();
  const sync = ctx.platformSync;
  const result = await ctx.part.transaction(async (tx) => {
    // Read, judged, then written: on PostgreSQL an unblock must not read "blocked" while a
    // termination commits, and then write "active" over it (store/types.ts).
    await tx.lockSubject(imei);
    const cur = await tx.inventory.get(imei);
    if (!cur)
      throw new CarrierError("DEVICE_NOT_FOUND", "no device with this IMEI in the inventory");
    // Termination is final: a block or an unblock would mark it active or blocked again, here
    // and at the platform, whose copy then let the device migrate out as if in service.
    if (
      status !== "terminated" &&
      (cur.status === "terminated" || (await isTerminated(tx, imei)))
    ) {
      throw new CarrierError(
        "CONFLICT",
        `device ${imei} is terminated; termination is final, so it cannot be ${action}`,
      );
    }
    await tx.inventory.setStatus(imei, status, now);
    const details = await more(tx, now);
    if (sync) details.platformSyncVersion = await sync.queueStatus(tx, imei, action, now);
    await tx.audit.append(
      { actor: ctx.owner, action: verbOf[action], subject: imei, details },
      now,
    );
    const access = await tx.access.get(imei);
    return { imei, status, networkAccess: access?.access ?? null };
  });
  // Committed, nothing delivered yet: after a crash here the outbox row is delivered on restart.
  crashPoint("carrier.admin.status-committed");
  sync?.kick();
  return result;
}

async function isTerminated(tx: PartStore, imei: string): Promise<boolean> {
  return (await tx.devices.status(imei))?.state === "terminated";
}

/** The audit log's action names (as before the sync existed). */
const verbOf = { blocked: "block", unblocked: "unblock", terminated: "terminate" } as const;

/** Lost or stolen: the device is refused at activation and keeps only emergency access. */
export function blockDevice(ctx: CarrierContext, imei: string): Promise<JsonObject> {
  return mark(ctx, imei, "blocked", "blocked", async (tx, now) => {
    const had = await tx.access.get(imei);
    if (had) await tx.access.set(imei, "limited", now);
    return { accessBefore: had?.access ?? null };
  });
}

/** Clears the lost/stolen mark; a provisioned device gets its full access back. */
export function unblockDevice(ctx: CarrierContext, imei: string): Promise<JsonObject> {
  return mark(ctx, imei, "active", "unblocked", async (tx, now) => {
    const dev = await tx.devices.status(imei);
    if (dev?.state === "provisioned") await tx.access.set(imei, "full", now);
    return { state: dev?.state ?? null };
  });
}

/**
 * Ends service (DESIGN.md Migration: "A removes the device from its network access permission
 * list"): off the list, its DM account withdrawn, refused at any later activation.
 */
export function terminateDevice(ctx: CarrierContext, imei: string): Promise<JsonObject> {
  return mark(ctx, imei, "terminated", "terminated", async (tx, now) => {
    const removed = await tx.access.remove(imei);
    await tx.kv.delete(DM_ACCOUNTS_NS, imei);
    const dev = await tx.devices.status(imei);
    if (dev)
      await tx.devices.update(imei, { state: "terminated", dmCredentialsRef: null }, { now });
    return { removedFromAccessList: removed };
  });
}
