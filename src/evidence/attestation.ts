import {
  createHash,
  createPublicKey,
  type JsonWebKey,
  type KeyObject,
  X509Certificate as NodeX509,
} from "node:crypto";
import {
  type CompactJwsFormProblem,
  type CompactJwsVerifyProblem,
  decodeCompactJws,
  type JwsAlgorithm,
  verifyCompactJws,
} from "./compact-jws.js";
import { EVIDENCE_TYP } from "./evidence-claims.js";
import { KEY_PROOF_HEADER } from "./key-proof.js";
import { keyThumbprint } from "./thumbprint.js";

/**
 * The attestation half of evidence verification (DESIGN.md step 5, "signature and certificate
 * chain"), shared by every server that judges evidence (carrier, platform): the compact JWS is
 * ES256 under the key of the certificate in its `x5c` header (RFC 7515 §4.1.6), and that
 * certificate chains to an OEM CA the server trusts, valid at the time of judgement.
 *
 * The per-request work uses node:crypto's X509Certificate (native parsing); the trust anchors
 * are checked once, with @peculiar/x509, when they are loaded (trust-anchors.ts), which keeps
 * that library out of the attestation thread.
 */

/** An evidence larger than this is refused unread (a real one is about 2 KiB). */
export const MAX_EVIDENCE_CHARS = 16 * 1024;
/** A device chain: the leaf and at most two intermediates. */
export const MAX_CHAIN = 3;

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** An OEM CA the server trusts, checked once. */
export interface TrustAnchor {
  readonly pem: string;
  readonly cert: NodeX509;
}

export type AttestationProblem =
  /** Not a compact JWS of the evidence's shape (typ, x5c, kp). */
  | "malformed"
  /** A certificate in `x5c` does not parse, or is not a P-256 end-entity certificate. */
  | "certificate"
  /** The chain does not lead to a trusted OEM CA (counterfeit). */
  | "untrusted"
  /** A certificate of the chain is not valid at the time of judgement. */
  | "expired"
  /** The JWS signature does not verify under the certificate's key. */
  | "signature";

export type AttestationResult =
  | {
      ok: true;
      /** The payload as JSON (not yet shape-checked: see parseEvidenceClaims). */
      payload: unknown;
      /** The JWS payload segment exactly as sent (the key proof covers it). */
      payloadSegment: string;
      /** The key proof from the protected header (base64url). */
      keyProof: string;
      /** SHA-256 of the device certificate's SubjectPublicKeyInfo, base64url: the key's identity. */
      attestationThumbprint: string;
      /** The device certificate (PEM), for the inventory's record. */
      certificatePem: string;
    }
  | { ok: false; problem: AttestationProblem; detail: string };

/**
 * A trust anchor from a PEM already checked to be a CA's (trust-anchors.ts does, once, where
 * anchors are loaded): for a thread that is handed the checked set.
 */
export function anchorOf(pem: string): TrustAnchor {
  return Object.freeze({ pem, cert: new NodeX509(pem) });
}

function fail(problem: AttestationProblem, detail: string): AttestationResult {
  return { ok: false, problem, detail };
}

function isP256(cert: NodeX509): boolean {
  const k = cert.publicKey;
  return k.asymmetricKeyType === "ec" && k.asymmetricKeyDetails?.namedCurve === "prime256v1";
}

/** The anchor that issued `cert` (subject/issuer match and signature), or null. */
function issuerAmong(cert: NodeX509, candidates: readonly NodeX509[]): NodeX509 | null {
  for (const c of candidates) {
    if (cert.checkIssued(c) && cert.verify(c.publicKey)) return c;
  }
  return null;
}

/** A certificate's validity period in ms since the epoch. */
interface Window {
  from: number;
  to: number;
}

function windowOf(cert: NodeX509): Window {
  return { from: Date.parse(cert.validFrom), to: Date.parse(cert.validTo) };
}

function inWindow(w: Window, t: number): boolean {
  return w.from <= t && t <= w.to;
}

/**
 * What the walk up an `x5c` chain found, apart from time: each certificate walked (with the
 * anchor that issued the last one, if any), and the leaf's key. Issuer names and signatures do
 * not change with time, so this is kept per chain; validity periods are checked again, in the
 * walk's own order, at every judgement.
 */
interface WalkedChain {
  steps: Array<{ cert: Window; anchor: Window | null }>;
  anchored: boolean;
  /**
   * The leaf's key as a JWK: a few hundred bytes. A KeyObject would keep its OpenSSL key
   * resident for as long as the cache holds the chain, tens of KB each (measured: a full
   * cache of them added ~20 MB to a server's resident memory).
   */
  jwk: JsonWebKey;
  /** SHA-256 of the leaf's SubjectPublicKeyInfo, base64url. */
  thumbprint: string;
}

/** A chain just walked, with its leaf's key object, which the cache does not keep. */
type FreshChain = WalkedChain & { key: KeyObject };

function walk(chain: readonly NodeX509[], roots: readonly NodeX509[]): FreshChain {
  const leaf = chain[0]!;
  const steps: WalkedChain["steps"] = [];
  let anchored = false;
  // Walk up: each certificate must be issued by the next one in x5c or, at the top, an anchor.
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i]!;
    const anchor = issuerAmong(cert, roots);
    steps.push({ cert: windowOf(cert), anchor: anchor ? windowOf(anchor) : null });
    if (anchor) {
      anchored = true;
      break;
    }
    const next = chain[i + 1];
    if (!next?.ca || !issuerAmong(cert, [next])) break;
  }
  const key = leaf.publicKey;
  return {
    steps,
    anchored,
    jwk: key.export({ format: "jwk" }),
    thumbprint: keyThumbprint(key),
    key,
  };
}

/**
 * Walked chains that reached an anchor, by the SHA-256 of their `x5c`, per set of anchors,
 * least recently used first. A phone sends the same chain at every activation, and the OEM CA
 * does not change, so a phone that comes back soon (a retry, a re-activation, a migration's
 * question and answer) is not parsed and checked again. Small on purpose: a phone activates
 * rarely, so a large cache would mostly hold phones that never return. Phones beyond it are
 * judged as without a cache.
 */
export const CHAIN_CACHE_SIZE = 1024;
const walked = new WeakMap<readonly TrustAnchor[], Map<string, WalkedChain>>();

function cached(anchors: readonly TrustAnchor[], key: string): WalkedChain | undefined {
  const m = walked.get(anchors);
  const hit = m?.get(key);
  if (m && hit) {
    m.delete(key);
    m.set(key, hit);
  }
  return hit;
}

function remember(anchors: readonly TrustAnchor[], key: string, w: WalkedChain): void {
  let m = walked.get(anchors);
  if (!m) {
    m = new Map();
    walked.set(anchors, m);
  }
  if (m.size >= CHAIN_CACHE_SIZE) m.delete(m.keys().next().value!);
  m.set(key, w);
}

/**
 * The chain of `x5c` walked against `anchors` (from the cache when it was walked before), or
 * the problem with its certificates that stops the walk before it starts.
 */
function walkedChain(
  x5c: readonly string[],
  anchors: readonly TrustAnchor[],
): WalkedChain | FreshChain | AttestationResult {
  const key = createHash("sha256").update(x5c.join(".")).digest("base64url");
  const hit = cached(anchors, key);
  if (hit) return hit;
  let chain: NodeX509[];
  try {
    chain = x5c.map((c: string) => new NodeX509(Buffer.from(c, "base64")));
  } catch {
    return fail("certificate", "a certificate in x5c does not parse");
  }
  const leaf = chain[0]!;
  if (leaf.ca || !isP256(leaf)) {
    return fail("certificate", "the device certificate is not a P-256 end-entity certificate");
  }
  const w = walk(
    chain,
    anchors.map((a) => a.cert),
  );
  // Only chains to an anchor are kept: counterfeits must not push genuine phones out.
  if (w.anchored) {
    const { key: _live, ...kept } = w;
    remember(anchors, key, kept);
  }
  return w;
}

/** The PEM of a certificate's base64 DER, as node:crypto's X509Certificate prints it. */
function pemOf(der: string): string {
  const b64 = Buffer.from(der, "base64").toString("base64");
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/.{64}/g, "$&\n").replace(/\n$/, "")}\n-----END CERTIFICATE-----\n`;
}

const EVIDENCE_ALGORITHMS: readonly JwsAlgorithm[] = ["ES256"];

const NOT_VERIFIED = "the evidence signature does not verify";

/**
 * What each failure of the compact JWS check is called here. Bad base64url in the payload or
 * signature, and a `crit` that is not a list, have always been reported as a bad signature
 * (the checks jose made once); they still are. The order differs from jose's, though: such bad
 * base64url is now reported before a bad key proof, x5c or chain, and any `crit` before a wrong
 * `typ`, so evidence with several faults may be logged under a different one than before.
 */
const FORM_PROBLEMS: Record<CompactJwsFormProblem, [AttestationProblem, string]> = {
  shape: ["malformed", "not a compact JWS"],
  header: ["malformed", "the protected header is not JSON"],
  alg: ["malformed", "the header's alg or typ is not the evidence's"],
  crit: ["malformed", "no critical extensions are known"],
  "crit-invalid": ["signature", NOT_VERIFIED],
  encoding: ["signature", NOT_VERIFIED],
};
const VERIFY_PROBLEMS: Record<CompactJwsVerifyProblem, [AttestationProblem, string]> = {
  signature: ["signature", NOT_VERIFIED],
  payload: ["malformed", "the payload is not JSON"],
  "payload-not-object": ["malformed", "the payload is not a JSON object"],
};

/**
 * Verifies an evidence JWS's signature and certificate chain at time `at`. Nothing of the
 * payload is trusted before this returns ok.
 */
export async function verifyAttestation(
  compact: string,
  anchors: readonly TrustAnchor[],
  at: Date,
): Promise<AttestationResult> {
  const decoded = decodeCompactJws(compact, {
    maxChars: MAX_EVIDENCE_CHARS,
    algorithms: EVIDENCE_ALGORITHMS,
  });
  if (!decoded.ok) return fail(...FORM_PROBLEMS[decoded.problem]);
  const { header } = decoded.jws;
  if (header.typ !== EVIDENCE_TYP) return fail(...FORM_PROBLEMS.alg);
  const x5c = header.x5c;
  const kp = header[KEY_PROOF_HEADER];
  if (typeof kp !== "string" || !/^[A-Za-z0-9_-]{43}$/.test(kp)) {
    return fail("malformed", "the key proof header is missing or not 32 bytes");
  }
  if (
    !Array.isArray(x5c) ||
    x5c.length === 0 ||
    x5c.length > MAX_CHAIN ||
    !x5c.every((c) => typeof c === "string" && B64.test(c))
  ) {
    return fail("malformed", "x5c is not 1-3 base64 certificates");
  }
  const w = walkedChain(x5c as string[], anchors);
  if (!("steps" in w)) return w;
  const t = at.getTime();
  let anchored = false;
  for (let i = 0; i < w.steps.length; i++) {
    const step = w.steps[i]!;
    if (!inWindow(step.cert, t)) return fail("expired", `certificate ${i} is not valid now`);
    if (step.anchor) {
      if (!inWindow(step.anchor, t)) return fail("expired", "the OEM CA is not valid now");
      anchored = true;
      break;
    }
  }
  if (!anchored) {
    return fail("untrusted", "the device certificate does not chain to a trusted OEM CA");
  }
  const leafKey = "key" in w ? w.key : createPublicKey({ key: w.jwk, format: "jwk" });
  const verified = verifyCompactJws(decoded.jws, leafKey);
  if (!verified.ok) return fail(...VERIFY_PROBLEMS[verified.problem]);
  return {
    ok: true,
    payload: verified.payload,
    payloadSegment: decoded.jws.payloadSegment,
    keyProof: kp,
    attestationThumbprint: w.thumbprint,
    certificatePem: pemOf(x5c[0] as string),
  };
}
