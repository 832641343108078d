import { type EvidenceJudgement, type ReasonCode, speaksForItsImei } from "../../evidence/index.js";
import type { PartStore } from "../../store/index.js";
import type { CarrierContext } from "../context.js";
import { signVerdict } from "./sign-verdict.js";

/** The carrier's verdict on judged evidence, signed (a migration's with its purpose). */
export async function signVerdictFor(
  ctx: CarrierContext,
  claims: { imei: string; eat_nonce: string },
  v: { approved: boolean; reasons: readonly ReasonCode[] },
  now: number,
  purpose?: "migration",
): Promise<string> {
  const { jws } = await signVerdict(ctx.keys, {
    carrierId: ctx.id,
    nonce: claims.eat_nonce,
    imei: claims.imei,
    approved: v.approved,
    reasons: v.reasons,
    now,
    ...(purpose ? { purpose } : {}),
  });
  return jws;
}

/**
 * Signs the verdict for judged evidence and, when its nonce was fresh and the evidence speaks
 * for the device its IMEI names (speaksForItsImei: attested, `known` to the caller, not a
 * clone), records it: one verdict per nonce, so a replay gets a signed answer but can neither
 * add a verdict nor overwrite one, and a counterfeit naming a genuine device's IMEI gets one
 * that stays out of that device's history. `known`: the IMEI is in the inventory (activation),
 * or the carrier the device leaves vouched for it (migration).
 * Runs inside the caller's transaction (activation's or migration's), so the verdict commits
 * with the state change it causes or not at all.
 *
 * `signed` is a verdict the caller already signed for exactly these claims (activation and
 * migration sign before their transaction); without it the verdict is signed here, inside the
 * transaction (activation, when its transaction judged otherwise than foreseen).
 */
export async function signAndRecordVerdict(
  ctx: CarrierContext,
  tx: PartStore,
  j: EvidenceJudgement,
  v: { approved: boolean; reasons: readonly ReasonCode[] },
  now: number,
  opts: { known: boolean; signed?: string | undefined },
): Promise<{ jws: string; verdictId: string | null }> {
  const { approved, reasons } = v;
  const { imei, eat_nonce: nonce } = j.claims;
  const jws = opts.signed ?? (await signVerdictFor(ctx, j.claims, v, now));
  if (!j.nonceFresh || !speaksForItsImei(j, opts.known)) return { jws, verdictId: null };
  const { verdict } = await tx.verdicts.record(
    {
      nonce,
      imei,
      verdict: approved ? "approved" : "denied",
      reasons: [...reasons],
      evidenceHash: j.evidenceHash,
      signed: jws,
    },
    now,
  );
  return { jws, verdictId: verdict.id };
}
