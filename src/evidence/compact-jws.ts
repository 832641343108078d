import { type KeyObject, verify } from "node:crypto";
import { isRecord } from "./shapes.js";

/**
 * The compact JWS (RFC 7515 §7.1) check every signed message of the wire formats goes through:
 * the device's evidence (judged by the carrier and the platform), and the verdicts the device
 * and the enterprise's MDAS believe. In two steps, because the key is chosen from the header
 * (the evidence's `x5c` chain, a verdict's `kid` among the pinned keys):
 *
 * 1. `decodeCompactJws`: the form — three segments of unpadded base64url in their one canonical
 *    spelling, a protected header that is a UTF-8 JSON object with an `alg` the caller accepts
 *    and no `crit` (no extension is understood). Nothing is verified yet.
 * 2. `verifyCompactJws`: the signature under the caller's key over `header.payload`, then the
 *    payload as a UTF-8 JSON object.
 *
 * Synchronous, with node:crypto: the carrier runs it at every activation and the device at
 * every verdict, and a check this small costs more through Web Crypto's promise than it does.
 * Failures are stable codes (CompactJwsProblem); each caller maps them to its own errors.
 */

/** The signature algorithms of the wire formats: ES256 (RFC 7518 §3.4), EdDSA (RFC 8037 §3.1). */
export type JwsAlgorithm = "ES256" | "EdDSA";

/** Why `decodeCompactJws` refused a message. */
export type CompactJwsFormProblem =
  /** Not a string of at most the caller's size, or not three non-empty base64url segments. */
  | "shape"
  /** The protected header is not canonical base64url of a UTF-8 JSON object. */
  | "header"
  /** The header's `alg` is missing or not one the caller accepts. */
  | "alg"
  /** `crit` is a list: it names extensions that must be understood, and none is. */
  | "crit"
  /** `crit` is present but not a list (RFC 7515 §4.1.11). */
  | "crit-invalid"
  /** The payload or the signature segment is not canonical base64url. */
  | "encoding";

/** Why `verifyCompactJws` refused a well-formed message. */
export type CompactJwsVerifyProblem =
  /** The signature is not 64 octets, or not the key's signature of `header.payload`. */
  | "signature"
  /** The signed payload is not UTF-8 JSON. */
  | "payload"
  /** The signed payload is JSON but not an object. */
  | "payload-not-object";

export type CompactJwsProblem = CompactJwsFormProblem | CompactJwsVerifyProblem;

/** A compact JWS of the right form, not yet verified. */
export interface CompactJws {
  readonly alg: JwsAlgorithm;
  /** The protected header: untrusted until `verifyCompactJws` says ok. */
  readonly header: Readonly<Record<string, unknown>>;
  /** The payload segment exactly as sent (a key proof may cover it). */
  readonly payloadSegment: string;
  /** `header.payload` as sent, which the signature covers (RFC 7515 §5.2 step 8). */
  readonly signingInput: Buffer;
  /** The payload's octets, unread until the signature verifies. */
  readonly payload: Buffer;
  readonly signature: Buffer;
}

export type DecodedCompactJws =
  | { ok: true; jws: CompactJws }
  | { ok: false; problem: CompactJwsFormProblem };

export type VerifiedCompactJws =
  | { ok: true; payload: Record<string, unknown> }
  | { ok: false; problem: CompactJwsVerifyProblem };

/** Both algorithms sign in 64 octets: R ‖ S for ES256, the Ed25519 signature for EdDSA. */
const SIGNATURE_OCTETS = 64;

/**
 * The compact serialization's shape (RFC 7515 §7.1), exported so that evidence is screened by
 * the same test as every other signed message.
 */
export const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
// Fatal: a header or payload that is not UTF-8 is refused, not read with U+FFFD in it. The
// BOM is kept, so JSON.parse refuses it (RFC 8259 §8.1: JSON text carries none).
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * A segment's octets, or null when it is not unpadded base64url in its canonical spelling
 * (RFC 4648 §5, §3.5): a length of 4k+1 encodes no octet string, and the bits of the last
 * character beyond the last octet must be zero — otherwise several spellings decode alike and
 * a signature could be sent in more than one form. The alphabet is COMPACT's concern.
 */
function segmentOctets(segment: string): Buffer | null {
  const tail = segment.length % 4;
  if (tail === 1) return null;
  if (tail !== 0) {
    const last = ALPHABET.indexOf(segment[segment.length - 1]!);
    if ((last & (tail === 2 ? 0b1111 : 0b11)) !== 0) return null;
  }
  return Buffer.from(segment, "base64url");
}

function jsonOf(octets: Buffer): { json: unknown } | null {
  try {
    return { json: JSON.parse(UTF8.decode(octets)) };
  } catch {
    return null;
  }
}

/**
 * Reads a compact JWS's form (step 1 above) without verifying it. `maxChars` bounds the work
 * done on input nobody has vouched for yet; `algorithms` are the `alg` values the caller holds
 * keys for.
 */
export function decodeCompactJws(
  compact: unknown,
  opts: { maxChars: number; algorithms: readonly JwsAlgorithm[] },
): DecodedCompactJws {
  if (typeof compact !== "string" || compact.length > opts.maxChars || !COMPACT.test(compact)) {
    return { ok: false, problem: "shape" };
  }
  const dot1 = compact.indexOf(".");
  const dot2 = compact.indexOf(".", dot1 + 1);
  const headerOctets = segmentOctets(compact.slice(0, dot1));
  const parsed = headerOctets && jsonOf(headerOctets);
  if (!parsed || !isRecord(parsed.json)) return { ok: false, problem: "header" };
  const header = parsed.json;
  const alg = opts.algorithms.find((a) => a === header.alg);
  if (!alg) return { ok: false, problem: "alg" };
  if (header.crit !== undefined) {
    return { ok: false, problem: Array.isArray(header.crit) ? "crit" : "crit-invalid" };
  }
  const payloadSegment = compact.slice(dot1 + 1, dot2);
  const payload = segmentOctets(payloadSegment);
  const signature = segmentOctets(compact.slice(dot2 + 1));
  if (!payload || !signature) return { ok: false, problem: "encoding" };
  return {
    ok: true,
    jws: {
      alg,
      header,
      payloadSegment,
      signingInput: Buffer.from(compact.slice(0, dot2), "latin1"),
      payload,
      signature,
    },
  };
}

/** Whether `key` is one `alg` signs with: a P-256 key for ES256, an Ed25519 key for EdDSA. */
function keyFits(alg: JwsAlgorithm, key: KeyObject): boolean {
  if (key.type !== "public") return false;
  if (alg === "EdDSA") return key.asymmetricKeyType === "ed25519";
  return key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1";
}

/**
 * Verifies a decoded compact JWS's signature under `key` (step 2 above) and, only once it
 * verifies, reads the payload. Throws a TypeError when `key` is not a public key of the
 * message's algorithm: the caller chose it, so that is the caller's mistake, not the sender's.
 */
export function verifyCompactJws(jws: CompactJws, key: KeyObject): VerifiedCompactJws {
  if (!keyFits(jws.alg, key)) {
    throw new TypeError(`the key is not a public ${jws.alg} verification key`);
  }
  if (jws.signature.length !== SIGNATURE_OCTETS) return { ok: false, problem: "signature" };
  let valid: boolean;
  try {
    valid =
      jws.alg === "ES256"
        ? verify("sha256", jws.signingInput, { key, dsaEncoding: "ieee-p1363" }, jws.signature)
        : verify(null, jws.signingInput, key, jws.signature);
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, problem: "signature" };
  const parsed = jsonOf(jws.payload);
  if (!parsed) return { ok: false, problem: "payload" };
  if (!isRecord(parsed.json)) return { ok: false, problem: "payload-not-object" };
  return { ok: true, payload: parsed.json };
}
