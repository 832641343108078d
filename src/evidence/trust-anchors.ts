import { anchorOf, type TrustAnchor } from "./attestation.js";
import {
  BasicConstraintsExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  X509Certificate,
} from "./x509.js";

/**
 * Loads OEM CA certificates as trust anchors. Throws when one is not a CA certificate allowed to
 * sign certificates (RFC 5280 §4.2.1.9 basicConstraints cA, §4.2.1.3 keyCertSign).
 */
export function loadTrustAnchors(pems: readonly string[]): TrustAnchor[] {
  return pems.map((pem) => {
    const peculiar = new X509Certificate(pem);
    const bc = peculiar.getExtension(BasicConstraintsExtension);
    if (!bc?.ca) throw new TypeError(`${peculiar.subject} is not a CA certificate`);
    const ku = peculiar.getExtension(KeyUsagesExtension);
    if (ku && (ku.usages & KeyUsageFlags.keyCertSign) === 0) {
      throw new TypeError(`${peculiar.subject} may not sign certificates`);
    }
    return anchorOf(pem);
  });
}
