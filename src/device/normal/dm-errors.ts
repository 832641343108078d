/**
 * The DM client's error type. Callers switch on `code` (STYLE habit 2); messages name files,
 * URLs and SyncML outcomes, never a DM secret.
 */
export type DmClientErrorCode =
  /** `data/omadm/dmtree.json` is not a DM tree this client wrote (edited, truncated, too large). */
  | "DM_TREE_CORRUPT"
  /**
   * `data/omadm/profile.json` or `data/dmguard/enterprise-decision.json` is not what this
   * client wrote (edited, truncated): read as absent, a provisioned device would show none.
   */
  | "DEVICE_FILE_CORRUPT"
  /** `./DMAcc` holds no account to start a session with (payload unreadable, none issued). */
  | "DM_ACCOUNT_MISSING"
  /** An account handed to the DM client does not have the DMAcc shape (CONTRACT.md). */
  | "DM_ACCOUNT_INVALID"
  /** The DM server could not be reached at all (connection refused, DNS, timeout). */
  | "DM_SERVER_UNREACHABLE"
  /** The session ran but did not complete: HTTP error, malformed SyncML, failed authentication. */
  | "DM_SESSION_FAILED";

export class DmClientError extends Error {
  override readonly name = "DmClientError";
  readonly code: DmClientErrorCode;

  constructor(code: DmClientErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export function isDmClientError(err: unknown, code?: DmClientErrorCode): err is DmClientError {
  return err instanceof DmClientError && (code === undefined || err.code === code);
}
