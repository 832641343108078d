import type { CommandResponse, DmServerApp } from "../../omadm/session/index.js";
import { dmAccountHooks, imeiFromClientName, provisioningOutcome } from "../../server-kit/index.js";
import type { JsonObject } from "../../store/index.js";
import type { EnterpriseContext } from "../context.js";
import { contentFor, type EnterpriseContent } from "../policy/content.js";
import { ENTERPRISE_DM_LABEL } from "./credentials.js";
import { ENTERPRISE_ROOT, enterpriseCommands } from "./tree.js";

interface Plan {
  imei: string;
  content: EnterpriseContent;
}

/**
 * The MDAS's OMA DM server application: authenticates the device with the account issued with
 * its approved, eligible decision and provisions its user group's content (ENTERPRISE_MO.md).
 * Eligibility is read again at session start, so a device unenrolled in between gets nothing.
 * Provisioned (full access) only when every command succeeded.
 */
export function enterpriseDmApp(ctx: EnterpriseContext): DmServerApp {
  return {
    ...dmAccountHooks(ctx, ENTERPRISE_DM_LABEL),

    async onSessionStart(session) {
      const imei = imeiFromClientName(session.clientName);
      if (!imei) return [];
      const [dev, enr] = await Promise.all([
        ctx.part.devices.status(imei),
        ctx.part.enrolment.get(imei),
      ]);
      const group = enr?.userGroup ?? null;
      if (!dev || (dev.state !== "approved" && dev.state !== "provisioned") || !group) return [];
      const g = ctx.policy.groups[group];
      if (!g || !Object.hasOwn(ctx.policy.groups, group)) return [];
      const content = contentFor(ctx.id, g, { user: enr?.user ?? null, userGroup: group });
      session.locals.set("plan", { imei, content } satisfies Plan);
      return enterpriseCommands(content);
    },

    async onPackage(session, responses) {
      const plan = session.locals.get("plan") as Plan | undefined;
      if (!plan || session.locals.get("recorded")) return [];
      session.locals.set("recorded", true);
      await record(ctx, plan, responses);
      return [];
    },
  };
}

async function record(
  ctx: EnterpriseContext,
  plan: Plan,
  responses: readonly CommandResponse[],
): Promise<void> {
  const { codes, applied } = provisioningOutcome(responses, ENTERPRISE_ROOT);
  const now = ctx.now();
  await ctx.part.transaction(async (tx) => {
    if (applied) {
      await tx.devices.update(
        plan.imei,
        { state: "provisioned", profile: plan.content as unknown as JsonObject },
        { now },
      );
      await tx.access.set(plan.imei, "full", now);
    }
    await tx.audit.append(
      {
        actor: ctx.owner,
        action: "dm-session",
        subject: plan.imei,
        details: { userGroup: plan.content.userGroup, applied, statuses: codes.map((x) => x.code) },
      },
      now,
    );
  });
}
