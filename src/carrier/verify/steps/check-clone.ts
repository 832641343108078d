import type { PartStore } from "../../../store/index.js";
import type { Judgement } from "../judgement.js";

/**
 * Step 5: clone detection. The IMEI is bound to one attestation key: the one registered with
 * the inventory at manufacture, else the one that first activated it. Evidence for that IMEI
 * under any other key is CLONE_SUSPECTED.
 */
export async function checkClone(j: Judgement, tx: PartStore): Promise<void> {
  j.device = await tx.devices.status(j.claims.imei);
  if (!j.attested || j.attestationThumbprint === null) return;
  const bound = j.inventory?.attestationThumbprint ?? j.device?.attestationThumbprint ?? null;
  if (bound !== null && bound !== j.attestationThumbprint) j.reasons.add("CLONE_SUSPECTED");
}
