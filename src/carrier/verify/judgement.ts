import type { EvidenceClaims, ReasonCode } from "../../evidence/index.js";
import type { DeviceRecord, InventoryRecord } from "../../store/index.js";

/**
 * What the verification steps learn about one evidence, filled in step by step (DESIGN.md step
 * 5). Each step adds reasons; none removes one. The verdict is `approved` when no step added any.
 */
export interface Judgement {
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
  /** The payload segment and key proof, when attested. */
  payloadSegment: string | null;
  keyProof: string | null;
  /** The nonce was fresh and is now consumed. */
  nonceFresh: boolean;
  inventory: InventoryRecord | null;
  device: DeviceRecord | null;
}
