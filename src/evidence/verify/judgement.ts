import type { EvidenceClaims } from "../evidence-claims.js";
import type { ReasonCode } from "../reasons.js";

/**
 * What a server's verification steps learn about one evidence, filled in step by step (DESIGN.md
 * step 5). Each step adds reasons; none removes one. The carrier and the platform extend it with
 * the record they check the evidence against (inventory, custody).
 */
export interface EvidenceJudgement {
  /** The compact JWS as received. */
  readonly evidence: string;
  /** SHA-256 of the evidence, base64url: what the verdict record names. */
  readonly evidenceHash: string;
  /** The claims, shape-checked; trusted only when `attested`. */
  readonly claims: EvidenceClaims;
  readonly reasons: Set<ReasonCode>;
  /** Signature and chain verified: the claims come from a genuine device's TSZ. */
  attested: boolean;
  /** The attestation key's identity (SHA-256 of its SPKI), when attested. */
  attestationThumbprint: string | null;
  /** The device's attestation certificate (PEM), when attested: a migration records it. */
  certificatePem: string | null;
  /** The payload segment and key proof, when attested. */
  payloadSegment: string | null;
  keyProof: string | null;
  /** The nonce was fresh and is now consumed. */
  nonceFresh: boolean;
}
