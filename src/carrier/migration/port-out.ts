import { addDeviceReasons, checkAttestation, checkKeyProof } from "../../evidence/index.js";
import type { JsonObject } from "../../store/index.js";
import type { CarrierContext } from "../context.js";
import { CarrierError } from "../errors.js";
import { checkInventory } from "../verify/steps/check-inventory.js";
import { decodeEvidence } from "../verify/steps/decode-evidence.js";

/**
 * The old carrier A learns that one of its devices moved to B: B forwards the device's migration
 * evidence, which proves possession of A's slot key (checked in A's keystore) and names B as
 * `migrateTo`. A records it (kv `ported-out/<IMEI>`, an audit entry) and changes nothing else:
 * the device keeps its service with A until the subscriber ends it (`carrier terminate`, which
 * takes it off A's network access permission list). Repeating a notice changes nothing.
 */
export const PORTED_OUT_NS = "ported-out";

export interface PortOut {
  imei: string;
  to: string;
  at: string;
  evidenceHash: string;
}

export async function recordPortOut(ctx: CarrierContext, evidence: string): Promise<PortOut> {
  const j = decodeEvidence(evidence);
  const to = j.claims.migrateTo;
  if (to === undefined || to === ctx.id || j.claims.carrier !== ctx.id) {
    throw new CarrierError(
      "EVIDENCE_MALFORMED",
      `a port-out notice needs migration evidence proving ${ctx.id}'s key`,
    );
  }
  const now = ctx.now();
  await checkAttestation(j, ctx.anchors, now);
  await checkInventory(j, ctx.part);
  await checkKeyProof(j, ctx.keys, ctx.id, j.inventory);
  addDeviceReasons(j);
  const bad = ["ATTESTATION_INVALID", "UNKNOWN_DEVICE", "KEY_PROOF_INVALID", "IDENTITY_MISMATCH"];
  if (!j.attested || [...j.reasons].some((r) => bad.includes(r))) {
    throw new CarrierError(
      "EVIDENCE_MALFORMED",
      `the port-out notice does not prove a device of ${ctx.id}`,
    );
  }
  const imei = j.claims.imei;
  return ctx.part.transaction(async (tx) => {
    const had = await tx.kv.get(PORTED_OUT_NS, imei);
    const prior = had?.value as unknown as PortOut | undefined;
    if (prior && prior.to === to) return prior;
    const rec: PortOut = {
      imei,
      to,
      at: new Date(now).toISOString(),
      evidenceHash: j.evidenceHash,
    };
    await tx.kv.put(PORTED_OUT_NS, imei, rec as unknown as JsonObject, { now });
    await tx.audit.append(
      { actor: ctx.owner, action: "ported-out", subject: imei, details: { to } },
      now,
    );
    return rec;
  });
}

export async function portOutOf(ctx: CarrierContext, imei: string): Promise<PortOut | null> {
  const e = await ctx.part.kv.get(PORTED_OUT_NS, imei);
  return e ? (e.value as unknown as PortOut) : null;
}
