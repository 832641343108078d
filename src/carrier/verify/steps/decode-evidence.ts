import { decodeEvidence as decodeShared } from "../../../evidence/index.js";
import { CarrierError } from "../../errors.js";
import type { Judgement } from "../judgement.js";

/**
 * Step 0 (src/evidence/verify/decode-evidence.ts): a compact JWS with the claims of
 * EVIDENCE.md, or EVIDENCE_MALFORMED, changing nothing.
 */
export function decodeEvidence(evidence: string): Judgement {
  const j = decodeShared(evidence, (m, d) => new CarrierError("EVIDENCE_MALFORMED", m, d));
  return { ...j, inventory: null, device: null };
}
