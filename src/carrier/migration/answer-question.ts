import type { FastifyRequest } from "fastify";
import {
  addDeviceReasons,
  checkAttestation,
  checkKeyProof,
  withholdUnattested,
} from "../../evidence/index.js";
import { bearerToken } from "../../server-kit/index.js";
import {
  type MigrationAnswer,
  type MigrationPolicy,
  migrationAnswer,
} from "../../server-kit/migration-policy.js";
import type { PartStore, Store } from "../../store/index.js";
import type { CarrierContext } from "../context.js";
import { CarrierError } from "../errors.js";
import { checkClone } from "../verify/steps/check-clone.js";
import { checkInventory } from "../verify/steps/check-inventory.js";
import { checkStatus } from "../verify/steps/check-status.js";
import { decodeEvidence } from "../verify/steps/decode-evidence.js";

/**
 * The old carrier A answering a migration question itself (`migration.direct` on the asking
 * carrier; the platform's answer otherwise, src/platform/README.md "Migration"): the same
 * answer the platform gives — genuine (A's key proof, checked in A's keystore), blocked,
 * terminated, subsidy-locked under A's own policy (`migration.policy`) — from A's inventory.
 * Only a carrier holding a peer token A issued (`issueMigrationPeerToken`, scope
 * `migration-peer`) may ask; the answer carries no record and no key.
 */
export const PEER_SCOPE = "migration-peer";

/** A token for carrier `peer` to ask carrier `carrierId` about its devices (shown once). */
export function issueMigrationPeerToken(
  store: Store,
  carrierId: string,
  peer: string,
  opts: { ttlMs?: number | null } = {},
): Promise<string> {
  return issuePeerToken(store.part(`carrier:${carrierId}`), peer, opts);
}

/** The same, in the carrier's own store part (its admin route). */
export async function issuePeerToken(
  part: PartStore,
  peer: string,
  opts: { ttlMs?: number | null } = {},
): Promise<string> {
  const { token } = await part.tokens.issue({
    holders: [`carrier:${peer}`],
    scopes: [PEER_SCOPE],
    ttlMs: opts.ttlMs ?? null,
    label: `migration peer ${peer}`,
  });
  return token;
}

/** The asking carrier's id, from its peer token; 401 otherwise. */
export async function requirePeer(ctx: CarrierContext, req: FastifyRequest): Promise<string> {
  const token = bearerToken(req);
  const check = token === null ? null : await ctx.part.tokens.check(token, ctx.now());
  const holder = check?.status === "ok" ? check.token.holders[0] : undefined;
  if (
    check?.status !== "ok" ||
    !check.token.scopes.includes(PEER_SCOPE) ||
    holder === undefined ||
    !holder.startsWith("carrier:") ||
    holder === ctx.owner
  ) {
    throw new CarrierError("UNAUTHORIZED", "a migration peer token of this carrier is required");
  }
  return holder;
}

/** `policy`: this carrier's `migration.policy`, resolved once when its routes are registered. */
export async function answerQuestion(
  ctx: CarrierContext,
  policy: MigrationPolicy,
  asker: string,
  evidence: string,
): Promise<MigrationAnswer> {
  const j = decodeEvidence(evidence);
  if (j.claims.carrier !== ctx.id) {
    throw new CarrierError(
      "EVIDENCE_MALFORMED",
      `the evidence proves a key of ${j.claims.carrier ?? "no carrier"}, not of ${ctx.id}`,
    );
  }
  const now = ctx.now();
  await checkAttestation(j, ctx.anchors, now);
  await checkInventory(j, ctx.part);
  await checkKeyProof(j, ctx.keys, ctx.id, j.inventory);
  await checkClone(j, ctx.part);
  checkStatus(j);
  addDeviceReasons(j);
  withholdUnattested(j);
  const record = j.inventory
    ? { ...j.inventory, activatedAt: await firstApproval(ctx, j.claims.imei) }
    : null;
  const answer = migrationAnswer(j, policy, record, now);
  await ctx.part.audit.append(
    {
      actor: asker,
      action: "migration-question",
      subject: j.claims.imei,
      details: { ...answer, evidenceHash: j.evidenceHash },
    },
    now,
  );
  return answer;
}

/**
 * When this carrier first approved the device: its oldest approved verdict, or null. Not the
 * platform sync's activation entry (kv `platform-sync/activated`): a carrier without a sync
 * has none, and one can hold a later date (the sync switched on after the first approval, or
 * the later of two racing first approvals), which would lock the device too long.
 */
async function firstApproval(ctx: CarrierContext, imei: string): Promise<number | null> {
  return (await ctx.part.verdicts.oldestForImei(imei, "approved"))?.createdAt ?? null;
}
