import type {
  CommandResponse,
  DmServerApp,
  OutCommand,
  ServerClientRecord,
} from "../../omadm/session/index.js";
import type { JsonObject } from "../../store/index.js";
import type { EnterpriseContext } from "../context.js";
import { contentFor, type EnterpriseContent } from "../policy/content.js";
import { DM_ACCOUNTS_NS, deriveSecret, imeiFromClientName, loadAccount } from "./credentials.js";
import { ENTERPRISE_ROOT, enterpriseCommands } from "./tree.js";

interface Plan {
  imei: string;
  content: EnterpriseContent;
}

function targetOf(c: OutCommand): string | null {
  if ("items" in c) return c.items[0]?.target?.locUri ?? null;
  if ("item" in c) return c.item.target?.locUri ?? null;
  return null;
}

/**
 * The MDAS's OMA DM server application: authenticates the device with the account issued with
 * its approved, eligible decision and provisions its user group's content (ENTERPRISE_MO.md).
 * Eligibility is read again at session start, so a device unenrolled in between gets nothing.
 * Provisioned (full access) only when every command succeeded.
 */
export function enterpriseDmApp(ctx: EnterpriseContext): DmServerApp {
  return {
    async findClient(q): Promise<ServerClientRecord | undefined> {
      const imei = imeiFromClientName(q.name ?? q.clientUri);
      const acc = imei ? await loadAccount(ctx.part, imei) : null;
      if (!imei || !acc) return undefined;
      const [client, server] = await Promise.all([
        deriveSecret(ctx, "client", imei, acc.generation),
        deriveSecret(ctx, "server", imei, acc.generation),
      ]);
      const b = (s: string) => new Uint8Array(Buffer.from(s, "base64"));
      return {
        client: { name: acc.clientName, secret: client, nonce: b(acc.clientNonce), scheme: "md5" },
        server: { name: acc.serverId, secret: server, nonce: b(acc.serverNonce), scheme: "md5" },
      };
    },

    async saveNonce(clientName, role, nonce) {
      const imei = imeiFromClientName(clientName);
      const acc = imei ? await loadAccount(ctx.part, imei) : null;
      if (!imei || !acc) return;
      const b64 = Buffer.from(nonce).toString("base64");
      const next = role === "client" ? { ...acc, clientNonce: b64 } : { ...acc, serverNonce: b64 };
      await ctx.part.kv.put(DM_ACCOUNTS_NS, imei, next as unknown as JsonObject, {
        now: ctx.now(),
      });
    },

    async onSessionStart(session) {
      const imei = imeiFromClientName(session.clientName);
      if (!imei) return [];
      const [dev, enr] = await Promise.all([
        ctx.part.devices.get(imei),
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
  const codes = responses.map((r) => ({
    cmd: r.command.kind,
    target: targetOf(r.command),
    code: r.code,
  }));
  const applied =
    codes.length > 0 &&
    codes.every(
      (x) =>
        (x.code >= 200 && x.code < 300) ||
        (x.cmd === "Delete" && x.target === ENTERPRISE_ROOT && x.code === 404),
    );
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
