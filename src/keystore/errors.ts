/**
 * The one error type of the keystore. Callers switch on `code`, never on message text (jose's
 * `src/util/errors.ts` habit). Messages are built from constants and public identifiers only
 * (owner names, labels, key ids, file paths): never key material, never a derived value.
 */
export type KeystoreErrorCode =
  /** A request that is not one of the keystore's operations, or an argument of the wrong shape. */
  | "BAD_REQUEST"
  /**
   * No key of this kind under this label or key id *for this owner*. A key id that exists under
   * another owner gives exactly this error, with the same message: no oracle across tenants.
   */
  | "KEY_NOT_FOUND"
  /** A caller-chosen key id already names a different key for this owner. */
  | "KEY_EXISTS"
  /** The key was created non-extractable (the default): it cannot be wrapped to another party. */
  | "KEY_NOT_EXTRACTABLE"
  /** The recipient public key is not a valid point of the suite's curve (P-256). */
  | "RECIPIENT_KEY_INVALID"
  /** A wrapped key does not open: another recipient, another owner or key id, or altered bytes. */
  | "UNWRAP_FAILED"
  /** The master key file is absent while a sealed keystore exists (it is never re-created then). */
  | "MASTER_KEY_MISSING"
  /** The master key file is not exactly 32 bytes. */
  | "MASTER_KEY_INVALID"
  /** The master key file is readable or writable by group or others (it must be 0600 or 0400). */
  | "MASTER_KEY_INSECURE"
  /** The sealed file was sealed under another master key. */
  | "MASTER_KEY_WRONG"
  /** The sealed file fails authentication or its structure check: it was edited or truncated. */
  | "SEALED_FILE_CORRUPT"
  /** Another keystore instance (this process or another live one) holds the data directory. */
  | "KEYSTORE_LOCKED"
  /** The keystore was closed. */
  | "KEYSTORE_CLOSED"
  /** The keystore's isolated worker died; nothing further is served by this instance. */
  | "KEYSTORE_UNAVAILABLE"
  /** Reading or writing the data directory failed (errno in the message); a failed write had no effect. */
  | "STORAGE_FAILED"
  /** An unexpected failure inside the keystore; details stay inside. */
  | "INTERNAL";

export const KEYSTORE_ERROR_CODES: readonly KeystoreErrorCode[] = [
  "BAD_REQUEST",
  "KEY_NOT_FOUND",
  "KEY_EXISTS",
  "KEY_NOT_EXTRACTABLE",
  "RECIPIENT_KEY_INVALID",
  "UNWRAP_FAILED",
  "MASTER_KEY_MISSING",
  "MASTER_KEY_INVALID",
  "MASTER_KEY_INSECURE",
  "MASTER_KEY_WRONG",
  "SEALED_FILE_CORRUPT",
  "KEYSTORE_LOCKED",
  "KEYSTORE_CLOSED",
  "KEYSTORE_UNAVAILABLE",
  "STORAGE_FAILED",
  "INTERNAL",
];

export class KeystoreError extends Error {
  override readonly name = "KeystoreError";
  readonly code: KeystoreErrorCode;

  constructor(code: KeystoreErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export function isKeystoreError(err: unknown, code?: KeystoreErrorCode): err is KeystoreError {
  return err instanceof KeystoreError && (code === undefined || err.code === code);
}

export function isKeystoreErrorCode(value: unknown): value is KeystoreErrorCode {
  return typeof value === "string" && (KEYSTORE_ERROR_CODES as readonly string[]).includes(value);
}
