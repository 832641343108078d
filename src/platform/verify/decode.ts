import { decodeEvidence as decodeShared } from "../../evidence/index.js";
import { PlatformError } from "../errors.js";
import type { Judgement } from "./judgement.js";

/**
 * Step 0 (src/evidence/verify/decode-evidence.ts): read only to learn the carrier, IMEI and
 * nonce; nothing in it is believed until the attestation step passes.
 */
export function decodeEvidence(evidence: string): Judgement {
  const j = decodeShared(evidence, (m, d) => new PlatformError("EVIDENCE_MALFORMED", m, d));
  return { ...j, record: null };
}
