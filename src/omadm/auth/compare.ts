import { timingSafeEqual } from "node:crypto";

const EMPTY = Buffer.alloc(0);

function bytes(x: string | Uint8Array): Buffer {
  return typeof x === "string"
    ? Buffer.from(x, "utf8")
    : Buffer.from(x.buffer, x.byteOffset, x.byteLength);
}

/**
 * Compares a received secret with the expected one in time independent of where they differ.
 * `timingSafeEqual` needs equal lengths; on a length mismatch the expected value is compared
 * with itself so the work done still depends only on the expected value's length (the lengths of
 * digests and base64 credentials are public anyway).
 */
export function constantTimeEqual(
  received: string | Uint8Array,
  expected: string | Uint8Array,
): boolean {
  const a = bytes(received);
  const b = bytes(expected);
  if (a.length !== b.length) {
    timingSafeEqual(b, b);
    return false;
  }
  return a.length === 0 ? timingSafeEqual(EMPTY, EMPTY) : timingSafeEqual(a, b);
}
