import type { EvidenceJudgement } from "../../evidence/index.js";
import type { CustodyRecord } from "../custody/records.js";

/**
 * What the platform learns about one evidence, step by step (the carrier's DESIGN.md step 5,
 * made with the carrier's custody instead of its inventory): the shared part
 * (src/evidence/verify/judgement.ts) and the custody record. Steps only add reasons.
 */
export interface Judgement extends EvidenceJudgement {
  record: CustodyRecord | null;
}
