import { createHash } from "node:crypto";
import { MAX_EVIDENCE_CHARS } from "../attestation.js";
import { COMPACT } from "../compact-jws.js";
import { parseEvidenceClaims } from "../evidence-claims.js";
import type { EvidenceJudgement } from "./judgement.js";

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
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(evidence.split(".")[1]!, "base64url").toString("utf8"));
  } catch {
    throw malformed("the evidence payload is not JSON");
  }
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
