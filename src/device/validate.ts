/**
 * Small shape rules shared by the facade, the payload schema and the TSZ's message validator.
 * Identifiers here are public (carrier ids, key ids, models); none of these helpers sees a key.
 */

/** Carrier ids as CONTRACT.md uses them (`acme`, `globex`): lowercase, digits, dashes. */
export const CARRIER_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;
/** Key ids: printable ASCII without spaces, 1–64 characters (they sit in the payload header). */
export const KEY_ID = /^[\x21-\x7e]{1,64}$/;
/** Model names: the TAC table's style, 1–64 characters. */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/**
 * The server's nonce: 8–88 characters of the base64 / base64url alphabets, i.e. 8–64 random
 * bytes once encoded (RFC 9711 §4.1: a nonce of at least 8 and at most 64 bytes).
 */
export const NONCE = /^[A-Za-z0-9_\-+/=]{8,88}$/;
/** The slot sizes the design allows. */
export const SLOT_COUNTS = [8, 16, 24] as const;
export type SlotCount = (typeof SLOT_COUNTS)[number];
/** Security keys are 256-bit secrets. */
export const SLOT_KEY_BYTES = 32;

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function isSlotCount(v: unknown): v is SlotCount {
  return v === 8 || v === 16 || v === 24;
}

/** `true` when `v` has exactly the keys in `keys` (own, enumerable), so unknown fields are refused. */
export function hasExactKeys(v: Record<string, unknown>, keys: readonly string[]): boolean {
  const own = Object.keys(v);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(v, k));
}

/** The own keys of `v` that are not in `allowed` (for strict schemas with optional fields). */
export function unknownKeys(v: Record<string, unknown>, allowed: readonly string[]): string[] {
  return Object.keys(v).filter((k) => !allowed.includes(k));
}
