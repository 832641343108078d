import { CARRIER_ID, isRecord } from "./shapes.js";

/**
 * What the TSZ accepts as a verdict (DESIGN.md step 6): a compact JWS (RFC 7515) signed with a
 * key pinned at manufacture for `carrier` (ES256 for an EC P-256 key, EdDSA for Ed25519); the
 * header's `kid`, when present, picks the pinned key. Claims:
 *
 * | claim | value |
 * | --- | --- |
 * | `eat_nonce` | the nonce of the evidence this verdict answers (the TSZ's last one) |
 * | `imei` | the attested IMEI |
 * | `carrier` | the carrier whose pinned key signed it |
 * | `verdict` | `"approved"` or `"denied"` |
 * | `reasons` | reason codes (CONTRACT.md), up to 32 |
 * | `iat` | issue time, seconds |
 * | `networkAccess` | optional: `"full"` or `"limited"` (default: full if approved) |
 * | `via` | optional: `carrier:ID` or `enterprise:ID` (default `carrier:<carrier>`) |
 * | `purpose` | optional: `"migration"` — a new carrier's answer to migration evidence; the TSZ
 *   applies an approval only together with the deposit of that carrier's key (EVIDENCE.md) |
 */
export interface VerdictClaims {
  eat_nonce: string;
  imei: string;
  carrier: string;
  verdict: "approved" | "denied";
  reasons: string[];
  iat: number;
  networkAccess?: "full" | "limited";
  via?: string;
  purpose?: "migration";
}

/** The longest verdict read, by the TSZ and by an enterprise checking an upstream's alike. */
export const MAX_VERDICT_CHARS = 16 * 1024;

const REASON = /^[A-Z][A-Z_]{0,39}$/;
const VIA = /^(carrier|enterprise):[a-z0-9][a-z0-9-]{0,31}$/;

/** The claims, or a description of the first thing wrong with them. */
export function parseVerdictClaims(v: unknown): VerdictClaims | string {
  if (!isRecord(v)) return "claims are not a JSON object";
  if (typeof v.eat_nonce !== "string" || v.eat_nonce.length > 128) return "eat_nonce";
  if (typeof v.imei !== "string" || v.imei.length > 32) return "imei";
  if (typeof v.carrier !== "string" || !CARRIER_ID.test(v.carrier)) return "carrier";
  if (v.verdict !== "approved" && v.verdict !== "denied") return "verdict";
  if (
    !Array.isArray(v.reasons) ||
    v.reasons.length > 32 ||
    !v.reasons.every((r) => typeof r === "string" && REASON.test(r))
  ) {
    return "reasons";
  }
  if (typeof v.iat !== "number" || !Number.isInteger(v.iat)) return "iat";
  if (
    v.networkAccess !== undefined &&
    v.networkAccess !== "full" &&
    v.networkAccess !== "limited"
  ) {
    return "networkAccess";
  }
  if (v.via !== undefined && (typeof v.via !== "string" || !VIA.test(v.via))) return "via";
  if (v.purpose !== undefined && v.purpose !== "migration") return "purpose";
  return v as unknown as VerdictClaims;
}
