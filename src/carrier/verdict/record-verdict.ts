import { type EvidenceJudgement, type ReasonCode, sameReasons } from "../../evidence/index.js";
import type { PartStore } from "../../store/index.js";
import type { CarrierContext } from "../context.js";
import { signVerdict } from "./sign-verdict.js";

/** A verdict signed before its transaction, for the reasons foreseen then. */
export interface PresignedVerdict {
  reasons: readonly ReasonCode[];
  jws: string;
}

/**
 * Signs the verdict for judged evidence and, when its nonce was fresh, records it: one verdict
 * per nonce, so a replay gets a signed answer but can neither add a verdict nor overwrite one.
 * Runs inside the caller's transaction (activation's or migration's), so the verdict commits
 * with the state change it causes or not at all.
 *
 * `presigned` is used when the transaction's reasons are the ones it was signed for (the same
 * claims, at the same `now`); otherwise (the store changed in between: a racing submission, a
 * block) the verdict is signed here, inside the transaction, as the judgement now says.
 */
export async function signAndRecordVerdict(
  ctx: CarrierContext,
  tx: PartStore,
  j: Pick<EvidenceJudgement, "claims" | "nonceFresh" | "evidenceHash">,
  v: { approved: boolean; reasons: readonly ReasonCode[] },
  now: number,
  opts: { purpose?: "migration"; presigned?: PresignedVerdict } = {},
): Promise<{ jws: string; verdictId: string | null }> {
  const { approved, reasons } = v;
  const { imei, eat_nonce: nonce } = j.claims;
  const jws =
    opts.presigned && sameReasons(opts.presigned.reasons, reasons)
      ? opts.presigned.jws
      : (
          await signVerdict(ctx.keys, {
            carrierId: ctx.id,
            nonce,
            imei,
            approved,
            reasons,
            now,
            ...(opts.purpose ? { purpose: opts.purpose } : {}),
          })
        ).jws;
  if (!j.nonceFresh) return { jws, verdictId: null };
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
