import type { EvidenceClaims } from "../evidence-claims.js";
import type { ReasonCode } from "../reasons.js";

/**
 * What a server's verification steps learn about one evidence, filled in step by step (DESIGN.md
 * step 5). Each step adds reasons; none removes one (but withholdUnattested, last). The carrier and the platform extend it with
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

/**
 * Whether the evidence speaks for the device its IMEI names, so that its verdict belongs in
 * that device's history: attested (a genuine TSZ signed it), the IMEI is one the server has a
 * record of (`known`: inventory, custody), and no other attestation key holds that IMEI. Anyone
 * can claim an IMEI in evidence they sign themselves: such a verdict is still signed, answered
 * and audited, but recorded against that IMEI it would let anyone write into any device's
 * history.
 */
export function speaksForItsImei(j: EvidenceJudgement, known: boolean): boolean {
  return j.attested && known && !j.reasons.has("CLONE_SUSPECTED");
}

/** Reasons about the message itself (its signature, its nonce, who sent it), not the device. */
const MESSAGE_REASONS = new Set<ReasonCode>([
  "ATTESTATION_INVALID",
  "NONCE_REPLAYED",
  "NONCE_EXPIRED",
  "TOKEN_INVALID",
  "CARRIER_UNKNOWN",
]);

/**
 * Evidence that fails attestation is anyone's, and its verdict or answer says so and nothing
 * else: what the server found when it looked up the IMEI it names (unknown, blocked,
 * terminated, subsidy-locked, a clone, another identity, a key proof that fails) is withheld
 * from it. Otherwise anyone could sign evidence naming any IMEI and read that device's record
 * from the reasons. Call once every step has added its reasons; the nonce's stay.
 */
export function withholdUnattested(j: EvidenceJudgement): void {
  if (j.attested) return;
  for (const r of j.reasons) if (!MESSAGE_REASONS.has(r)) j.reasons.delete(r);
}

/**
 * The judgement so far, for steps that add to it on one path only: the verdict a server
 * foresees before its transaction is judged on a copy, so the transaction starts from what the
 * steps before it found.
 */
export function forkJudgement<T extends EvidenceJudgement>(j: T): T {
  return { ...j, reasons: new Set(j.reasons) };
}

/**
 * The nonce step's verdict on what the server's nonce store answered (a consume, or a peek when
 * foreseen): fresh, or NONCE_REPLAYED, or NONCE_EXPIRED for one expired, never issued or not
 * this asker's.
 */
export function judgeNonce(j: EvidenceJudgement, status: NonceStatus): void {
  if (status === "ok") j.nonceFresh = true;
  else j.reasons.add(status === "replayed" ? "NONCE_REPLAYED" : "NONCE_EXPIRED");
}

/** What a server's nonce store answers about one nonce. */
export type NonceStatus = "ok" | "replayed" | "expired" | "unknown";

/** The part of a server's nonce store that foreseeing the nonce step needs. */
export interface NoncePeek {
  peek(nonce: string, now: number): Promise<NonceStatus>;
}

/**
 * The nonce step as it would go now, consuming nothing: for the verdict a server foresees
 * outside the transaction that consumes the nonce (a concurrent consumer may still win).
 */
export async function foreseeNonce(
  j: EvidenceJudgement,
  nonces: NoncePeek,
  now: number,
): Promise<void> {
  judgeNonce(j, await nonces.peek(j.claims.eat_nonce, now));
}
