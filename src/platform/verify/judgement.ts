import type { EvidenceClaims, ReasonCode } from "../../evidence/index.js";
import type { CustodyRecord } from "../custody/records.js";

/**
 * What the platform learns about one evidence, step by step (the carrier's DESIGN.md step 5,
 * made with the carrier's custody instead of its inventory). Steps only add reasons.
 */
export interface Judgement {
  readonly evidence: string;
  readonly evidenceHash: string;
  /** Shape-checked claims; believed only once `attested`. */
  readonly claims: EvidenceClaims;
  readonly reasons: Set<ReasonCode>;
  attested: boolean;
  attestationThumbprint: string | null;
  payloadSegment: string | null;
  keyProof: string | null;
  nonceFresh: boolean;
  record: CustodyRecord | null;
}
