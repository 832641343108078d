import type { KeyObject } from "node:crypto";
import { calculateJwkThumbprint, type JWK } from "jose";
import {
  type CompactJwsFormProblem,
  decodeCompactJws,
  type JwsAlgorithm,
  verifyCompactJws,
} from "../../evidence/compact-jws.js";
import { jwsAlgorithmFor, jwsPublicKey } from "../../evidence/jws-public-key.js";
import { MAX_VERDICT_CHARS, parseVerdictClaims } from "../../evidence/verdict-claims.js";
import { DeviceError } from "../errors.js";
import type { PinnedKey, TszState, VerdictRecord } from "./state.js";

/**
 * Step 6: the TSZ accepts a verdict only under a server key pinned at manufacture (per carrier),
 * for the nonce of its last evidence and for its own IMEI; anything else is refused with a typed
 * error and changes nothing. Claims per verdict-claims.ts.
 */

/** The algorithms of the keys a TSZ pins (pinKey). */
const VERDICT_ALGORITHMS: readonly JwsAlgorithm[] = ["ES256", "EdDSA"];

/** A pinned key from a server's public JWK: private members refused, kid defaulted (RFC 7638). */
export async function pinKey(carrier: string, jwk: JWK, kid?: string): Promise<PinnedKey> {
  if (jwsAlgorithmFor(jwk) === null || "d" in jwk) {
    throw new DeviceError(
      "DEVICE_INVALID_OPTIONS",
      `the verdict key for ${carrier} must be a public EC P-256 or Ed25519 JWK`,
    );
  }
  const pub: JWK = { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
  if (jwk.y !== undefined) pub.y = jwk.y;
  return { carrier, kid: kid ?? (await calculateJwkThumbprint(pub)), jwk: pub };
}

function malformed(what: string): DeviceError {
  return new DeviceError("VERDICT_MALFORMED", `verdict is malformed: ${what}`);
}

function signerUnknown(): DeviceError {
  return new DeviceError(
    "VERDICT_SIGNER_UNKNOWN",
    "no key pinned at manufacture matches the verdict's signer",
  );
}

/** A verdict of the wrong form; an `alg` no key is pinned for names no signer the TSZ knows. */
function refusalOf(problem: CompactJwsFormProblem): DeviceError {
  switch (problem) {
    case "alg":
      return signerUnknown();
    case "header":
      return malformed("unreadable protected header");
    case "crit":
    case "crit-invalid":
      // No header parameter is understood beyond the plain ones (RFC 7515 §4.1.11).
      return malformed("unsupported critical header parameters");
    case "shape":
    case "encoding":
      return malformed("not a compact JWS");
  }
}

export async function checkVerdict(
  jws: string,
  state: TszState,
  pendingNonce: string | null,
  now: Date = new Date(),
): Promise<VerdictRecord & { migration: boolean }> {
  const decoded = decodeCompactJws(jws, {
    maxChars: MAX_VERDICT_CHARS,
    algorithms: VERDICT_ALGORITHMS,
  });
  if (!decoded.ok) throw refusalOf(decoded.problem);
  const { alg, header } = decoded.jws;
  const candidates = state.pinned.filter(
    (p) => (header.kid === undefined || p.kid === header.kid) && jwsAlgorithmFor(p.jwk) === alg,
  );
  if (candidates.length === 0) throw signerUnknown();
  let signer: PinnedKey | undefined;
  let parsed: unknown;
  for (const p of candidates) {
    let key: KeyObject;
    try {
      key = jwsPublicKey(p.jwk);
    } catch {
      throw malformed("bad JWS structure");
    }
    const verified = verifyCompactJws(decoded.jws, key);
    if (verified.ok) {
      signer = p;
      parsed = verified.payload;
      break;
    }
    if (verified.problem === "payload") throw malformed("payload is not JSON");
    if (verified.problem === "payload-not-object") throw malformed("payload is not a JSON object");
  }
  if (!signer) {
    throw new DeviceError(
      "VERDICT_SIGNATURE_INVALID",
      "the verdict's signature does not verify under its pinned key",
    );
  }
  const claims = parseVerdictClaims(parsed);
  if (typeof claims === "string") throw malformed(`claim ${claims}`);
  if (claims.carrier !== signer.carrier) {
    throw new DeviceError(
      "VERDICT_SIGNER_UNKNOWN",
      `a key pinned for ${signer.carrier} cannot sign a verdict for ${claims.carrier}`,
    );
  }
  if (pendingNonce === null || claims.eat_nonce !== pendingNonce) {
    throw new DeviceError(
      "VERDICT_NONCE_MISMATCH",
      "the verdict does not answer this TSZ's last evidence",
    );
  }
  if (claims.imei !== state.imei) {
    throw new DeviceError("VERDICT_SUBJECT_MISMATCH", "the verdict is for another device");
  }
  return {
    verdict: claims.verdict,
    reasons: claims.reasons,
    carrier: claims.carrier,
    networkAccess: claims.networkAccess ?? (claims.verdict === "approved" ? "full" : "limited"),
    via: claims.via ?? `carrier:${claims.carrier}`,
    acceptedAt: now.toISOString(),
    migration: claims.purpose === "migration",
  };
}
