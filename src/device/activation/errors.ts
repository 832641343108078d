/**
 * The activation flow's error type (`device activate`). Callers switch on `code`; each message
 * is one line naming the server, the route and what it said, never a secret.
 */
export type ActivationErrorCode =
  /** `--via` is not `carrier:ID` or `enterprise:ID`. */
  | "VIA_INVALID"
  /** `--trigger` is not one of hfa, factory-reset, new-network, profile-change. */
  | "TRIGGER_INVALID"
  /** A valid `--via` this version cannot activate through (none today; kept for callers). */
  | "VIA_UNSUPPORTED"
  /** No server URL: none learned at manufacture and no `--server`, or not an http(s) URL. */
  | "SERVER_URL_INVALID"
  /** The activation server could not be reached (connection refused, DNS, timeout). */
  | "SERVER_UNREACHABLE"
  /** The server answered with an HTTP status other than 2xx. */
  | "SERVER_REFUSED"
  /** The server answered 2xx with a body that is not the documented JSON. */
  | "SERVER_RESPONSE_INVALID"
  /** `device migrate`: the target is not a carrier this device may move to (not pinned, its own). */
  | "MIGRATION_TARGET_INVALID"
  /** `device migrate`: every key slot is taken; nothing was asked of the new carrier. */
  | "SLOTS_FULL"
  /** `device migrate`: approved, but the new carrier's key was not deposited (TSZ's reason). */
  | "KEY_DEPOSIT_FAILED";

export class ActivationError extends Error {
  override readonly name = "ActivationError";
  readonly code: ActivationErrorCode;
  /** The HTTP status, for SERVER_REFUSED. */
  readonly status: number | undefined;

  constructor(code: ActivationErrorCode, message: string, status?: number) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export function isActivationError(
  err: unknown,
  code?: ActivationErrorCode,
): err is ActivationError {
  return err instanceof ActivationError && (code === undefined || err.code === code);
}
