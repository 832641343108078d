/**
 * The fault-injection kinds of `dmguard device tamper` (CONTRACT.md), apart from the code that
 * applies them (tamper.ts), so the CLI can check a KIND without loading the device.
 */
export const TAMPER_KINDS = Object.freeze([
  "payload-size",
  "payload-crc",
  "payload-format",
  "payload-key",
  "su",
  "ota-certs-missing",
  "ota-certs-replaced",
  "test-keys",
  "debuggable",
  "permissions",
  "os-image",
  "imei-rewrite",
] as const);

export type TamperKind = (typeof TAMPER_KINDS)[number];

export function isTamperKind(v: unknown): v is TamperKind {
  return typeof v === "string" && (TAMPER_KINDS as readonly string[]).includes(v);
}
