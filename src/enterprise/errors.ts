import { catalogueError } from "../server-kit/index.js";

/**
 * The one error type of the enterprise MDAS's HTTP API (STYLE habits 1 and 2): a stable `code`,
 * the HTTP status it maps to, a message safe to show. Only http/error-handler.ts turns errors
 * into responses. Activation outcomes are not errors: a denial is a 200 with reasons. Class and
 * serializer shape: src/server-kit/errors.ts.
 */
export const ENTERPRISE_ERRORS = {
  MALFORMED_BODY: 400,
  INVALID_REQUEST: 400,
  /** The evidence is not a compact JWS of the documented shape (EVIDENCE.md). */
  EVIDENCE_MALFORMED: 400,
  /** An enrolment import has bad rows; `details.rows` names each. Nothing applied. */
  ENROLMENT_INVALID: 400,
  /** The device's carrier is not one this enterprise forwards to (CONTRACT.md reason code). */
  CARRIER_UNKNOWN: 400,
  /** No admin bearer token, or one that is unknown, revoked, expired or another's. */
  UNAUTHORIZED: 401,
  /** No device of that IMEI in the enrolment list. */
  DEVICE_NOT_FOUND: 404,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  BODY_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INTERNAL: 500,
  /** The carrier server or the platform refused the MDAS itself (`details.code`: theirs). */
  UPSTREAM_REFUSED: 502,
  /**
   * The upstream's signed verdict does not verify under its verdict key, or does not bind the
   * nonce, IMEI, carrier, decision and reasons of this activation (`details.why`). Audited;
   * nothing changed.
   */
  VERDICT_INVALID: 502,
  /** The carrier server or the platform could not be reached or answered nonsense. */
  UPSTREAM_UNAVAILABLE: 502,
  UNAVAILABLE: 503,
} as const;

export type EnterpriseErrorCode = keyof typeof ENTERPRISE_ERRORS;

export const EnterpriseError = catalogueError("EnterpriseError", ENTERPRISE_ERRORS);
export type EnterpriseError = InstanceType<typeof EnterpriseError>;

export function isEnterpriseError(
  err: unknown,
  code?: EnterpriseErrorCode,
): err is EnterpriseError {
  return EnterpriseError.is(err, code);
}
