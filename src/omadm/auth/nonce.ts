/**
 * Nonces for MD5 and HMAC (OMA-TS-DM_Security §5.1.3.3): at least 128 bits, unpredictable, a
 * new one per session. They travel base64-encoded in Chal/Meta/NextNonce; the digests use the
 * decoded octets.
 */
import { randomFillSync } from "node:crypto";

export const NONCE_BYTES = 16;

// CSPRNG output drawn in blocks: one system call per 256 nonces instead of one per nonce.
const POOL = Buffer.alloc(NONCE_BYTES * 256);
let offset = POOL.length;

export function newNonce(): Uint8Array {
  if (offset >= POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const nonce = new Uint8Array(NONCE_BYTES);
  nonce.set(POOL.subarray(offset, offset + NONCE_BYTES));
  // Each pooled byte is handed out once, then overwritten so no copy lingers in the pool.
  POOL.fill(0, offset, offset + NONCE_BYTES);
  offset += NONCE_BYTES;
  return nonce;
}

export function encodeNonce(nonce: Uint8Array): string {
  return Buffer.from(nonce).toString("base64");
}

/** Decodes a NextNonce; an absent or empty one is the empty nonce (a fresh account's state). */
export function decodeNonce(text: string | undefined): Uint8Array {
  if (!text) return new Uint8Array(0);
  return new Uint8Array(Buffer.from(text.trim(), "base64"));
}
