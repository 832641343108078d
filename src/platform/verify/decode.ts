import { createHash } from "node:crypto";
import { MAX_EVIDENCE_CHARS, parseEvidenceClaims } from "../../evidence/index.js";
import { PlatformError } from "../errors.js";
import type { Judgement } from "./judgement.js";

const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Step 0: a compact JWS (RFC 7515 §7.1) with the claims of EVIDENCE.md, read only to learn the
 * carrier, IMEI and nonce; nothing in it is believed until the attestation step passes.
 */
export function decodeEvidence(evidence: string): Judgement {
  if (evidence.length > MAX_EVIDENCE_CHARS || !COMPACT.test(evidence)) {
    throw new PlatformError("EVIDENCE_MALFORMED", "evidence is not a compact JWS");
  }
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(evidence.split(".")[1]!, "base64url").toString("utf8"));
  } catch {
    throw new PlatformError("EVIDENCE_MALFORMED", "the evidence payload is not JSON");
  }
  const claims = parseEvidenceClaims(payload);
  if (typeof claims === "string") {
    throw new PlatformError("EVIDENCE_MALFORMED", `the evidence claim ${claims} is malformed`, {
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
    record: null,
  };
}
