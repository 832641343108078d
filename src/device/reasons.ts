import type { IdentityReason } from "../identity/index.js";

/**
 * The reason codes the device's verification application can report: the identity, payload and
 * root-detection rows of CONTRACT.md's vocabulary. The server adds its own (nonce, clone,
 * subsidy…); the device never invents codes outside this list.
 */
export type DeviceReason =
  | IdentityReason
  | "PAYLOAD_SIZE"
  | "PAYLOAD_CRC"
  | "PAYLOAD_FORMAT"
  | "PAYLOAD_KEY"
  | "ROOT_SU"
  | "ROOT_OTA_CERTS"
  | "ROOT_TEST_KEYS"
  | "ROOT_DEBUGGABLE"
  | "ROOT_PERMISSIONS"
  | "OS_MODIFIED";

/** CONTRACT.md's order, so that evidence and reports list reasons the same way every time. */
export const DEVICE_REASONS: readonly DeviceReason[] = Object.freeze([
  "IDENTITY_MALFORMED",
  "IDENTITY_MISMATCH",
  "IDENTITY_MODEL",
  "PAYLOAD_SIZE",
  "PAYLOAD_CRC",
  "PAYLOAD_FORMAT",
  "PAYLOAD_KEY",
  "ROOT_SU",
  "ROOT_OTA_CERTS",
  "ROOT_TEST_KEYS",
  "ROOT_DEBUGGABLE",
  "ROOT_PERMISSIONS",
  "OS_MODIFIED",
]);

/** The distinct reasons of `found`, in {@link DEVICE_REASONS} order. */
export function sortReasons(found: Iterable<DeviceReason>): DeviceReason[] {
  const set = new Set(found);
  return DEVICE_REASONS.filter((r) => set.has(r));
}
