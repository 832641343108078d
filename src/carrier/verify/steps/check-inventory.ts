import { normaliseEsn, normaliseMeid } from "../../../identity/index.js";
import type { PartStore } from "../../../store/index.js";
import type { Judgement } from "../judgement.js";

function norm(v: string | null, f: (s: string) => string): string | null {
  if (v === null) return null;
  try {
    return f(v);
  } catch {
    return v.toUpperCase();
  }
}

/**
 * Step 3: the attested IMEI is in this carrier's inventory (UNKNOWN_DEVICE otherwise), and the
 * MEID and ESN the TSZ fused are the ones registered for it (IDENTITY_MISMATCH otherwise).
 */
export async function checkInventory(j: Judgement, part: PartStore): Promise<void> {
  const rec = await part.inventory.get(j.claims.imei);
  j.inventory = rec;
  if (!rec) {
    j.reasons.add("UNKNOWN_DEVICE");
    return;
  }
  if (
    norm(j.claims.meid, normaliseMeid) !== norm(rec.meid, normaliseMeid) ||
    norm(j.claims.esn, normaliseEsn) !== norm(rec.esn, normaliseEsn)
  ) {
    j.reasons.add("IDENTITY_MISMATCH");
  }
}
