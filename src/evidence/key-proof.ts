import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Proof of possession of a slot's security key, bound to the server's nonce and to the evidence
 * (DESIGN.md step 4). The key never leaves the TSZ; the server recomputes the proof inside its own
 * keystore, which holds the same key.
 *
 * kp = BASE64URL(HMAC-SHA256(slot key, input)), where input is exactly the bytes
 *
 *     ASCII("dmguard key proof v1") ‖ 0x00 ‖ UTF-8(eat_nonce) ‖ 0x00 ‖ ASCII(BASE64URL(JWS Payload))
 *
 * i.e. the label, the nonce as the server sent it, and the evidence's payload segment exactly as
 * it appears in the compact JWS (RFC 7515 §7.1), so no JSON canonicalisation is needed. The proof
 * travels in the JWS protected header as the private header parameter `kp` (RFC 7515 §4.3), so
 * the attestation signature covers it too. Verify the JWS signature first, then the proof.
 */
export const KEY_PROOF_LABEL = "dmguard key proof v1";
export const KEY_PROOF_HEADER = "kp";

export function keyProofInput(nonce: string, payloadSegment: string): Uint8Array {
  return new Uint8Array(
    Buffer.concat([
      Buffer.from(KEY_PROOF_LABEL, "ascii"),
      Buffer.of(0),
      Buffer.from(nonce, "utf8"),
      Buffer.of(0),
      Buffer.from(payloadSegment, "ascii"),
    ]),
  );
}

export function computeKeyProof(key: Uint8Array, nonce: string, payloadSegment: string): string {
  return createHmac("sha256", key).update(keyProofInput(nonce, payloadSegment)).digest("base64url");
}

/**
 * Checks the `kp` of a compact JWS whose signature the caller has already verified: recomputes
 * the proof under `key` over the payload's `eat_nonce` and the payload segment, compares in
 * constant time. `expectedNonce`, when given, must equal the payload's `eat_nonce`.
 */
export function verifyKeyProof(
  key: Uint8Array,
  compactJws: string,
  expectedNonce?: string,
): boolean {
  const parts = compactJws.split(".");
  if (parts.length !== 3) return false;
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, "base64url").toString("utf8")) as Record<
      string,
      unknown
    >;
    const payload = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as Record<
      string,
      unknown
    >;
    const kp = header[KEY_PROOF_HEADER];
    const nonce = payload.eat_nonce;
    if (typeof kp !== "string" || typeof nonce !== "string") return false;
    if (expectedNonce !== undefined && nonce !== expectedNonce) return false;
    const expected = Buffer.from(computeKeyProof(key, nonce, parts[1]!), "base64url");
    const given = Buffer.from(kp, "base64url");
    return given.length === expected.length && timingSafeEqual(given, expected);
  } catch {
    return false;
  }
}
