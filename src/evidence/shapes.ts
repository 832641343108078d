/**
 * Small shape rules of the wire formats. Identifiers here are public (carrier ids); none of
 * these helpers sees a key.
 */

/** Carrier ids as CONTRACT.md uses them (`acme`, `globex`): lowercase, digits, dashes. */
export const CARRIER_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;

/**
 * The server's nonce: 8–88 characters of the base64 / base64url alphabets, i.e. 8–64 random
 * bytes once encoded (RFC 9711 §4.1: a nonce of at least 8 and at most 64 bytes).
 */
export const NONCE = /^[A-Za-z0-9_\-+/=]{8,88}$/;

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
