import {
  addDeviceReasons,
  checkAttestation,
  checkKeyProof,
  foreseeNonce,
  forkJudgement,
  orderReasons,
  type ReasonCode,
  sameReasons,
  speaksForItsImei,
  withholdUnattested,
} from "../../evidence/index.js";
import type { PlatformContext } from "../context.js";
import { getRecord } from "../custody/records.js";
import { tokenInvalid } from "../errors.js";
import { entitledTo, type Principal } from "../tokens/authenticate.js";
import { decodeEvidence } from "./decode.js";
import type { Judgement } from "./judgement.js";
import { signPlatformVerdict } from "./sign.js";
import { checkClone, checkNonce, checkRecord, checkStatus } from "./steps.js";

/** The platform's answer: yes/no with reasons, and the signed verdict for the device's TSZ. */
export interface VerificationAnswer {
  decision: "approved" | "denied";
  reasons: ReasonCode[];
  networkAccess: "full" | "limited";
  carrier: string;
  imei: string;
  nonce: string;
  /** Compact JWS, signed in the carrier's custody (sign.ts); no key material. */
  verdict: string;
  /** Who asked, as the verdict's `via` names it. */
  via: string;
}

/**
 * The tenant a principal asks as, for the verdict's `via` and the audit log: the carrier itself
 * when it holds the token (a common token: the one the device belongs to), else the enterprise.
 */
export function askerOf(p: Principal, carrier?: string): string {
  const own = p.holders.find((h) => h.kind === "carrier" && h.id === carrier);
  const h = own ?? p.holders.find((x) => x.kind === "enterprise") ?? p.holders[0];
  return h ? `${h.kind}:${h.id}` : "operator";
}

/** Whom a nonce is issued to: the token's holders, so only they can spend it. */
export function nonceSubject(p: Principal): string {
  return p.holders
    .map((h) => `${h.kind}:${h.id}`)
    .sort()
    .join(",");
}

/**
 * Entitlement first, from the claimed carrier alone and before any lookup, so a token used for
 * another carrier's device gets the one TOKEN_INVALID whether the device exists or not.
 */
export async function entitledJudgement(
  ctx: PlatformContext,
  p: Principal,
  evidence: string,
  action: string,
): Promise<{ j: Judgement; carrier: string }> {
  const j = decodeEvidence(evidence);
  const carrier = j.claims.carrier;
  if (carrier === null || !(await ctx.tenants.isCarrier(carrier)) || !entitledTo(p, carrier)) {
    await ctx.part.audit.append(
      {
        actor: askerOf(p),
        action: `${action}-refused`,
        subject: null,
        details: { reason: "TOKEN_INVALID", tokenId: p.tokenId },
      },
      ctx.now(),
    );
    throw tokenInvalid();
  }
  return { j, carrier };
}

/**
 * Verification for an enterprise or a carrier: the same evidence the carrier server checks,
 * forwarded unchanged, checked against the carrier's custody (DESIGN.md step 5). The nonce,
 * verdict and audit entry are written in one transaction: one verdict per nonce.
 */
export async function verifyEvidence(
  ctx: PlatformContext,
  p: Principal,
  evidence: string,
): Promise<VerificationAnswer> {
  const { j, carrier } = await entitledJudgement(ctx, p, evidence, "verification");
  const asker = askerOf(p, carrier);
  const now = ctx.now();
  const keys = ctx.keystore.forOwner(`carrier:${carrier}`);
  const attestation = await checkAttestation(j, ctx.anchors, now);
  j.record = await getRecord(ctx, carrier, j.claims.imei);
  checkRecord(j);
  await checkKeyProof(j, keys, carrier, j.record);
  // These read nothing more, so they are judged once, before the nonce's fork below.
  checkClone(j);
  checkStatus(j);
  addDeviceReasons(j);
  withholdUnattested(j);

  // Signed before the transaction, for the reasons foreseen now, so that the transaction does
  // not hold SQLite's one connection across the keystore's round trip (as the carrier's
  // judgeEvidence); it signs again only if it finds other reasons.
  const sign = (reasons: readonly ReasonCode[]) =>
    signPlatformVerdict(ctx.keystore, {
      carrierId: carrier,
      nonce: j.claims.eat_nonce,
      imei: j.claims.imei,
      reasons,
      via: asker,
      now,
    });
  const f = forkJudgement(j);
  // A peek cannot see the nonce's subject: one issued to another asker is foreseen fresh, and
  // the transaction's own step then judges it (and signs) otherwise.
  await foreseeNonce(f, ctx.part.nonces, now);
  const foreseen = orderReasons(f.reasons);
  const presigned = await sign(foreseen);

  return ctx.part.transaction(async (tx) => {
    await checkNonce(j, tx, nonceSubject(p), now);
    const reasons = orderReasons(j.reasons);
    const decision = reasons.length === 0 ? "approved" : "denied";
    const { imei, eat_nonce: nonce } = j.claims;
    const verdict = sameReasons(reasons, foreseen) ? presigned : await sign(reasons);
    // Only a verdict that speaks for the IMEI's device joins its history (speaksForItsImei).
    const recorded =
      j.nonceFresh && speaksForItsImei(j, j.record !== null)
        ? await tx.verdicts.record(
            {
              nonce,
              imei,
              verdict: decision,
              reasons,
              evidenceHash: j.evidenceHash,
              signed: verdict,
            },
            now,
          )
        : null;
    await tx.audit.append(
      {
        actor: asker,
        action: "verification",
        subject: imei,
        details: {
          carrier,
          verdict: decision,
          reasons,
          nonceFresh: j.nonceFresh,
          verdictId: recorded?.verdict.id ?? null,
          evidenceHash: j.evidenceHash,
          attestation: attestation ?? "ok",
          tokenId: p.tokenId,
        },
      },
      now,
    );
    return {
      decision,
      reasons,
      networkAccess: decision === "approved" ? "full" : "limited",
      carrier,
      imei,
      nonce,
      verdict,
      via: asker,
    } satisfies VerificationAnswer;
  });
}
