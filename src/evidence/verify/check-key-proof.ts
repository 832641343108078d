import { keyProofInput } from "../key-proof.js";
import type { EvidenceJudgement } from "./judgement.js";

/** The one keystore operation this step needs (the carrier's or the carrier's custody). */
export interface KeyProofVerifier {
  verifyKeyProof(kid: string, message: Uint8Array | string, mac: Uint8Array): Promise<boolean>;
}

/**
 * The proof of possession of the slot key (EVIDENCE.md "Key proof") is recomputed and compared
 * inside the keystore, which holds this carrier's copy of the key; the key never comes out. The
 * proof must be for this carrier and for the key id its record (inventory or custody) names.
 * KEY_PROOF_INVALID otherwise (including a proof made with another carrier's slot: migration
 * asks that carrier or the platform). Skipped when unattested or there is no record.
 */
export async function checkKeyProof(
  j: EvidenceJudgement,
  keys: KeyProofVerifier,
  carrierId: string,
  record: { readonly kid: string } | null,
): Promise<void> {
  if (!j.attested || !record || j.keyProof === null || j.payloadSegment === null) return;
  const { carrier, kid, eat_nonce } = j.claims;
  let ok = carrier === carrierId && kid !== null && kid === record.kid;
  if (ok) {
    try {
      ok = await keys.verifyKeyProof(
        kid!,
        keyProofInput(eat_nonce, j.payloadSegment),
        new Uint8Array(Buffer.from(j.keyProof, "base64url")),
      );
    } catch {
      // An unknown kid (KEY_NOT_FOUND) fails like a wrong proof; the keystore says no more.
      ok = false;
    }
  }
  if (!ok) j.reasons.add("KEY_PROOF_INVALID");
}
