import { createHash, type KeyObject, X509Certificate as NodeX509, verify } from "node:crypto";
import { decodeProtectedHeader } from "jose";
import { EVIDENCE_TYP } from "./evidence-claims.js";
import { KEY_PROOF_HEADER } from "./key-proof.js";
import { isRecord } from "./shapes.js";
import {
  BasicConstraintsExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  X509Certificate,
} from "./x509.js";

/**
 * The attestation half of evidence verification (DESIGN.md step 5, "signature and certificate
 * chain"), shared by every server that judges evidence (carrier, platform): the compact JWS is
 * ES256 under the key of the certificate in its `x5c` header (RFC 7515 §4.1.6), and that
 * certificate chains to an OEM CA the server trusts, valid at the time of judgement.
 *
 * The per-request work uses node:crypto's X509Certificate (native parsing, cheap); the trust
 * anchors are checked once, with @peculiar/x509, when they are loaded.
 */

/** An evidence larger than this is refused unread (a real one is about 2 KiB). */
export const MAX_EVIDENCE_CHARS = 16 * 1024;
/** A device chain: the leaf and at most two intermediates. */
export const MAX_CHAIN = 3;

const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
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
 * Loads OEM CA certificates as trust anchors. Throws when one is not a CA certificate allowed to
 * sign certificates (RFC 5280 §4.2.1.9 basicConstraints cA, §4.2.1.3 keyCertSign).
 */
export function loadTrustAnchors(pems: readonly string[]): TrustAnchor[] {
  return pems.map((pem) => {
    const peculiar = new X509Certificate(pem);
    const bc = peculiar.getExtension(BasicConstraintsExtension);
    if (!bc?.ca) throw new TypeError(`${peculiar.subject} is not a CA certificate`);
    const ku = peculiar.getExtension(KeyUsagesExtension);
    if (ku && (ku.usages & KeyUsageFlags.keyCertSign) === 0) {
      throw new TypeError(`${peculiar.subject} may not sign certificates`);
    }
    return Object.freeze({ pem, cert: new NodeX509(pem) });
  });
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
  key: KeyObject;
  /** SHA-256 of the leaf's SubjectPublicKeyInfo, base64url. */
  thumbprint: string;
}

function walk(chain: readonly NodeX509[], roots: readonly NodeX509[]): WalkedChain {
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
  const spki = leaf.publicKey.export({ type: "spki", format: "der" });
  return {
    steps,
    anchored,
    key: leaf.publicKey,
    thumbprint: createHash("sha256").update(spki).digest("base64url"),
  };
}

/**
 * Walked chains that reached an anchor, by the SHA-256 of their `x5c`, per set of anchors,
 * least recently used first. A phone sends the same chain at every activation and its DM
 * retries, and the OEM CA does not change, so X.509 parsing and the chain's signatures are
 * checked once per chain rather than once per request. Bounded: an entry is about 3.5 KB (the
 * leaf's key object is most of it), 14 MB in all. More phones than this activating in turn
 * simply miss it, and are judged as without a cache.
 */
export const CHAIN_CACHE_SIZE = 4096;
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
): WalkedChain | AttestationResult {
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
  if (w.anchored) remember(anchors, key, w);
  return w;
}

/** The PEM of a certificate's base64 DER, as node:crypto's X509Certificate prints it. */
export function pemOf(der: string): string {
  const b64 = Buffer.from(der, "base64").toString("base64");
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/.{64}/g, "$&\n").replace(/\n$/, "")}\n-----END CERTIFICATE-----\n`;
}

/** Base64url as a strict decoder takes it (no length of 4k+1: no byte string encodes to one). */
function b64url(segment: string): Buffer | null {
  return segment.length % 4 === 1 ? null : Buffer.from(segment, "base64url");
}

/** ES256 (RFC 7518 §3.4): ECDSA P-256 with SHA-256, the signature R ‖ S in 64 bytes. */
function verifiesEs256(compact: string, key: KeyObject): Uint8Array | null {
  const first = compact.indexOf(".");
  const dot = compact.lastIndexOf(".");
  const payload = b64url(compact.slice(first + 1, dot));
  const signature = b64url(compact.slice(dot + 1));
  if (!payload || !signature || signature.length !== 64) return null;
  try {
    const input = Buffer.from(compact.slice(0, dot), "ascii");
    const ok = verify("sha256", input, { key, dsaEncoding: "ieee-p1363" }, signature);
    return ok ? new Uint8Array(payload) : null;
  } catch {
    return null;
  }
}

/**
 * Verifies an evidence JWS's signature and certificate chain at time `at`. Nothing of the
 * payload is trusted before this returns ok.
 */
export async function verifyAttestation(
  compact: string,
  anchors: readonly TrustAnchor[],
  at: Date,
): Promise<AttestationResult> {
  if (compact.length > MAX_EVIDENCE_CHARS || !COMPACT.test(compact)) {
    return fail("malformed", "not a compact JWS");
  }
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(compact) as Record<string, unknown>;
  } catch {
    return fail("malformed", "the protected header is not JSON");
  }
  if (header.alg !== "ES256" || header.typ !== EVIDENCE_TYP) {
    return fail("malformed", "the header's alg or typ is not the evidence's");
  }
  if (Array.isArray(header.crit)) return fail("malformed", "no critical extensions are known");
  // What jose refused as an invalid JWS, before any signature check.
  if (header.crit !== undefined) return fail("signature", "the evidence signature does not verify");
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
  // node:crypto's verify rather than jose's compactVerify: it checks the signature synchronously
  // (about 74 µs against jose's 139 µs through Web Crypto's promise; jose caches the key it
  // converts, so that is not the cost). The checks jose makes beyond the signature (alg allowed,
  // no crit, the segments' encoding) are made above and in verifiesEs256.
  const payload = verifiesEs256(compact, w.key);
  if (!payload) return fail("signature", "the evidence signature does not verify");
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload).toString("utf8"));
  } catch {
    return fail("malformed", "the payload is not JSON");
  }
  if (!isRecord(json)) return fail("malformed", "the payload is not a JSON object");
  return {
    ok: true,
    payload: json,
    payloadSegment: compact.split(".")[1]!,
    keyProof: kp,
    attestationThumbprint: w.thumbprint,
    certificatePem: pemOf(x5c[0] as string),
  };
}
