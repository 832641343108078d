import { crashPoint } from "../../fault/crash-point.js";
import type { CarrierContext } from "../context.js";
import { resolve } from "./options.js";
import { custodyRecord, MigrationPlatform } from "./platform-client.js";
import { getMigration, putMigration } from "./rows.js";

/**
 * After the device holds B's key and B's profile: B deposits its custody copy of the new key
 * with the platform, and tells the old carrier A (`POST /carriers/A/migration/port-outs` with
 * the device's migration evidence, which A checks against its own key). Each is done once and
 * flagged in the migration row; a failure leaves the flag unset, and the next migration session
 * of the device (its retry) tries again. Never fails the session: the device has migrated.
 *
 * Crash point: `carrier.migration.after-custody`.
 */
export async function finishMigration(ctx: CarrierContext, imei: string): Promise<void> {
  let row = await getMigration(ctx.part, imei);
  if (row?.state !== "complete") return;
  if (!row.custodyDeposited && row.custodyWrapped && ctx.migration.platform) {
    try {
      await new MigrationPlatform(ctx.migration.platform).deposit(
        ctx.id,
        imei,
        custodyRecord({
          meid: row.meid,
          esn: row.esn,
          model: row.model,
          kid: row.kid,
          attestationKey: row.attestationKey,
          wrappedKey: row.custodyWrapped,
        }),
      );
      row = { ...row, custodyDeposited: true };
      await putMigration(ctx.part, row, ctx.now());
      // B's activation date for its custody record (a days-after-activation policy of B's):
      // the migration's approval, through B's platform sync when it has one.
      await ctx.platformSync?.activated(imei, row.createdAt);
    } catch {
      // Left for the retry; the row says it is not done.
    }
  }
  crashPoint("carrier.migration.after-custody");
  if (!row.sourceNotified) {
    const peer = ctx.migration.peers?.[row.from] ?? ctx.publicUrl;
    if (peer === undefined) return;
    try {
      const res = await fetch(
        `${resolve(peer)}/carriers/${encodeURIComponent(row.from)}/migration/port-outs`,
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ evidence: row.evidence, to: ctx.id }),
          signal: AbortSignal.timeout(10_000),
        },
      );
      await res.body?.cancel();
      if (!res.ok) return;
      await putMigration(ctx.part, { ...row, sourceNotified: true }, ctx.now());
      await ctx.part.audit.append(
        {
          actor: ctx.owner,
          action: "migration-source-notified",
          subject: imei,
          details: { from: row.from },
        },
        ctx.now(),
      );
    } catch {
      // Left for the retry.
    }
  }
}
