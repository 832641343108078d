import type { JWK } from "jose";
import { DeviceError } from "../errors.js";
import type {
  CryptoKey,
  CryptoKeyPair,
  EcKeyGenParams,
  EcKeyImportParams,
  JsonWebKey,
} from "../webcrypto-types.js";
import { Pkcs10CertificateRequestGenerator, X509Certificate } from "../x509.js";

/**
 * The device attestation key (ECDSA P-256, signs ES256 evidence). It is generated inside the
 * TSZ; the OEM CA only ever sees a PKCS#10 request (RFC 2986), whose signature proves the TSZ
 * holds the private key. The private key is sealed as a JWK and re-imported non-extractable.
 */
const EC: EcKeyImportParams & EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };

export async function generateAttestationKey(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(EC, true, ["sign", "verify"]);
}

export async function attestationCsr(keys: CryptoKeyPair, imei: string): Promise<string> {
  const csr = await Pkcs10CertificateRequestGenerator.create({
    name: `CN=dmguard attestation ${imei.replace(/[^0-9A-Za-z]/g, "")}`,
    keys,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
  });
  return csr.toString("pem");
}

export async function exportPrivateJwk(key: CryptoKey): Promise<JWK> {
  return (await crypto.subtle.exportKey("jwk", key)) as JWK;
}

export async function importSigningKey(jwk: JWK): Promise<CryptoKey> {
  return crypto.subtle.importKey("jwk", jwk as JsonWebKey, EC, false, ["sign"]);
}

/**
 * The certificate's DER (base64, for `x5c`) once it is known to certify `publicKey`: same
 * SubjectPublicKeyInfo. Who issued it is the server's question, not the TSZ's.
 */
export async function certificateForKey(pem: string, publicKey: CryptoKey): Promise<string> {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    throw new DeviceError(
      "CERTIFICATE_INVALID",
      "the attestation certificate is not an X.509 certificate",
    );
  }
  const ours = Buffer.from(await crypto.subtle.exportKey("spki", publicKey));
  if (!ours.equals(Buffer.from(cert.publicKey.rawData))) {
    throw new DeviceError(
      "CERTIFICATE_INVALID",
      "the certificate does not certify this TSZ's attestation key",
    );
  }
  return Buffer.from(cert.rawData).toString("base64");
}

/** The base64 DER of a PEM certificate (already checked at install time). */
export function certificateDer(pem: string): string {
  return Buffer.from(new X509Certificate(pem).rawData).toString("base64");
}
