/**
 * The error the device-side tree API throws. Server commands never throw: they answer with a
 * SyncML status code (OMA-TS-DM_RepPro §10). Device code (standard MO builders, the DMAcc
 * helper, exec handlers) calls the tree directly and gets this error, carrying the same status
 * so a caller can forward it, and a stable `code` to switch on.
 */
export type TreeErrorCode =
  | "BAD_URI"
  | "URI_TOO_LONG"
  | "NOT_FOUND"
  | "ALREADY_EXISTS"
  | "NOT_ALLOWED"
  | "BAD_VALUE"
  | "UNSUPPORTED_FORMAT"
  | "TOO_LARGE"
  | "DEVICE_FULL"
  | "ACCOUNT_INVALID";

export class TreeError extends Error {
  override readonly name = "TreeError";
  readonly code: TreeErrorCode;
  /** The SyncML status a server command would have got for the same fault. */
  readonly status: number;
  readonly uri: string;

  constructor(code: TreeErrorCode, status: number, uri: string, message: string) {
    super(`${message} (${uri})`);
    this.code = code;
    this.status = status;
    this.uri = uri;
  }
}
