import { createHash, createPublicKey, type KeyObject, X509Certificate } from "node:crypto";

/**
 * An attestation key's identity: SHA-256 of its SubjectPublicKeyInfo (DER), base64url
 * (EVIDENCE.md). The evidence check reports it for the device, the carrier's inventory and the
 * platform's custody records hold it, and they are compared, so it is computed here only.
 */

/**
 * A P-256 SubjectPublicKeyInfo up to its point: SEQUENCE { SEQUENCE { id-ecPublicKey,
 * secp256r1 }, BIT STRING } (RFC 5480 §2.1.1, namedCurve), the point uncompressed (§2.2),
 * which is how OpenSSL encodes every P-256 public key.
 */
const P256_SPKI_HEAD = Buffer.from("3059301306072a8648ce3d020106082a8648ce3d03010703420004", "hex");
const COORDINATE_OCTETS = 32;

function isP256(key: KeyObject): boolean {
  return key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1";
}

/**
 * The thumbprint of a public key. A P-256 key's SPKI is assembled from its coordinates: OpenSSL
 * 3's DER encoder costs about 110 µs per key, its JWK export 5 µs, and the carrier computes this
 * at every activation of a phone whose certificate it has not seen (most of them). Other keys
 * go through the encoder. Callers pass keys read from certificates or imported: a key object
 * straight from Node 20's generator may deadlock a JWK export (test/support/keys.ts).
 */
export function keyThumbprint(key: KeyObject): string {
  const hash = createHash("sha256");
  if (isP256(key)) {
    const { x, y } = key.export({ format: "jwk" });
    const px = Buffer.from(x ?? "", "base64url");
    const py = Buffer.from(y ?? "", "base64url");
    if (px.length === COORDINATE_OCTETS && py.length === COORDINATE_OCTETS) {
      return hash.update(P256_SPKI_HEAD).update(px).update(py).digest("base64url");
    }
  }
  return hash.update(key.export({ type: "spki", format: "der" })).digest("base64url");
}

/**
 * The thumbprint of a P-256 attestation key given as a certificate PEM or an SPKI PEM. Throws
 * (the caller words the refusal) when the PEM does not parse or is not a P-256 key.
 */
export function pemThumbprint(pem: string): string {
  const key = pem.includes("CERTIFICATE")
    ? new X509Certificate(pem).publicKey
    : createPublicKey({ key: pem, format: "pem" });
  if (!isP256(key)) throw new TypeError("not a P-256 key");
  return keyThumbprint(key);
}
