import {
  calculateJwkThumbprint,
  compactVerify,
  decodeProtectedHeader,
  errors,
  importJWK,
  type JWK,
} from "jose";
import { parseVerdictClaims } from "../../evidence/verdict-claims.js";
import { DeviceError } from "../errors.js";
import type { PinnedKey, TszState, VerdictRecord } from "./state.js";

/**
 * Step 6: the TSZ accepts a verdict only under a server key pinned at manufacture (per carrier),
 * for the nonce of its last evidence and for its own IMEI; anything else is refused with a typed
 * error and changes nothing. Claims per verdict-claims.ts.
 */
const MAX_VERDICT_CHARS = 16 * 1024;
const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** The JWS algorithm a pinned public key verifies (RFC 7518 §3.4, RFC 8037 §3.1), or null. */
export function algorithmFor(jwk: JWK): "ES256" | "EdDSA" | null {
  if (
    jwk.kty === "EC" &&
    jwk.crv === "P-256" &&
    typeof jwk.x === "string" &&
    typeof jwk.y === "string"
  ) {
    return "ES256";
  }
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519" && typeof jwk.x === "string") return "EdDSA";
  return null;
}

/** A pinned key from a server's public JWK: private members refused, kid defaulted (RFC 7638). */
export async function pinKey(carrier: string, jwk: JWK, kid?: string): Promise<PinnedKey> {
  if (algorithmFor(jwk) === null || "d" in jwk) {
    throw new DeviceError(
      "DEVICE_INVALID_OPTIONS",
      `the verdict key for ${carrier} must be a public EC P-256 or Ed25519 JWK`,
    );
  }
  const pub: JWK = { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
  if (jwk.y !== undefined) pub.y = jwk.y;
  return { carrier, kid: kid ?? (await calculateJwkThumbprint(pub)), jwk: pub };
}

/**
 * Pinned keys imported once per key object: the TSZ keeps its state's pinned keys for as long
 * as the device is open, and importing costs more than verifying.
 */
const imported = new WeakMap<JWK, ReturnType<typeof importJWK>>();

function verdictKey(jwk: JWK, alg: "ES256" | "EdDSA"): ReturnType<typeof importJWK> {
  let key = imported.get(jwk);
  if (!key) {
    key = importJWK(jwk, alg);
    // A failed import is not kept: the next verdict tries again.
    key.catch(() => imported.delete(jwk));
    imported.set(jwk, key);
  }
  return key;
}

function malformed(what: string): DeviceError {
  return new DeviceError("VERDICT_MALFORMED", `verdict is malformed: ${what}`);
}

export async function checkVerdict(
  jws: string,
  state: TszState,
  pendingNonce: string | null,
  now: Date = new Date(),
): Promise<VerdictRecord & { migration: boolean }> {
  if (jws.length > MAX_VERDICT_CHARS || !COMPACT.test(jws)) throw malformed("not a compact JWS");
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(jws);
  } catch {
    throw malformed("unreadable protected header");
  }
  const candidates = state.pinned.filter(
    (p) => (header.kid === undefined || p.kid === header.kid) && algorithmFor(p.jwk) === header.alg,
  );
  if (candidates.length === 0) {
    throw new DeviceError(
      "VERDICT_SIGNER_UNKNOWN",
      "no key pinned at manufacture matches the verdict's signer",
    );
  }
  let signer: PinnedKey | undefined;
  let payload: Uint8Array | undefined;
  for (const p of candidates) {
    const alg = algorithmFor(p.jwk)!;
    try {
      const r = await compactVerify(jws, await verdictKey(p.jwk, alg), { algorithms: [alg] });
      signer = p;
      payload = r.payload;
      break;
    } catch (err) {
      if (!(err instanceof errors.JWSSignatureVerificationFailed))
        throw malformed("bad JWS structure");
    }
  }
  if (!signer || !payload) {
    throw new DeviceError(
      "VERDICT_SIGNATURE_INVALID",
      "the verdict's signature does not verify under its pinned key",
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload).toString("utf8"));
  } catch {
    throw malformed("payload is not JSON");
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
