import type { TrustAnchor } from "../attestation.js";
import { verifyAttestationOffThread } from "../attestation-thread.js";
import type { EvidenceJudgement } from "./judgement.js";

/**
 * Step 1: signature with the x5c certificate, and that certificate's chain to a trusted OEM CA,
 * valid now (DESIGN.md step 5; RFC 7515 §4.1.6). A counterfeit, an expired certificate or a
 * bad signature is ATTESTATION_INVALID, and nothing the evidence says about the device is
 * believed afterwards. Returns the problem, for the audit log, or null. The check runs on the
 * process's attestation thread (attestation-thread.ts).
 */
export async function checkAttestation(
  j: EvidenceJudgement,
  anchors: readonly TrustAnchor[],
  now: number,
): Promise<string | null> {
  const r = await verifyAttestationOffThread(j.evidence, anchors, now);
  if (!r.ok) {
    j.reasons.add("ATTESTATION_INVALID");
    return `${r.problem}: ${r.detail}`;
  }
  j.attested = true;
  j.attestationThumbprint = r.attestationThumbprint;
  j.certificatePem = r.certificatePem;
  j.payloadSegment = r.payloadSegment;
  j.keyProof = r.keyProof;
  return null;
}
