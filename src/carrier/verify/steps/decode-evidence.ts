import { createHash } from "node:crypto";
import { MAX_EVIDENCE_CHARS, parseEvidenceClaims } from "../../../evidence/index.js";
import { CarrierError } from "../../errors.js";
import type { Judgement } from "../judgement.js";

const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Step 0: the evidence is a compact JWS (RFC 7515 §7.1) whose payload has the claims of
 * EVIDENCE.md. Read before anything is verified, only to learn the nonce and subject; nothing
 * in it is trusted until the attestation step passes. Anything else is EVIDENCE_MALFORMED and
 * changes nothing (no nonce is consumed for a message that names none).
 */
export function decodeEvidence(evidence: string): Judgement {
  if (evidence.length > MAX_EVIDENCE_CHARS || !COMPACT.test(evidence)) {
    throw new CarrierError("EVIDENCE_MALFORMED", "evidence is not a compact JWS");
  }
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(evidence.split(".")[1]!, "base64url").toString("utf8"));
  } catch {
    throw new CarrierError("EVIDENCE_MALFORMED", "the evidence payload is not JSON");
  }
  const claims = parseEvidenceClaims(payload);
  if (typeof claims === "string") {
    throw new CarrierError("EVIDENCE_MALFORMED", `the evidence claim ${claims} is malformed`, {
      claim: claims,
    });
  }
  return {
    evidence,
    evidenceHash: createHash("sha256").update(evidence).digest("base64url"),
    claims,
    reasons: new Set(),
    attested: false,
    attestationThumbprint: null,
    payloadSegment: null,
    keyProof: null,
    nonceFresh: false,
    inventory: null,
    device: null,
  };
}
