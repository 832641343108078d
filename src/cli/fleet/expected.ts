/**
 * What CONTRACT.md says each tamper KIND must make a fresh verification report ("What each
 * tamper KIND reports"), as data: the fleet and the demo compare every verdict against it.
 * Several tampers on one device report the union.
 */
import type { TamperKind } from "../../device/index.js";
import { REASON_CODES } from "../../evidence/index.js";

export const TAMPER_REASONS: Readonly<Record<TamperKind, readonly string[]>> = Object.freeze({
  "payload-size": ["PAYLOAD_SIZE", "PAYLOAD_CRC"],
  "payload-crc": ["PAYLOAD_CRC"],
  "payload-format": ["PAYLOAD_FORMAT", "PAYLOAD_CRC"],
  "payload-key": ["PAYLOAD_KEY", "PAYLOAD_CRC"],
  su: ["ROOT_SU"],
  "ota-certs-missing": ["ROOT_OTA_CERTS"],
  "ota-certs-replaced": ["ROOT_OTA_CERTS"],
  "test-keys": ["ROOT_TEST_KEYS"],
  debuggable: ["ROOT_DEBUGGABLE"],
  permissions: ["ROOT_PERMISSIONS"],
  "os-image": ["OS_MODIFIED"],
  "imei-rewrite": ["IDENTITY_MISMATCH"],
});

export interface Expectation {
  verdict: "approved" | "denied";
  reasons: string[];
}

/** The verdict a device tampered with `kinds` (none: a clean device) must get. */
export function expectedFor(
  kinds: readonly TamperKind[],
  extra: readonly string[] = [],
): Expectation {
  const reasons = canonical([...kinds.flatMap((k) => TAMPER_REASONS[k]), ...extra]);
  return { verdict: reasons.length === 0 ? "approved" : "denied", reasons };
}

const RANK = new Map<string, number>(REASON_CODES.map((r, i) => [r, i]));

/**
 * Reasons without duplicates in CONTRACT.md's order (a code outside the vocabulary last, kept:
 * it must show up as a mismatch, not vanish), so two lists compare as strings.
 */
export function canonical(reasons: readonly string[]): string[] {
  const rank = (r: string) => RANK.get(r) ?? REASON_CODES.length;
  return [...new Set(reasons)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

export function sameVerdict(
  expected: Expectation,
  actual: { verdict: string; reasons: readonly string[] },
): boolean {
  return (
    expected.verdict === actual.verdict &&
    canonical(actual.reasons).join(",") === expected.reasons.join(",")
  );
}
