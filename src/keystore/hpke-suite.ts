import type { webcrypto } from "node:crypto";
import { Aes256Gcm, CipherSuite, DhkemP256HkdfSha256, HkdfSha256 } from "@hpke/core";
import { KeystoreError } from "./errors.js";
import { isKid, isOwner } from "./names.js";

/**
 * The one HPKE suite (RFC 9180) by which a server keystore hands a device security key to a
 * device TSZ (and to another keystore, for custody), in base mode (§5.1.1), single shot (§6.1):
 *
 *   KEM  0x0010  DHKEM(P-256, HKDF-SHA256)   (§7.1)
 *   KDF  0x0001  HKDF-SHA256                 (§7.2)
 *   AEAD 0x0002  AES-256-GCM                 (§7.3)
 *
 * P-256 rather than X25519: it is the curve of the device's attestation key and the one a
 * PKCS#11 token (SoftHSM2 included) offers for ECDH everywhere.
 *
 * The context binds the key to its owner and key id:
 *
 *   info = ASCII("dmguard device key v1") ‖ 0x00 ‖ UTF-8(owner) ‖ 0x00 ‖ UTF-8(kid)
 *   aad  = empty
 *   pt   = the 32-byte key
 *
 * so a blob relabelled with another owner or kid fails to open, and a blob addressed to one
 * device's public key fails to open with another's (the KEM binds pkR, §4.1).
 *
 * Every party (keystore, device TSZ, tests) imports the suite from this file.
 */
export const HPKE_SUITE = Object.freeze({
  mode: 0x00,
  kem: 0x0010,
  kdf: 0x0001,
  aead: 0x0002,
  name: "DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM",
} as const);

/** The label at the start of `info`, versioned. */
export const DEVICE_KEY_INFO_LABEL = "dmguard device key v1";
/** A device security key: 256 bits. */
export const DEVICE_KEY_BYTES = 32;
/** The serialized public key of the KEM (SerializePublicKey, §7.1.1): uncompressed SEC1. */
export const RECIPIENT_PUBLIC_KEY_BYTES = 65;
/** `enc` of DHKEM(P-256): an uncompressed point. */
export const ENC_BYTES = 65;
/** The ciphertext: the key and the 16-byte GCM tag. */
export const WRAPPED_CT_BYTES = DEVICE_KEY_BYTES + 16;

export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** A P-256 public key as a JWK (RFC 7518 §6.2.1). */
export interface EcPublicJwk {
  kty: "EC";
  crv: "P-256";
  x: string;
  y: string;
}

/**
 * A recipient's public key: the KEM's serialization (65 bytes, `0x04 ‖ X ‖ Y`) or a JWK.
 */
export type RecipientPublicKey = Uint8Array | EcPublicJwk;

/**
 * A wrapped device key as it leaves the keystore (JSON-safe). `owner` and `kid` travel in the
 * clear; they are public and bound by `info`.
 */
export interface WrappedKey {
  v: 1;
  kem: typeof HPKE_SUITE.kem;
  kdf: typeof HPKE_SUITE.kdf;
  aead: typeof HPKE_SUITE.aead;
  owner: string;
  kid: string;
  /** base64url of the encapsulated key (65 bytes). */
  enc: string;
  /** base64url of the ciphertext (48 bytes). */
  ct: string;
}

let suite: CipherSuite | undefined;

/** The suite object of `@hpke/core` (one per thread). */
export function hpkeSuite(): CipherSuite {
  suite ??= new CipherSuite({
    kem: new DhkemP256HkdfSha256(),
    kdf: new HkdfSha256(),
    aead: new Aes256Gcm(),
  });
  return suite;
}

const encoder = new TextEncoder();

export function deviceKeyInfo(owner: string, kid: string): Uint8Array {
  const label = encoder.encode(DEVICE_KEY_INFO_LABEL);
  const o = encoder.encode(owner);
  const k = encoder.encode(kid);
  const out = new Uint8Array(label.length + 1 + o.length + 1 + k.length);
  out.set(label, 0);
  out.set(o, label.length + 1);
  out.set(k, label.length + 1 + o.length + 1);
  return out;
}

const B64URL = /^[A-Za-z0-9_-]*$/;

function isB64url(v: unknown, bytes: number): v is string {
  return typeof v === "string" && v.length === Math.ceil((bytes * 4) / 3) && B64URL.test(v);
}

function isEcPublicJwk(v: unknown): v is EcPublicJwk {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  return o.kty === "EC" && o.crv === "P-256" && isB64url(o.x, 32) && isB64url(o.y, 32);
}

/**
 * Checks the shape of a recipient public key (not yet that it is on the curve) and returns its
 * 65-byte serialization.
 */
export function recipientKeyBytes(key: unknown): Uint8Array {
  if (key instanceof Uint8Array) {
    if (key.length !== RECIPIENT_PUBLIC_KEY_BYTES || key[0] !== 0x04)
      throw new KeystoreError(
        "RECIPIENT_KEY_INVALID",
        "a recipient public key must be 65 bytes, 0x04 ‖ X ‖ Y (P-256)",
      );
    return new Uint8Array(key);
  }
  if (isEcPublicJwk(key)) {
    const out = new Uint8Array(RECIPIENT_PUBLIC_KEY_BYTES);
    out[0] = 0x04;
    out.set(Buffer.from(key.x, "base64url"), 1);
    out.set(Buffer.from(key.y, "base64url"), 33);
    return out;
  }
  throw new KeystoreError(
    "RECIPIENT_KEY_INVALID",
    "a recipient public key must be 65 bytes or a P-256 public JWK",
  );
}

/** Imports a recipient public key, checking that the point is on P-256. */
export async function importRecipientPublicKey(key: unknown): Promise<CryptoKey> {
  const raw = recipientKeyBytes(key);
  try {
    return (await hpkeSuite().kem.deserializePublicKey(raw)) as CryptoKey;
  } catch {
    throw new KeystoreError("RECIPIENT_KEY_INVALID", "the recipient public key is not on P-256");
  }
}

/** The JWK form of a 65-byte P-256 public key. */
export function publicJwkFromBytes(raw: Uint8Array): EcPublicJwk {
  return {
    kty: "EC",
    crv: "P-256",
    x: Buffer.from(raw.subarray(1, 33)).toString("base64url"),
    y: Buffer.from(raw.subarray(33, 65)).toString("base64url"),
  };
}

/** Checks that `v` has the exact shape of a `WrappedKey` of this suite. */
export function isWrappedKey(v: unknown): v is WrappedKey {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort().join(",");
  return (
    keys === "aead,ct,enc,kdf,kem,kid,owner,v" &&
    o.v === 1 &&
    o.kem === HPKE_SUITE.kem &&
    o.kdf === HPKE_SUITE.kdf &&
    o.aead === HPKE_SUITE.aead &&
    isOwner(o.owner) &&
    isKid(o.kid) &&
    isB64url(o.enc, ENC_BYTES) &&
    isB64url(o.ct, WRAPPED_CT_BYTES)
  );
}

/**
 * Sender side: seals a 32-byte key to the recipient for (owner, kid). The keystore calls this
 * inside its isolated worker; the key bytes given here are never returned.
 */
export async function sealDeviceKey(
  recipient: CryptoKey,
  owner: string,
  kid: string,
  key: Uint8Array,
): Promise<WrappedKey> {
  const { ct, enc } = await hpkeSuite().seal(
    { recipientPublicKey: recipient, info: deviceKeyInfo(owner, kid) },
    key,
  );
  return {
    v: 1,
    kem: HPKE_SUITE.kem,
    kdf: HPKE_SUITE.kdf,
    aead: HPKE_SUITE.aead,
    owner,
    kid,
    enc: Buffer.from(enc).toString("base64url"),
    ct: Buffer.from(ct).toString("base64url"),
  };
}

/**
 * Recipient side: opens a wrapped key with the recipient's private key (or key pair). Throws
 * `BAD_REQUEST` for a blob of the wrong shape and `UNWRAP_FAILED` when it does not open.
 */
export async function openDeviceKey(
  recipient: CryptoKey | CryptoKeyPair,
  wrapped: unknown,
): Promise<Uint8Array> {
  if (!isWrappedKey(wrapped))
    throw new KeystoreError("BAD_REQUEST", `not a wrapped key of suite ${HPKE_SUITE.name}`);
  let pt: ArrayBuffer;
  try {
    pt = await hpkeSuite().open(
      {
        recipientKey: recipient as never,
        enc: Buffer.from(wrapped.enc, "base64url"),
        info: deviceKeyInfo(wrapped.owner, wrapped.kid),
      },
      Buffer.from(wrapped.ct, "base64url"),
    );
  } catch {
    throw new KeystoreError(
      "UNWRAP_FAILED",
      `the wrapped key ${wrapped.kid} of ${wrapped.owner} does not open with this recipient key`,
    );
  }
  const key = new Uint8Array(pt);
  if (key.length !== DEVICE_KEY_BYTES) {
    key.fill(0);
    throw new KeystoreError("UNWRAP_FAILED", "the wrapped key is not 32 bytes");
  }
  return key;
}
