import { createHash } from "node:crypto";
import type { X509Certificate } from "./x509.js";

/**
 * The evidence's `oemid` (RFC 9711 §4.2.3, random-based form): SHA-256 over the OEM CA's
 * SubjectPublicKeyInfo, truncated to 128 bits, base64url (the RFC allows a hash of a
 * high-entropy input). The device fuses it at manufacture; a server recomputes it from the CA it
 * trusts.
 */
export function oemIdOf(certificate: X509Certificate): string {
  const spki = new Uint8Array(certificate.publicKey.rawData);
  return createHash("sha256").update(spki).digest().subarray(0, 16).toString("base64url");
}
