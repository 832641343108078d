import { createHash } from "node:crypto";
import { MAX_EVIDENCE_CHARS } from "../attestation.js";
import { COMPACT } from "../compact-jws.js";
import { parseEvidenceClaims } from "../evidence-claims.js";
import { isRecord } from "../shapes.js";
import type { EvidenceJudgement } from "./judgement.js";

/** The JSON a base64url segment holds, or undefined when it holds none. */
function jsonOf(segment: string): unknown {
  try {
    return JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
}

/** Makes the server's own EVIDENCE_MALFORMED error (the evidence part knows no server). */
export type MalformedEvidence = (message: string, details?: Record<string, unknown>) => Error;

/**
 * Step 0: the evidence is a compact JWS (RFC 7515 §7.1) whose payload has the claims of
 * EVIDENCE.md. Read before anything is verified, only to learn the nonce and subject; nothing
 * in it is trusted until the attestation step passes. Anything else throws `malformed(…)` and
 * changes nothing (no nonce is consumed for a message that names none).
 */
export function decodeEvidence(evidence: string, malformed: MalformedEvidence): EvidenceJudgement {
  if (evidence.length > MAX_EVIDENCE_CHARS || !COMPACT.test(evidence)) {
    throw malformed("evidence is not a compact JWS");
  }
  const [headerSegment, payloadSegment] = evidence.split(".");
  // The header is read (and its signature checked) on the attestation thread; one that is not
  // JSON at all is a malformed message like a payload that is not, not a device's failed proof.
  if (!isRecord(jsonOf(headerSegment!))) {
    throw malformed("the evidence protected header is not a JSON object");
  }
  const payload = jsonOf(payloadSegment!);
  if (payload === undefined) throw malformed("the evidence payload is not JSON");
  const claims = parseEvidenceClaims(payload);
  if (typeof claims === "string") {
    throw malformed(`the evidence claim ${claims} is malformed`, { claim: claims });
  }
  return {
    evidence,
    evidenceHash: createHash("sha256").update(evidence).digest("base64url"),
    claims,
    reasons: new Set(),
    attested: false,
    attestationThumbprint: null,
    certificatePem: null,
    payloadSegment: null,
    keyProof: null,
    nonceFresh: false,
  };
}
