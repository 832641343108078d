import type { ReasonCode, VerdictClaims } from "../../evidence/index.js";
import type { TenantKeystore } from "../../keystore/index.js";
import { VERDICT_KEY_LABEL } from "../context.js";

/** The verdict JWS's `typ` (RFC 7515 §4.1.9): a JWT of this profile. */
export const VERDICT_TYP = "verdict+jwt";

/**
 * The verdict the device TSZ accepts (EVIDENCE.md "Verdict"), signed ES256 inside the keystore
 * with the carrier's verdict key; its `kid` is the key's RFC 7638 thumbprint, which is what the
 * TSZ pinned at manufacture.
 */
export async function signVerdict(
  keys: TenantKeystore,
  v: {
    carrierId: string;
    nonce: string;
    imei: string;
    approved: boolean;
    reasons: readonly ReasonCode[];
    now: number;
    /** A migration verdict (EVIDENCE.md "Migration"): the TSZ applies it with the key deposit. */
    purpose?: "migration";
  },
): Promise<{ jws: string; claims: VerdictClaims }> {
  const claims: VerdictClaims = {
    eat_nonce: v.nonce,
    imei: v.imei,
    carrier: v.carrierId,
    verdict: v.approved ? "approved" : "denied",
    reasons: [...v.reasons],
    iat: Math.floor(v.now / 1000),
    networkAccess: v.approved ? "full" : "limited",
    via: `carrier:${v.carrierId}`,
    ...(v.purpose ? { purpose: v.purpose } : {}),
  };
  const jws = await keys.signJws(VERDICT_KEY_LABEL, JSON.stringify(claims), { typ: VERDICT_TYP });
  return { jws, claims };
}
