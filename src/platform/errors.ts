import { catalogueError } from "../server-kit/index.js";

/**
 * The one error type of the platform's HTTP API (STYLE habits 1 and 2): a stable `code`, the
 * HTTP status it maps to, a message safe to show. Only http/error-handler.ts turns errors into
 * responses; anything else becomes a bare INTERNAL. Class and serializer: src/server-kit/errors.ts.
 *
 * Every token problem (missing, unknown, revoked, expired, out of scope, or used for a device of
 * a carrier its holders do not include) is the one TOKEN_INVALID answer with the same body, so a
 * refusal never says whether the device, the carrier or the token exists.
 */
export const PLATFORM_ERRORS = {
  /** The request's body is not well-formed JSON. */
  MALFORMED_BODY: 400,
  /** The body is well-formed but does not match the route's schema. */
  INVALID_REQUEST: 400,
  /** The evidence is not a compact JWS of the documented shape (EVIDENCE.md). */
  EVIDENCE_MALFORMED: 400,
  /** A custody deposit whose record or wrapped key is not acceptable. Nothing stored. */
  DEPOSIT_INVALID: 400,
  /** The bearer token cannot be used for this request (CONTRACT.md reason code). */
  TOKEN_INVALID: 401,
  /** No carrier of that id is registered with the platform (public routes only). */
  CARRIER_UNKNOWN: 404,
  /** Custody routes: no device of that IMEI in the holder carrier's own custody. */
  DEVICE_NOT_FOUND: 404,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  /** A change that conflicts with the current state (a kid already names another key). */
  CONFLICT: 409,
  BODY_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;

export type PlatformErrorCode = keyof typeof PLATFORM_ERRORS;

export const PlatformError = catalogueError("PlatformError", PLATFORM_ERRORS);
export type PlatformError = InstanceType<typeof PlatformError>;

export function isPlatformError(err: unknown, code?: PlatformErrorCode): err is PlatformError {
  return PlatformError.is(err, code);
}

/** The single refusal for every token problem: same status, same body, byte for byte. */
export function tokenInvalid(): PlatformError {
  return new PlatformError("TOKEN_INVALID", "the bearer token is not valid for this request");
}
