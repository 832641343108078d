import { checkIdentity, type IdentityReason, normaliseMeid } from "../../../identity/index.js";

/**
 * Step 1 of the verification application (DESIGN.md): the fused identity against the
 * predefined rules (IMEI Luhn, TAC vs model, MEID and its pseudo-ESN), all in src/identity; and
 * the identity the normal world reports against the fused one. The fused IMEI is the one judged
 * and attested; the reported one is only compared (CONTRACT.md, tamper table note).
 */
export interface FusedIdentity {
  imei: string;
  meid: string | null;
  esn: string | null;
  model: string;
}

export interface ReportedIdentityClaim {
  imei: string;
  meid: string | null;
}

function sameMeid(a: string, b: string): boolean {
  try {
    return normaliseMeid(a) === normaliseMeid(b);
  } catch {
    return a.toUpperCase() === b.toUpperCase();
  }
}

export function checkDeviceIdentity(
  fused: FusedIdentity,
  reported: ReportedIdentityClaim,
): IdentityReason[] {
  const reasons = checkIdentity({ ...fused, reportedImei: reported.imei });
  const meidDiffers =
    fused.meid !== null && reported.meid !== null && !sameMeid(fused.meid, reported.meid);
  if (meidDiffers && !reasons.includes("IDENTITY_MISMATCH")) {
    const order: IdentityReason[] = ["IDENTITY_MALFORMED", "IDENTITY_MISMATCH", "IDENTITY_MODEL"];
    return order.filter((r) => r === "IDENTITY_MISMATCH" || reasons.includes(r));
  }
  return reasons;
}
