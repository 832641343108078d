/**
 * The new carrier's DM session with a migrating device (PROFILE_MO.md "Migration"): package 2
 * carries the profile and then the key — a Replace of MIGRATION_KEY_URI (src/evidence/
 * migration-node.ts) with the wrapped key of the migration row. The device stages the profile
 * before its TSZ takes the key and applies it right after (DM_CLIENT.md "Migration"), so it
 * never holds this carrier's key without its profile. A 200 for the key: deposited, and the
 * profile's statuses say whether it is in. Any other status fails the migration: the device
 * dropped the profile, the row says why.
 *
 * Crash points: `carrier.migration.key-status-received`, `carrier.migration.deposit-recorded`,
 * `carrier.migration.profile-recorded`.
 */
import { MIGRATION_KEY_URI } from "../../evidence/index.js";
import { crashPoint } from "../../fault/crash-point.js";
import type { CommandResponse, OutCommand, ServerSessionView } from "../../omadm/session/index.js";
import { DM_ACCOUNTS_NS, provisioningOutcome } from "../../server-kit/index.js";
import type { JsonObject } from "../../store/index.js";
import type { CarrierContext } from "../context.js";
import { buildProfile, type Profile } from "../dm/profile.js";
import { PROFILE_ROOT, profileCommands } from "../dm/profile-tree.js";
import { kickMigrationDelivery, queueMigrationFinish } from "./finish.js";
import { getMigration, type MigrationRow, putMigration } from "./rows.js";

interface MigrationPlan {
  imei: string;
  kid: string;
  step: "key" | "done";
  profile: Profile;
}

const PLAN = "migration";

function keyCommand(row: MigrationRow): OutCommand {
  return {
    kind: "Replace",
    items: [
      {
        target: { locUri: MIGRATION_KEY_URI },
        meta: { format: "chr", type: "application/json" },
        data: JSON.stringify(row.wrapped),
      },
    ],
  };
}

/** The session's first package when the device is migrating here, else null (not ours). */
export async function startMigrationSession(
  ctx: CarrierContext,
  session: ServerSessionView,
  imei: string,
): Promise<OutCommand[] | null> {
  const row = await getMigration(ctx.part, imei);
  // Only the session right after a migration verdict; later ones are ordinary (dm-app.ts).
  if (!row || row.state === "failed" || !row.awaitingSession) return null;
  const inv = await ctx.part.inventory.get(imei);
  const profile = buildProfile(ctx.profile, ctx.id, {
    imei,
    userGroup: inv?.userGroup ?? null,
    approved: true,
  });
  session.locals.set(PLAN, { imei, kid: row.kid, step: "key", profile } satisfies MigrationPlan);
  return [...profileCommands(profile), keyCommand(row)];
}

/** The device's answers in a migration session; the next package's commands. */
export async function continueMigrationSession(
  ctx: CarrierContext,
  session: ServerSessionView,
  responses: readonly CommandResponse[],
): Promise<OutCommand[] | null> {
  const plan = session.locals.get(PLAN) as MigrationPlan | undefined;
  if (!plan) return null;
  if (plan.step === "key") {
    const r = responses.find((x) => targetOf(x) === MIGRATION_KEY_URI);
    const code = r?.code ?? null;
    crashPoint("carrier.migration.key-status-received");
    const ok = await recordKeyStatus(ctx, plan, code);
    crashPoint("carrier.migration.deposit-recorded");
    plan.step = "done";
    if (!ok) return [];
    const { codes, applied } = provisioningOutcome(responses, PROFILE_ROOT);
    const queued = await recordProfile(
      ctx,
      plan,
      applied,
      codes.map((x) => x.code),
    );
    crashPoint("carrier.migration.profile-recorded");
    session.locals.set("applied", applied);
    if (queued) kickMigrationDelivery(ctx);
    return [];
  }
  return [];
}

function targetOf(r: CommandResponse): string | null {
  const c = r.command;
  if ("items" in c) return c.items[0]?.target?.locUri ?? null;
  return null;
}

/**
 * 200: the TSZ holds the key — B's inventory now knows the device with this key, and its state
 * is approved (full access once the profile is in). Anything else: the migration failed.
 */
async function recordKeyStatus(
  ctx: CarrierContext,
  plan: MigrationPlan,
  code: number | null,
): Promise<boolean> {
  const now = ctx.now();
  return ctx.part.transaction(async (tx) => {
    // The device's rows are read, then created or changed: one such transaction at a time.
    await tx.lockSubject(plan.imei);
    const row = await getMigration(tx, plan.imei);
    if (!row || row.kid !== plan.kid) return false;
    if (code !== 200) {
      const failure = `the device answered ${code ?? "nothing"} to the key`;
      await putMigration(tx, { ...row, state: "failed", failure, awaitingSession: false }, now);
      await tx.audit.append(
        {
          actor: ctx.owner,
          action: "migration-failed",
          subject: plan.imei,
          details: { kid: row.kid, status: code },
        },
        now,
      );
      return false;
    }
    const inv = await tx.inventory.get(plan.imei);
    await tx.inventory.put(
      {
        imei: row.imei,
        meid: row.meid,
        esn: row.esn,
        model: row.model,
        kid: row.kid,
        attestationKey: row.attestationKey,
        attestationThumbprint: row.attestationThumbprint,
        contractEnd: inv?.contractEnd ?? null,
        userGroup: inv?.userGroup ?? null,
        enterprise: inv?.enterprise ?? null,
      },
      now,
    );
    const dev = await tx.devices.status(plan.imei);
    const patch = {
      attestationThumbprint: row.attestationThumbprint,
      dmCredentialsRef: `kv:${DM_ACCOUNTS_NS}/${row.imei}`,
      verdictId: row.verdictId,
    };
    if (!dev) await tx.devices.create({ imei: row.imei, state: "approved", ...patch }, now);
    else if (dev.state !== "provisioned") {
      await tx.devices.update(row.imei, { state: "approved", ...patch }, { now });
    }
    if (!(await tx.access.get(row.imei))) await tx.access.set(row.imei, "limited", now);
    if (row.state === "pending") {
      await putMigration(tx, { ...row, state: "deposited" }, now);
      await tx.audit.append(
        {
          actor: ctx.owner,
          action: "migration-key-deposited",
          subject: plan.imei,
          details: { kid: row.kid, from: row.from },
        },
        now,
      );
    }
    return true;
  });
}

/**
 * The profile's outcome; when applied, the migration completes and, in the same transaction,
 * what follows it is queued (finish.ts): B's custody deposit, the notice to A, B's activation
 * date. True when something was queued (the caller kicks delivery after the commit).
 */
async function recordProfile(
  ctx: CarrierContext,
  plan: MigrationPlan,
  applied: boolean,
  statuses: number[],
): Promise<boolean> {
  const now = ctx.now();
  return ctx.part.transaction(async (tx) => {
    // The device's rows are read, then created or changed: one such transaction at a time.
    await tx.lockSubject(plan.imei);
    const row = await getMigration(tx, plan.imei);
    if (!row || row.kid !== plan.kid) return false;
    if (applied) {
      await queueMigrationFinish(ctx, tx, row, now);
      await tx.devices.update(
        plan.imei,
        { state: "provisioned", profile: plan.profile as unknown as JsonObject },
        { now },
      );
      await tx.access.set(plan.imei, "full", now);
      await putMigration(tx, { ...row, state: "complete", awaitingSession: false }, now);
    }
    await tx.audit.append(
      {
        actor: ctx.owner,
        // A retry's session after the completion (the device crashed before it knew) repeats
        // the key and the profile, unchanged: the migration completed once.
        action: !applied
          ? "migration-profile-refused"
          : row.state === "complete"
            ? "migration-session-repeated"
            : "migration-complete",
        subject: plan.imei,
        details: { kid: row.kid, from: row.from, statuses },
      },
      now,
    );
    return applied;
  });
}
