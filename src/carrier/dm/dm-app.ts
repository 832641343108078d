import { crashPoint } from "../../fault/crash-point.js";
import type { CommandResponse, DmServerApp } from "../../omadm/session/index.js";
import { dmAccountHooks, imeiFromClientName, provisioningOutcome } from "../../server-kit/index.js";
import type { JsonObject } from "../../store/index.js";
import type { CarrierContext } from "../context.js";
import { continueMigrationSession, startMigrationSession } from "../migration/dm-migration.js";
import { CARRIER_DM_LABEL } from "./credentials.js";
import { buildProfile, type Profile } from "./profile.js";
import { PROFILE_ROOT, profileCommands } from "./profile-tree.js";

/** SyncML status 425, "permission denied" (OMA-TS-DM_RepPro §10): the TSZ's toggle key is 1. */
export const PERMISSION_DENIED = 425;

interface SessionPlan {
  imei: string;
  profile: Profile;
  approved: boolean;
}

/**
 * The carrier's OMA DM server application (DESIGN.md step 7): authenticates a device with the
 * DM account issued with its verdict, sends the profile of its state (approved: its user
 * group's full profile; denied: emergency and customer care only), records every status the
 * device answers, and marks the device provisioned, with full access, only when all of them
 * succeeded. A 425 (toggle key 1) leaves it unprovisioned.
 */
export function carrierDmApp(ctx: CarrierContext): DmServerApp {
  return {
    ...dmAccountHooks(ctx, CARRIER_DM_LABEL),

    async onSessionStart(session) {
      const imei = imeiFromClientName(session.clientName);
      if (!imei) return [];
      // A device migrating here first receives its key (src/carrier/migration/dm-migration.ts).
      const migrating = await startMigrationSession(ctx, session, imei);
      if (migrating) return migrating;
      const [dev, inv] = await Promise.all([
        ctx.part.devices.status(imei),
        ctx.part.inventory.get(imei),
      ]);
      if (
        !dev ||
        !inv ||
        (dev.state !== "approved" && dev.state !== "denied" && dev.state !== "provisioned")
      ) {
        return [];
      }
      const approved = dev.state !== "denied" && inv.status === "active";
      const profile = buildProfile(ctx.profile, ctx.id, {
        imei,
        userGroup: inv.userGroup,
        approved,
      });
      session.locals.set("plan", { imei, profile, approved } satisfies SessionPlan);
      return profileCommands(profile);
    },

    async onPackage(session, responses) {
      const migrating = await continueMigrationSession(ctx, session, responses);
      if (migrating) return migrating;
      const plan = session.locals.get("plan") as SessionPlan | undefined;
      if (!plan || session.locals.get("recorded")) return [];
      session.locals.set("recorded", true);
      crashPoint("carrier.dm.statuses-received");
      session.locals.set("applied", await recordOutcome(ctx, plan, responses));
      crashPoint("carrier.dm.provisioning-recorded");
      return [];
    },

    onSessionEnd(session, outcome) {
      ctx.metrics.dmSessions.inc({
        carrier: ctx.id,
        outcome: session.locals.get("applied") === true ? `${outcome}-provisioned` : outcome,
      });
    },
  };

  async function recordOutcome(
    c: CarrierContext,
    plan: SessionPlan,
    responses: readonly CommandResponse[],
  ): Promise<boolean> {
    // A Delete of a profile that was never there (404) counts as done: nothing to remove.
    const { codes, applied } = provisioningOutcome(responses, PROFILE_ROOT);
    const refused = codes.some((x) => x.code === PERMISSION_DENIED);
    const now = c.now();
    await c.part.transaction(async (tx) => {
      const dev = await tx.devices.status(plan.imei);
      if (!dev) return;
      if (applied) {
        await tx.devices.update(
          plan.imei,
          {
            state: plan.approved ? "provisioned" : dev.state,
            profile: plan.profile as unknown as JsonObject,
          },
          { now },
        );
        await tx.access.set(plan.imei, plan.approved ? "full" : "limited", now);
      }
      await tx.kv.put(
        "dm-sessions",
        plan.imei,
        { at: now, applied, refused, codes } as unknown as JsonObject,
        { now },
      );
      await tx.audit.append(
        {
          actor: c.owner,
          action: "dm-session",
          subject: plan.imei,
          details: {
            profile: plan.profile.access,
            applied,
            toggleRefused: refused,
            statuses: codes.map((x) => x.code),
          },
        },
        now,
      );
    });
    return applied;
  }
}
