import type { IdentityReason } from "../identity/index.js";

/**
 * The reason-code vocabulary of CONTRACT.md ("Reason codes"), in its order. A verdict lists every
 * reason that applies, from this list and no other; a test checks that it equals CONTRACT.md's.
 */
export const REASON_CODES = Object.freeze([
  "IDENTITY_MALFORMED",
  "IDENTITY_MISMATCH",
  "IDENTITY_MODEL",
  "UNKNOWN_DEVICE",
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
  "ATTESTATION_INVALID",
  "KEY_PROOF_INVALID",
  "NONCE_REPLAYED",
  "NONCE_EXPIRED",
  "CLONE_SUSPECTED",
  "DEVICE_BLOCKED",
  "DEVICE_TERMINATED",
  "SUBSIDY_LOCKED",
  "NOT_ENROLLED",
  "NOT_ELIGIBLE",
  "TOKEN_INVALID",
  "CARRIER_UNKNOWN",
] as const);

export type ReasonCode = (typeof REASON_CODES)[number];

/**
 * The reason codes the device's verification application can report: the identity, payload and
 * root-detection rows of the vocabulary. Servers add their own (nonce, clone, subsidy…); the
 * device never invents codes outside this list.
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

const ALL = new Set<string>(REASON_CODES);
const DEVICE = new Set<string>(DEVICE_REASONS);

export function isReasonCode(v: unknown): v is ReasonCode {
  return typeof v === "string" && ALL.has(v);
}

export function isDeviceReason(v: unknown): v is DeviceReason {
  return typeof v === "string" && DEVICE.has(v);
}

/** The distinct reasons of `found`, in {@link DEVICE_REASONS} order. */
export function sortReasons(found: Iterable<DeviceReason>): DeviceReason[] {
  const set = new Set(found);
  return DEVICE_REASONS.filter((r) => set.has(r));
}

/** The distinct reasons of `found`, in {@link REASON_CODES} (CONTRACT.md) order. */
export function orderReasons(found: Iterable<ReasonCode>): ReasonCode[] {
  const set = new Set(found);
  return REASON_CODES.filter((r) => set.has(r));
}

/**
 * Whether two ordered reason lists are the same: a verdict signed for one (foreseen before a
 * transaction) says what the other (judged in it) would.
 */
export function sameReasons(a: readonly ReasonCode[], b: readonly ReasonCode[]): boolean {
  return a.length === b.length && a.every((r, i) => r === b[i]);
}
