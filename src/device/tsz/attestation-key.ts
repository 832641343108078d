import {
  createPrivateKey,
  KeyObject,
  type JsonWebKey as NodeJwk,
  X509Certificate as NodeX509,
  sign,
} from "node:crypto";
import type { JWK } from "jose";
import { DeviceError } from "../errors.js";
import type { CryptoKey, CryptoKeyPair, EcKeyGenParams } from "../webcrypto-types.js";

/**
 * The device attestation key (ECDSA P-256, signs ES256 evidence). It is generated inside the
 * TSZ; the OEM CA only ever sees a PKCS#10 request (RFC 2986), whose signature proves the TSZ
 * holds the private key. The private key is sealed as a JWK and imported once per device open.
 */
const EC: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };

export async function generateAttestationKey(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(EC, true, ["sign", "verify"]);
}

/** One DER TLV (X.690 §8.1): definite length, short form below 128 octets. */
function der(tag: number, ...content: Uint8Array[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  const len =
    n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : undefined;
  if (!len) throw new RangeError("DER value too long for a CSR");
  return Buffer.concat([Buffer.from([tag, ...len]), body]);
}

const SEQUENCE = 0x30;
const SET = 0x31;
/** id-at-commonName (X.520) and ecdsa-with-SHA256 (RFC 5758 §3.2), encoded OIDs. */
const OID_CN = Buffer.from("0603550403", "hex");
const ECDSA_WITH_SHA256 = der(SEQUENCE, Buffer.from("06082a8648ce3d040302", "hex"));

/**
 * The PKCS#10 request (RFC 2986 §4) for the attestation key: subject CN "dmguard attestation
 * <IMEI's letters and digits>" as a PrintableString, no attributes, ECDSA with SHA-256. Written
 * directly in DER and signed through node:crypto: a factory line makes one per device, and
 * a general ASN.1 library took milliseconds for these few bytes.
 */
export async function attestationCsr(keys: CryptoKeyPair, imei: string): Promise<string> {
  const cn = `dmguard attestation ${imei.replace(/[^0-9A-Za-z]/g, "")}`;
  const subject = der(
    SEQUENCE,
    der(SET, der(SEQUENCE, OID_CN, der(0x13, Buffer.from(cn, "ascii")))),
  );
  const spki = KeyObject.from(keys.publicKey).export({ type: "spki", format: "der" });
  const info = der(SEQUENCE, der(0x02, Buffer.of(0)), subject, spki, Buffer.from([0xa0, 0x00]));
  const signature = sign("sha256", info, KeyObject.from(keys.privateKey));
  const csr = der(SEQUENCE, info, ECDSA_WITH_SHA256, der(0x03, Buffer.of(0), signature));
  const lines = csr.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE REQUEST-----\n${lines.join("\n")}\n-----END CERTIFICATE REQUEST-----`;
}

/**
 * Through PKCS#8 and a key object of its own: Node 20 deadlocks when a JWK export of a freshly
 * generated key triggers a garbage collection that frees that key's generator job (both take
 * the key's mutex), and a PKCS#8 export runs on the thread pool, where no collection happens.
 */
export async function exportPrivateJwk(key: CryptoKey): Promise<JWK> {
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey("pkcs8", key));
  return createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }).export({
    format: "jwk",
  }) as JWK;
}

/**
 * The sealed attestation key as a node:crypto key, checked once here rather than on every
 * signature: ES256 needs a private EC P-256 key (RFC 7518 §3.4). node:crypto rather than Web
 * Crypto because its signing is synchronous, so an activation does not wait on the thread pool
 * for a signature that takes well under a millisecond.
 */
export function importSigningKey(jwk: JWK): KeyObject {
  // A public JWK is refused in the same words as any other unfit key, not node:crypto's.
  const key =
    typeof jwk.d === "string" ? createPrivateKey({ key: jwk as NodeJwk, format: "jwk" }) : null;
  if (key?.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    throw new TypeError("ES256 evidence needs a private EC P-256 attestation key");
  }
  return key;
}

/**
 * The certificate's DER (base64, for `x5c`) once it is known to certify `publicKey`: same public
 * key. Who issued it is the server's question, not the TSZ's. node:crypto parses it natively,
 * which a factory line making thousands of devices notices.
 */
export async function certificateForKey(pem: string, publicKey: CryptoKey): Promise<string> {
  let cert: NodeX509;
  try {
    cert = new NodeX509(pem);
  } catch {
    throw new DeviceError(
      "CERTIFICATE_INVALID",
      "the attestation certificate is not an X.509 certificate",
    );
  }
  if (!cert.publicKey.equals(KeyObject.from(publicKey))) {
    throw new DeviceError(
      "CERTIFICATE_INVALID",
      "the certificate does not certify this TSZ's attestation key",
    );
  }
  return cert.raw.toString("base64");
}

/** The base64 DER of a PEM certificate (already checked at install time). */
export function certificateDer(pem: string): string {
  return new NodeX509(pem).raw.toString("base64");
}
