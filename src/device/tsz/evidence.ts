import { type KeyObject, sign } from "node:crypto";
import {
  EVIDENCE_PROFILE,
  EVIDENCE_TYP,
  type EvidenceClaims,
  encodeMeasurements,
  hwmodelFor,
  ueidForImei,
} from "../../evidence/evidence-claims.js";
import { computeKeyProof, KEY_PROOF_HEADER } from "../../evidence/key-proof.js";
import type { TszState } from "./state.js";
import type { VerificationResult } from "./verification.js";

/**
 * Step 4: signed evidence. Claims per evidence-claims.ts, signature per RFC 7515 (ES256), key
 * proof per key-proof.ts. Only the proof, never the slot key, goes into the token.
 */

/**
 * The slot whose key proves possession: the requested carrier's, else the one matching the
 * payload, else the first occupied slot; -1 when the TSZ holds no key at all.
 */
export function chooseProofSlot(
  state: TszState,
  carrier: string | null,
  matchedSlot: number,
): number {
  if (carrier !== null) {
    const i = state.slots.findIndex((s) => s?.carrier === carrier);
    if (i >= 0) return i;
  }
  if (matchedSlot >= 0) return matchedSlot;
  return state.slots.findIndex((s) => s !== null);
}

export function buildEvidenceClaims(
  state: TszState,
  result: VerificationResult,
  nonce: string,
  slot: number,
  now: Date = new Date(),
): EvidenceClaims {
  const s = slot >= 0 ? state.slots[slot] : null;
  const { root } = result.measured;
  return {
    eat_profile: EVIDENCE_PROFILE,
    iat: Math.floor(now.getTime() / 1000),
    eat_nonce: nonce,
    ueid: ueidForImei(state.imei),
    oemid: state.oemId,
    hwmodel: hwmodelFor(state.model),
    dbgstat: result.reasons.includes("ROOT_DEBUGGABLE") ? 0 : 1,
    oemboot: !result.reasons.includes("OS_MODIFIED") && !result.reasons.includes("ROOT_TEST_KEYS"),
    measurements: encodeMeasurements({
      payload: {
        size: result.measured.payloadSize,
        crc32:
          result.measured.payloadCrc32 === null
            ? null
            : result.measured.payloadCrc32.toString(16).padStart(8, "0"),
      },
      osImage: { sha256: root.osImageSha256 },
      otaCerts: { sha256: root.otaCertsSha256 },
      buildTags: root.buildProps?.get("ro.build.tags") ?? null,
      su: root.suPaths,
    }),
    imei: state.imei,
    meid: state.meid,
    esn: state.esn,
    model: state.model,
    carrier: s?.carrier ?? null,
    kid: s?.kid ?? null,
    slot: s ? slot : null,
    reasons: result.reasons,
  };
}

/**
 * The evidence as a compact JWS (RFC 7515 §7.1): protected header (alg, typ, x5c and the key
 * proof over the payload segment), payload, ES256 signature as R ‖ S (RFC 7518 §3.4).
 * `signingKey` comes from `importSigningKey`, which checked that it is a P-256 private key.
 */
export async function signEvidence(
  claims: EvidenceClaims,
  signingKey: KeyObject,
  certificateDer: string,
  slotKey: Uint8Array | null,
): Promise<string> {
  const segment = Buffer.from(JSON.stringify(claims), "utf8").toString("base64url");
  const header: Record<string, unknown> = {
    alg: "ES256",
    typ: EVIDENCE_TYP,
    x5c: [certificateDer],
  };
  if (slotKey) header[KEY_PROOF_HEADER] = computeKeyProof(slotKey, claims.eat_nonce, segment);
  const input = `${Buffer.from(JSON.stringify(header), "utf8").toString("base64url")}.${segment}`;
  const signature = sign("sha256", Buffer.from(input, "ascii"), {
    key: signingKey,
    dsaEncoding: "ieee-p1363",
  });
  return `${input}.${signature.toString("base64url")}`;
}
