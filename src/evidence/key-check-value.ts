import { createHmac } from "node:crypto";

/**
 * The payload's "security key" (DESIGN.md, payload integrity): a key check value, as payment
 * HSMs publish KCVs, never the key. The payload sits in the normal world where root can read
 * it, so it carries HMAC-SHA256(slot key, label ‖ 0x00 ‖ UTF-8(kid)) truncated to 16 bytes, next
 * to the key id. The TSZ recomputes it under every slot key and compares in constant time. A KCV
 * identifies a key without revealing it (HMAC is one-way); it is not a proof of possession, which
 * the evidence carries separately (key-proof.ts), bound to the server's nonce.
 */
export const KCV_LABEL = "dmguard payload key check value v1";
export const KCV_LENGTH = 16;

export function keyCheckValue(key: Uint8Array, kid: string): Uint8Array {
  const mac = createHmac("sha256", key)
    .update(KCV_LABEL, "utf8")
    .update(Uint8Array.of(0))
    .update(kid, "utf8")
    .digest();
  return new Uint8Array(mac.subarray(0, KCV_LENGTH));
}
