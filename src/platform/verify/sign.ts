import type { ReasonCode, VerdictClaims } from "../../evidence/index.js";
import type { Keystore, SigningPublicJwk } from "../../keystore/index.js";

/**
 * The platform's verdict for the device's TSZ (EVIDENCE.md "Verdict"). It is signed with a key
 * the platform keeps *in the carrier's custody* (owner `carrier:<id>`, label below), which the
 * carrier lets the OEM pin for it at manufacture beside its own verdict key: the TSZ accepts it
 * because it is pinned for that carrier, and only this carrier's custody can sign with it.
 */
export const PLATFORM_VERDICT_LABEL = "platform-verdict";
export const VERDICT_TYP = "verdict+jwt";

export function platformVerdictKey(
  keystore: Keystore,
  carrierId: string,
): Promise<SigningPublicJwk> {
  return keystore.forOwner(`carrier:${carrierId}`).ensureSigningKey(PLATFORM_VERDICT_LABEL);
}

export async function signPlatformVerdict(
  keystore: Keystore,
  v: {
    carrierId: string;
    nonce: string;
    imei: string;
    reasons: readonly ReasonCode[];
    via: string;
    now: number;
  },
): Promise<string> {
  const approved = v.reasons.length === 0;
  const claims: VerdictClaims = {
    eat_nonce: v.nonce,
    imei: v.imei,
    carrier: v.carrierId,
    verdict: approved ? "approved" : "denied",
    reasons: [...v.reasons],
    iat: Math.floor(v.now / 1000),
    networkAccess: approved ? "full" : "limited",
    via: v.via,
  };
  return keystore
    .forOwner(`carrier:${v.carrierId}`)
    .signJws(PLATFORM_VERDICT_LABEL, JSON.stringify(claims), { typ: VERDICT_TYP });
}
