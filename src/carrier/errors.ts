import { catalogueError } from "../server-kit/index.js";

/**
 * The one error type of the carrier server's HTTP API (STYLE habit 1 and 2): a stable `code`
 * that callers switch on, the HTTP status it maps to, and a message safe to show. Only
 * http/error-handler.ts turns errors into responses; anything that is not a CarrierError (or a
 * framework error it knows) becomes a bare INTERNAL.
 */
export const CARRIER_ERRORS = {
  /** The request's body is not well-formed JSON or CSV. */
  MALFORMED_BODY: 400,
  /** The body is well-formed but its fields do not match the route's schema. */
  INVALID_REQUEST: 400,
  /** An inventory import has bad rows; `details.rows` names each with its line. Nothing applied. */
  INVENTORY_INVALID: 400,
  /** The evidence is not a compact JWS of the documented shape. Nothing changed. */
  EVIDENCE_MALFORMED: 400,
  /** The HPKE public key given for a slot key is not a P-256 point. */
  RECIPIENT_KEY_INVALID: 400,
  /** No bearer token, or one that is unknown, revoked, expired or not this carrier's. */
  UNAUTHORIZED: 401,
  /** No device with that IMEI in this carrier's inventory. */
  DEVICE_NOT_FOUND: 404,
  /** No such route. */
  NOT_FOUND: 404,
  /** The route exists, but not for this method. */
  METHOD_NOT_ALLOWED: 405,
  /** The change conflicts with the current state (e.g. an import of IMEIs already present). */
  CONFLICT: 409,
  /** The body is larger than the route accepts. */
  BODY_TOO_LARGE: 413,
  /** A segment of the URL is longer than any route takes. */
  URI_TOO_LONG: 414,
  /** The Content-Type is not one the route accepts. */
  UNSUPPORTED_MEDIA_TYPE: 415,
  /** Anything unexpected; details stay in the log. */
  INTERNAL: 500,
  /** The keystore or the store cannot be reached right now. */
  UNAVAILABLE: 503,
  /**
   * Start-up only, never an HTTP answer: the store's data of this carrier belongs to another
   * keystore than the one given (context.ts, bindKeystore).
   */
  KEYSTORE_MISMATCH: 500,
} as const;

export type CarrierErrorCode = keyof typeof CARRIER_ERRORS;

/** An error of this catalogue; the class and its serializer are src/server-kit/errors.ts. */
export const CarrierError = catalogueError("CarrierError", CARRIER_ERRORS);
export type CarrierError = InstanceType<typeof CarrierError>;

export function isCarrierError(err: unknown, code?: CarrierErrorCode): err is CarrierError {
  return CarrierError.is(err, code);
}
