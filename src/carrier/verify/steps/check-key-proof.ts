import { keyProofInput } from "../../../evidence/index.js";
import type { TenantKeystore } from "../../../keystore/index.js";
import type { Judgement } from "../judgement.js";

/**
 * Step 4: the proof of possession of the slot key (EVIDENCE.md "Key proof") is recomputed and
 * compared inside the keystore, which holds this carrier's copy of the key; the key never comes
 * out. The proof must be for this carrier and for the key id the inventory names.
 * KEY_PROOF_INVALID otherwise (including a proof made with another carrier's slot: migration
 * asks that carrier or the platform, issue 6).
 */
export async function checkKeyProof(
  j: Judgement,
  keys: TenantKeystore,
  carrierId: string,
): Promise<void> {
  if (!j.attested || !j.inventory || j.keyProof === null || j.payloadSegment === null) return;
  const { carrier, kid, eat_nonce } = j.claims;
  let ok = carrier === carrierId && kid !== null && kid === j.inventory.kid;
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
