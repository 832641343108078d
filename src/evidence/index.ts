/**
 * The device↔server wire formats (EVIDENCE.md): evidence claims, the key proof, the key check
 * value, verdict claims, the OEMID, the reason-code vocabulary, the migration key's DM node, and
 * the verification steps every server makes alike (verify/: decode, attestation, key proof,
 * device reasons), and the compact JWS check every signed message goes through. Shared by the
 * device emulator and the servers, so neither imports the other.
 * Imports node:crypto, jose, @peculiar/x509 (through x509.ts) and src/identity only.
 */
export {
  type AttestationProblem,
  type AttestationResult,
  MAX_CHAIN,
  MAX_EVIDENCE_CHARS,
  type TrustAnchor,
  verifyAttestation,
} from "./attestation.js";
export {
  type CompactJws,
  type CompactJwsFormProblem,
  type CompactJwsProblem,
  type CompactJwsVerifyProblem,
  type DecodedCompactJws,
  decodeCompactJws,
  type JwsAlgorithm,
  type VerifiedCompactJws,
  verifyCompactJws,
} from "./compact-jws.js";
export {
  type DebugStatus,
  decodeMeasurements,
  EVIDENCE_PROFILE,
  EVIDENCE_TYP,
  type EvidenceClaims,
  encodeMeasurements,
  hwmodelFor,
  MEASUREMENTS_CONTENT_FORMAT,
  type MeasurementDocument,
  parseEvidenceClaims,
  ueidForImei,
} from "./evidence-claims.js";
export { jwsAlgorithmFor, jwsPublicKey } from "./jws-public-key.js";
export { KCV_LABEL, KCV_LENGTH, keyCheckValue } from "./key-check-value.js";
export {
  computeKeyProof,
  KEY_PROOF_HEADER,
  KEY_PROOF_LABEL,
  keyProofInput,
  verifyKeyProof,
} from "./key-proof.js";
export { MIGRATION_KEY_URI } from "./migration-node.js";
export { oemIdOf } from "./oem-id.js";
export {
  DEVICE_REASONS,
  type DeviceReason,
  isDeviceReason,
  isReasonCode,
  orderReasons,
  REASON_CODES,
  type ReasonCode,
  sameReasons,
  sortReasons,
} from "./reasons.js";
export { CARRIER_ID, NONCE } from "./shapes.js";
export { keyThumbprint, pemThumbprint } from "./thumbprint.js";
export { loadTrustAnchors } from "./trust-anchors.js";
export { MAX_VERDICT_CHARS, parseVerdictClaims, type VerdictClaims } from "./verdict-claims.js";
export { checkAttestation } from "./verify/check-attestation.js";
export { checkKeyProof, type KeyProofVerifier } from "./verify/check-key-proof.js";
export { decodeEvidence, type MalformedEvidence } from "./verify/decode-evidence.js";
export { addDeviceReasons } from "./verify/device-reasons.js";
export {
  type EvidenceJudgement,
  foreseeNonce,
  forkJudgement,
  judgeNonce,
  type NoncePeek,
  type NonceStatus,
  speaksForItsImei,
  withholdUnattested,
} from "./verify/judgement.js";
