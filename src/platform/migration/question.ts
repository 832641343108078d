import {
  addDeviceReasons,
  checkAttestation,
  checkKeyProof,
  withholdUnattested,
} from "../../evidence/index.js";
import { crashPoint } from "../../fault/crash-point.js";
import {
  DEFAULT_POLICY,
  type MigrationAnswer,
  migrationAnswer,
} from "../../server-kit/migration-policy.js";
import type { PlatformContext } from "../context.js";
import { getRecord } from "../custody/records.js";
import { tokenInvalid } from "../errors.js";
import type { Principal } from "../tokens/authenticate.js";
import { decodeEvidence } from "../verify/decode.js";
import { checkClone, checkRecord, checkStatus } from "../verify/steps.js";
import { askerOf } from "../verify/verify-evidence.js";

/**
 * A carrier's migration question (DESIGN.md "Migration"): evidence carrying the current
 * carrier's slot proof, which the asker cannot check. The platform checks it in that carrier's
 * custody and answers genuine / blocked / subsidy-locked / terminated: no key material, no
 * record, no word about any other carrier. The nonce is the asker's, so the asker checks it.
 */
export async function answerMigration(
  ctx: PlatformContext,
  p: Principal,
  evidence: string,
): Promise<MigrationAnswer> {
  if (!p.holders.some((h) => h.kind === "carrier")) throw tokenInvalid();
  const j = decodeEvidence(evidence);
  const carrier = j.claims.carrier;
  const now = ctx.now();
  await checkAttestation(j, ctx.anchors, now);
  if (carrier === null || !(await ctx.tenants.isCarrier(carrier))) {
    j.reasons.add("UNKNOWN_DEVICE");
  } else {
    j.record = await getRecord(ctx, carrier, j.claims.imei);
    checkRecord(j);
    await checkKeyProof(j, ctx.keystore.forOwner(`carrier:${carrier}`), carrier, j.record);
    checkClone(j);
    checkStatus(j);
    addDeviceReasons(j);
  }
  withholdUnattested(j);
  const policy = carrier === null ? DEFAULT_POLICY : ctx.migrationPolicy(carrier);
  const answer = migrationAnswer(j, policy, j.record ?? null, now);
  await ctx.part.audit.append(
    {
      actor: askerOf(p),
      action: "migration-question",
      subject: j.claims.imei,
      details: { ...answer, evidenceHash: j.evidenceHash, tokenId: p.tokenId },
    },
    now,
  );
  // Audited, not yet answered (the crash matrix of issue 6).
  crashPoint("platform.migration.question-answered");
  return answer;
}
