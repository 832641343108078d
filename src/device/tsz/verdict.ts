import { createPublicKey, type JsonWebKey, type KeyObject, verify } from "node:crypto";
import { calculateJwkThumbprint, type JWK } from "jose";
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
 * as the device is open, and importing costs more than verifying. A key that fails to import is
 * not kept: the next verdict tries again.
 */
const imported = new WeakMap<JWK, KeyObject>();

function verdictKey(jwk: JWK): KeyObject {
  let key = imported.get(jwk);
  if (!key) {
    key = createPublicKey({ key: jwk as JsonWebKey, format: "jwk" });
    imported.set(jwk, key);
  }
  return key;
}

/**
 * Whether `signature` is `alg`'s signature of `input` under `key` (RFC 7518 §3.4: ES256 is
 * R ‖ S, 64 octets; RFC 8037 §3.1: EdDSA). node:crypto verifies synchronously, sparing the
 * thread pool round trip Web Crypto makes for a check this small.
 */
function signatureValid(
  alg: "ES256" | "EdDSA",
  key: KeyObject,
  input: Buffer,
  signature: Buffer,
): boolean {
  if (alg === "ES256") {
    return (
      signature.length === 64 &&
      verify("sha256", input, { key, dsaEncoding: "ieee-p1363" }, signature)
    );
  }
  return signature.length === 64 && verify(null, input, key, signature);
}

/** A base64url segment's octets; null when its length cannot be unpadded base64url (RFC 7515 §2). */
function segmentBytes(segment: string): Buffer | null {
  return segment.length % 4 === 1 ? null : Buffer.from(segment, "base64url");
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
  const dot1 = jws.indexOf(".");
  const dot2 = jws.indexOf(".", dot1 + 1);
  const headerBytes = segmentBytes(jws.slice(0, dot1));
  const payloadBytes = segmentBytes(jws.slice(dot1 + 1, dot2));
  const signature = segmentBytes(jws.slice(dot2 + 1));
  if (!headerBytes || !payloadBytes || !signature) throw malformed("not a compact JWS");
  let header: Record<string, unknown>;
  try {
    const h: unknown = JSON.parse(headerBytes.toString("utf8"));
    if (typeof h !== "object" || h === null || Array.isArray(h)) throw new TypeError();
    header = h as Record<string, unknown>;
  } catch {
    throw malformed("unreadable protected header");
  }
  // No header parameter is understood beyond the plain ones (RFC 7515 §4.1.11).
  if (header.crit !== undefined) throw malformed("unsupported critical header parameters");
  const candidates = state.pinned.filter(
    (p) => (header.kid === undefined || p.kid === header.kid) && algorithmFor(p.jwk) === header.alg,
  );
  if (candidates.length === 0) {
    throw new DeviceError(
      "VERDICT_SIGNER_UNKNOWN",
      "no key pinned at manufacture matches the verdict's signer",
    );
  }
  const input = Buffer.from(jws.slice(0, dot2), "ascii");
  let signer: PinnedKey | undefined;
  for (const p of candidates) {
    let key: KeyObject;
    try {
      key = verdictKey(p.jwk);
    } catch {
      throw malformed("bad JWS structure");
    }
    if (signatureValid(algorithmFor(p.jwk)!, key, input, signature)) {
      signer = p;
      break;
    }
  }
  if (!signer) {
    throw new DeviceError(
      "VERDICT_SIGNATURE_INVALID",
      "the verdict's signature does not verify under its pinned key",
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(payloadBytes.toString("utf8"));
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
