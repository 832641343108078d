import { createHash, X509Certificate as NodeX509 } from "node:crypto";
import { compactVerify, decodeProtectedHeader } from "jose";
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

function validAt(cert: NodeX509, at: Date): boolean {
  const t = at.getTime();
  return Date.parse(cert.validFrom) <= t && t <= Date.parse(cert.validTo);
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
  // Walk up: each certificate must be issued by the next one in x5c or, at the top, an anchor.
  const roots = anchors.map((a) => a.cert);
  let anchored = false;
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i]!;
    if (!validAt(cert, at)) return fail("expired", `certificate ${i} is not valid now`);
    const anchor = issuerAmong(cert, roots);
    if (anchor) {
      if (!validAt(anchor, at)) return fail("expired", "the OEM CA is not valid now");
      anchored = true;
      break;
    }
    const next = chain[i + 1];
    if (!next?.ca || !issuerAmong(cert, [next])) break;
  }
  if (!anchored) {
    return fail("untrusted", "the device certificate does not chain to a trusted OEM CA");
  }
  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(compact, leaf.publicKey, { algorithms: ["ES256"] }));
  } catch {
    return fail("signature", "the evidence signature does not verify");
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload).toString("utf8"));
  } catch {
    return fail("malformed", "the payload is not JSON");
  }
  if (!isRecord(json)) return fail("malformed", "the payload is not a JSON object");
  const spki = leaf.publicKey.export({ type: "spki", format: "der" });
  return {
    ok: true,
    payload: json,
    payloadSegment: compact.split(".")[1]!,
    keyProof: kp,
    attestationThumbprint: createHash("sha256").update(spki).digest("base64url"),
    certificatePem: leaf.toString(),
  };
}
