import { keyProofInput, type TrustAnchor, verifyAttestation } from "../../evidence/index.js";
import type { TenantKeystore } from "../../keystore/index.js";
import type { PartStore } from "../../store/index.js";
import type { Judgement } from "./judgement.js";

/**
 * The platform's verification steps, each one named check (STYLE habit 4), in the order the
 * carrier server makes them, so the same evidence gets the same reasons from either.
 */

/** Signature and OEM chain (RFC 7515 §4.1.6); ATTESTATION_INVALID otherwise. */
export async function checkAttestation(
  j: Judgement,
  anchors: readonly TrustAnchor[],
  now: number,
): Promise<string | null> {
  const r = await verifyAttestation(j.evidence, anchors, new Date(now));
  if (!r.ok) {
    j.reasons.add("ATTESTATION_INVALID");
    return `${r.problem}: ${r.detail}`;
  }
  j.attested = true;
  j.attestationThumbprint = r.attestationThumbprint;
  j.payloadSegment = r.payloadSegment;
  j.keyProof = r.keyProof;
  return null;
}

/** The attested IMEI is in the carrier's custody; its MEID/ESN match the record. */
export function checkRecord(j: Judgement): void {
  const rec = j.record;
  if (!rec) {
    j.reasons.add("UNKNOWN_DEVICE");
    return;
  }
  const up = (v: string | null) => (v === null ? null : v.toUpperCase());
  if (up(j.claims.meid) !== up(rec.meid) || up(j.claims.esn) !== up(rec.esn)) {
    j.reasons.add("IDENTITY_MISMATCH");
  }
}

/**
 * The key proof is recomputed inside the platform keystore, in the carrier's custody (EVIDENCE.md
 * "Key proof"); the key never comes out. KEY_PROOF_INVALID for a wrong proof, kid or carrier.
 */
export async function checkKeyProof(
  j: Judgement,
  keys: TenantKeystore,
  carrierId: string,
): Promise<void> {
  if (!j.attested || !j.record || j.keyProof === null || j.payloadSegment === null) return;
  const { carrier, kid, eat_nonce } = j.claims;
  let ok = carrier === carrierId && kid !== null && kid === j.record.kid;
  if (ok) {
    try {
      ok = await keys.verifyKeyProof(
        kid!,
        keyProofInput(eat_nonce, j.payloadSegment),
        new Uint8Array(Buffer.from(j.keyProof, "base64url")),
      );
    } catch {
      ok = false; // an unknown kid fails like a wrong proof
    }
  }
  if (!ok) j.reasons.add("KEY_PROOF_INVALID");
}

/**
 * The nonce is one the platform issued to this asker, unexpired and unused, consumed now.
 * A nonce issued to another tenant is as good as none (NONCE_EXPIRED); it is spent all the same.
 */
export async function checkNonce(
  j: Judgement,
  part: PartStore,
  asker: string,
  now: number,
): Promise<void> {
  const r = await part.nonces.consume(j.claims.eat_nonce, now);
  if (r.status === "ok" && r.nonce.subject === asker) {
    j.nonceFresh = true;
    return;
  }
  j.reasons.add(r.status === "replayed" ? "NONCE_REPLAYED" : "NONCE_EXPIRED");
}

/** The IMEI is bound to the attestation key deposited with it: any other is a clone. */
export function checkClone(j: Judgement): void {
  if (!j.attested || !j.record || j.attestationThumbprint === null) return;
  if (j.record.attestationThumbprint !== j.attestationThumbprint) j.reasons.add("CLONE_SUSPECTED");
}

/** The carrier's marks: lost/stolen, service ended. */
export function checkStatus(j: Judgement): void {
  if (j.record?.status === "blocked") j.reasons.add("DEVICE_BLOCKED");
  if (j.record?.status === "terminated") j.reasons.add("DEVICE_TERMINATED");
}

/** What the device's own verification application found, believed only from attested evidence. */
export function addDeviceReasons(j: Judgement): void {
  if (!j.attested) return;
  for (const r of j.claims.reasons) j.reasons.add(r);
}
