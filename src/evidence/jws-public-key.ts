import { createPublicKey, type JsonWebKey, type KeyObject } from "node:crypto";
import type { JWK } from "jose";
import type { JwsAlgorithm } from "./compact-jws.js";

/**
 * The public JWKs verdicts are verified under (a key the TSZ pinned at manufacture, or an
 * upstream's verdict key at the enterprise): which JWS algorithm each verifies, and its
 * node:crypto key for verifyCompactJws.
 */

/** The JWS algorithm a public JWK verifies (RFC 7518 §3.4, RFC 8037 §3.1), or null. */
export function jwsAlgorithmFor(jwk: JWK): JwsAlgorithm | null {
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

/**
 * Keys imported once per JWK object: importing costs more than verifying, and the JWK objects
 * do not change (a TSZ's pinned keys for as long as it is open; an enterprise's configured or
 * fetched key until a re-fetch replaces the object). A JWK that fails is not kept.
 */
const imported = new WeakMap<JWK, KeyObject>();

/**
 * The verification key of a public JWK. Throws a TypeError for a JWK of no JWS algorithm here,
 * one with private members, one whose `key_ops` (RFC 7517 §4.3) do not allow exactly
 * verifying, or one that does not import.
 */
export function jwsPublicKey(jwk: JWK): KeyObject {
  const hit = imported.get(jwk);
  if (hit) return hit;
  if (jwsAlgorithmFor(jwk) === null || "d" in jwk) {
    throw new TypeError("not a public EC P-256 or Ed25519 JWK");
  }
  const ops: unknown = jwk.key_ops;
  if (
    ops !== undefined &&
    (!Array.isArray(ops) || ops.length === 0 || ops.some((op) => op !== "verify"))
  ) {
    throw new TypeError("the JWK's key_ops do not allow verifying");
  }
  const key = createPublicKey({ key: jwk as JsonWebKey, format: "jwk" });
  imported.set(jwk, key);
  return key;
}
