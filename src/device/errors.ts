/**
 * The one error type the device emulator throws. Callers switch on `code`, never on message
 * text (the habit of jose's `src/util/errors.ts`). Messages name files, fields and identifiers,
 * never key material: the TSZ builds them from constants and public values only.
 */
export type DeviceErrorCode =
  /** `manufactureDevice` found a sealed TSZ state already in the directory. */
  | "DEVICE_EXISTS"
  /** The directory holds no manufactured device (no sealed TSZ state). */
  | "DEVICE_NOT_FOUND"
  /** Another process has the device open (its lock file, `device.lock`, names a live process). */
  | "DEVICE_BUSY"
  /** Options given to manufacture, or a value given to a device method, are invalid. */
  | "DEVICE_INVALID_OPTIONS"
  /** The emulated hardware fuse (`tsz/fuse.key`) is missing or not 32 bytes. */
  | "FUSE_MISSING"
  /** The sealed state failed AES-256-GCM authentication or its structure check: the TSZ refuses to start. */
  | "SEALED_STATE_CORRUPT"
  /** A message to the TSZ was not one of its request types (the emulated SMC refused it). */
  | "TSZ_BAD_REQUEST"
  /** A TSZ session id that the TSZ does not know (closed, or lost when its worker restarted). */
  | "TSZ_SESSION_UNKNOWN"
  /** A request that is valid but not in this phase (e.g. a certificate installed twice). */
  | "TSZ_WRONG_PHASE"
  /** The TSZ worker died or the pool was closed. */
  | "TSZ_UNAVAILABLE"
  /** An unexpected failure inside the TSZ; details stay inside. */
  | "TSZ_INTERNAL"
  /** The certificate offered for the attestation key does not certify that key. */
  | "CERTIFICATE_INVALID"
  /** A CA given to the OEM helpers is unusable, or a CSR does not verify. */
  | "CA_INVALID"
  /** The server's nonce is not 8–88 base64/base64url characters. */
  | "NONCE_INVALID"
  /** The verdict is not a compact JWS with the documented claims. */
  | "VERDICT_MALFORMED"
  /** The verdict's signature does not verify under the pinned key it names. */
  | "VERDICT_SIGNATURE_INVALID"
  /** No key pinned at manufacture matches the verdict's signer, or it speaks for another carrier. */
  | "VERDICT_SIGNER_UNKNOWN"
  /** The verdict answers another nonce than the one of the last evidence, or none is pending. */
  | "VERDICT_NONCE_MISMATCH"
  /** The verdict names another device than this one. */
  | "VERDICT_SUBJECT_MISMATCH"
  /**
   * A key offered to `depositKey` is not an HPKE-wrapped key of the suite (hpke-suite.ts), or it
   * names another owner than the carrier it is deposited for.
   */
  | "WRAPPED_KEY_INVALID"
  /** The wrapped key does not open with this TSZ's HPKE key: another device's, relabelled or altered. */
  | "WRAPPED_KEY_UNWRAP_FAILED"
  /** Every key slot is occupied: the key was not deposited and nothing changed. */
  | "SLOTS_FULL"
  /** The carrier already holds a different key under this key id: nothing changed. */
  | "KEY_ID_CONFLICT"
  /** The preloaded OMA DM payload cannot be decoded (for `dmAccount`), or, at manufacture, fused. */
  | "PAYLOAD_UNREADABLE"
  /** `tamper` was given a kind that CONTRACT.md does not list. */
  | "TAMPER_KIND_UNKNOWN";

export class DeviceError extends Error {
  override readonly name = "DeviceError";
  readonly code: DeviceErrorCode;

  constructor(code: DeviceErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export function isDeviceError(err: unknown, code?: DeviceErrorCode): err is DeviceError {
  return err instanceof DeviceError && (code === undefined || err.code === code);
}
