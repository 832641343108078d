import { judgeNonce } from "../../evidence/index.js";
import type { PartStore } from "../../store/index.js";
import type { Judgement } from "./judgement.js";

/**
 * The platform's own verification steps, each one named check (STYLE habit 4), in the order the
 * carrier server makes them, so the same evidence gets the same reasons from either. The steps
 * both make alike (attestation, key proof, device reasons) are src/evidence/verify/.
 */

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
  judgeNonce(j, r.status === "ok" && r.nonce.subject !== asker ? "expired" : r.status);
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
