import type { EvidenceJudgement } from "./judgement.js";

/**
 * What the device's own verification application found (identity, payload integrity, root
 * detection: DESIGN.md steps 1–3), believed only from attested evidence.
 */
export function addDeviceReasons(j: EvidenceJudgement): void {
  if (!j.attested) return;
  for (const r of j.claims.reasons) j.reasons.add(r);
}
