import type { FastifyInstance } from "fastify";
import { crashPoint } from "../../fault/crash-point.js";
import type { JsonObject, PartStore } from "../../store/index.js";
import type { CarrierContext } from "../context.js";
import { callJson, errorCodeOf, type JsonAnswer, noAnswer } from "../http-out/json-call.js";
import type { Outcome } from "../platform-sync/delivery-loop.js";
import { DeliveryLoop } from "../platform-sync/delivery-loop.js";
import { DEFAULT_TIMEOUT_MS } from "../platform-sync/options.js";
import type { OutboxRow } from "../platform-sync/outbox.js";
import { resolve } from "./options.js";
import { custodyRecord, MigrationPlatform } from "./platform-client.js";
import { getMigration, type MigrationRow, putMigration } from "./rows.js";

/**
 * What follows a completed migration, done in the background by the new carrier B:
 * - `migration-custody`: B deposits its custody copy of the new key with the platform
 *   (`PUT /platform/custody/B/devices/{imei}`);
 * - `migration-notice`: B tells the old carrier A (`POST /carriers/A/migration/port-outs` with
 *   the device's migration evidence, which A checks against its own key).
 * Both are queued in kv `migration/outbox` of B's store in the transaction that completes the
 * migration (dm-migration.ts), with B's activation date for its platform sync, and delivered by
 * the platform sync's loop (src/carrier/platform-sync/delivery-loop.ts) with its backoff: a platform
 * or a carrier A that is down gets them once it is back, without the device doing anything.
 * Each delivery sets its flag in the migration row and is audited (`migration-custody-deposited`,
 * `migration-source-notified`); failures are logged (what and why, never a key) and retried,
 * unless A refused the notice for good (REFUSED_FOR_GOOD) or the platform the deposit
 * (platform-client.ts, DEPOSIT_REFUSED_FOR_GOOD): then the job is dropped, logged and audited
 * (`migration-finish-dropped`, with the answer); the row's flag stays false. Each call waits at
 * most `delivery.timeoutMs`.
 *
 * Crash point: `carrier.migration.after-custody` (deposited at the platform, flag not yet set).
 */
export const MIGRATION_OUTBOX_NS = "migration/outbox";

const CUSTODY = "migration-custody";
const NOTICE = "migration-notice";

/** Inside the transaction that completes the migration: what is still to be done, once. */
export async function queueMigrationFinish(
  ctx: CarrierContext,
  tx: PartStore,
  row: MigrationRow,
  now: number,
): Promise<void> {
  const wall = Date.now();
  const queue = async (event: string) => {
    const r: OutboxRow = {
      imei: row.imei,
      event: event as OutboxRow["event"],
      kid: row.kid,
      attempts: 0,
      dueAt: wall,
    };
    await tx.kv.put(MIGRATION_OUTBOX_NS, `${row.imei}/${event}`, r as unknown as JsonObject, {
      now,
    });
  };
  const custody = !row.custodyDeposited && row.custodyWrapped !== null && !!ctx.migration.platform;
  if (custody) await queue(CUSTODY);
  if (!row.sourceNotified) await queue(NOTICE);
  // B's activation date for its custody record (a days-after-activation policy of B's): the
  // migration's approval, through B's platform sync when it has one. The platform refuses it
  // for good before B's custody record exists, so with a deposit still to do it is queued in the
  // transaction that records the deposit instead.
  if (!custody) await ctx.platformSync?.queueActivated(tx, row.imei, row.createdAt);
}

const outboxes = new WeakMap<CarrierContext, DeliveryLoop>();

/** After the commit: delivery at once (B's migration queue and its platform sync). */
export function kickMigrationDelivery(ctx: CarrierContext): void {
  outboxes.get(ctx)?.kick();
  ctx.platformSync?.kick();
}

/** The migration queue of this carrier (tests look at what is pending). */
export function migrationOutbox(ctx: CarrierContext): DeliveryLoop | undefined {
  return outboxes.get(ctx);
}

/** Runs delivery of the migration queue while the app is up. */
export function startMigrationDelivery(app: FastifyInstance, ctx: CarrierContext): void {
  const outbox = new DeliveryLoop({
    part: ctx.part,
    ns: MIGRATION_OUTBOX_NS,
    name: "migration-finish",
    actor: ctx.owner,
    // Each row goes to its own server (the platform, or carrier A): one failing ends nothing.
    sender: {
      oneReceiver: false,
      one: async (row) => {
        const outcome = await send(ctx, row);
        if (outcome.kind === "dropped") {
          app.log.warn(
            { job: row.event, imei: row.imei, why: outcome.why },
            "migration-finish: dropped, not retried",
          );
        }
        return outcome;
      },
    },
    timing: ctx.migration.delivery ?? {},
    now: ctx.now,
  });
  outbox.warn = (msg, err) => app.log.warn(err === undefined ? {} : { err }, msg);
  outboxes.set(ctx, outbox);
  app.addHook("onReady", async () => outbox.start());
  app.addHook("onClose", async () => outbox.stop());
}

async function send(ctx: CarrierContext, job: OutboxRow): Promise<Outcome> {
  const row = await getMigration(ctx.part, job.imei);
  // Another migration of the device replaced this one (its own rows are queued with it).
  if (row?.state !== "complete" || row.kid !== job.kid) {
    return { kind: "dropped", why: "the migration it belongs to is no longer the device's" };
  }
  if (job.event === CUSTODY) return depositCustody(ctx, row);
  if (job.event === NOTICE) return notifySource(ctx, row);
  return { kind: "dropped", why: `unknown job ${job.event}` };
}

async function depositCustody(ctx: CarrierContext, row: MigrationRow): Promise<Outcome> {
  if (row.custodyDeposited) return { kind: "delivered", applied: false };
  if (!row.custodyWrapped || !ctx.migration.platform) {
    return { kind: "dropped", why: "no custody copy or no platform configured" };
  }
  const platform = new MigrationPlatform(ctx.migration.platform, timeoutOf(ctx));
  const r = await platform.deposit(
    ctx.id,
    row.imei,
    custodyRecord({
      meid: row.meid,
      esn: row.esn,
      model: row.model,
      kid: row.kid,
      attestationKey: row.attestationKey,
      wrappedKey: row.custodyWrapped,
    }),
  );
  if (!r.stored) return { kind: r.final ? "dropped" : "retry", why: r.why };
  crashPoint("carrier.migration.after-custody");
  await setFlag(ctx, row, "custodyDeposited", "migration-custody-deposited", {});
  ctx.platformSync?.kick();
  return { kind: "delivered", applied: true };
}

async function notifySource(ctx: CarrierContext, row: MigrationRow): Promise<Outcome> {
  if (row.sourceNotified) return { kind: "delivered", applied: false };
  const peer = ctx.migration.peers?.[row.from] ?? ctx.publicUrl;
  if (peer === undefined) {
    return { kind: "dropped", why: `no address configured for carrier ${row.from}` };
  }
  let a: JsonAnswer;
  try {
    a = await callJson({
      method: "POST",
      url: `${resolve(peer)}/carriers/${encodeURIComponent(row.from)}/migration/port-outs`,
      json: { evidence: row.evidence, to: ctx.id },
      timeoutMs: timeoutOf(ctx),
    });
  } catch (err) {
    return { kind: "retry", why: `carrier ${row.from} unreachable (${noAnswer(err)})` };
  }
  if (!a.ok) {
    const code = errorCodeOf(a.body);
    const why = `carrier ${row.from} answered ${a.status}${code === undefined ? "" : ` ${code}`}`;
    // A's own refusal carries its code; a bare status may be a proxy's, which the operator can
    // fix (the custody deposit is judged alike, platform-client.ts).
    const final = REFUSED_FOR_GOOD.has(a.status) && code !== undefined;
    return final ? { kind: "dropped", why } : { kind: "retry", why };
  }
  await setFlag(ctx, row, "sourceNotified", "migration-source-notified", { from: row.from });
  return { kind: "delivered", applied: true };
}

/**
 * Statuses with which the old carrier refuses the notice itself (with its error code): it does not prove a device of A
 * (400: A no longer knows the device, or the evidence does not check out with A's key), or A
 * will never take it (410, 413, 415, 422). The same notice sent again gets the same answer, so
 * it is dropped (audited `migration-finish-dropped`, logged). Anything else is retried: the
 * network, a 5xx, 408 and 429, and 401/403/404 from an address or a proxy the operator can fix.
 */
const REFUSED_FOR_GOOD = new Set([400, 410, 413, 415, 422]);

const timeoutOf = (ctx: CarrierContext) => ctx.migration.delivery?.timeoutMs ?? DEFAULT_TIMEOUT_MS;

async function setFlag(
  ctx: CarrierContext,
  row: MigrationRow,
  flag: "custodyDeposited" | "sourceNotified",
  action: string,
  details: JsonObject,
): Promise<void> {
  const now = ctx.now();
  await ctx.part.transaction(async (tx) => {
    const cur = await getMigration(tx, row.imei);
    if (!cur || cur.kid !== row.kid || cur[flag]) return;
    await putMigration(tx, { ...cur, [flag]: true }, now);
    if (flag === "custodyDeposited") {
      await ctx.platformSync?.queueActivated(tx, row.imei, cur.createdAt);
    }
    await tx.audit.append(
      { actor: ctx.owner, action, subject: row.imei, details: { kid: row.kid, ...details } },
      now,
    );
  });
}
