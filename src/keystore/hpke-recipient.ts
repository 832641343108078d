/**
 * The device side of the key hand-over (RFC 9180 base mode, the suite of hpke-suite.ts): what a
 * device TSZ (src/device/tsz) or a test needs to receive a device security key from a server
 * keystore.
 *
 *   const me = await generateRecipientKeyPair();       // or deriveRecipientKeyPair(seed)
 *   const { kid, wrapped } = await keystore.createDeviceKey("carrier:acme", me.publicKey);
 *   const key = await openWrappedKey(me.privateKey, wrapped, { owner: "carrier:acme", kid });
 *
 * `deriveRecipientKeyPair` (RFC 9180 §7.1.3 DeriveKeyPair) lets a TSZ keep only a 32-byte seed
 * in its sealed storage and rebuild the same key pair on every start.
 *
 * The module holds no state and starts no worker; it never sees the keystore's secrets, only
 * the blob addressed to the recipient.
 */
import { KeystoreError } from "./errors.js";
import {
  type CryptoKey,
  type CryptoKeyPair,
  hpkeSuite,
  isWrappedKey,
  openDeviceKey,
  type WrappedKey,
} from "./hpke-suite.js";

export {
  DEVICE_KEY_BYTES,
  DEVICE_KEY_INFO_LABEL,
  deviceKeyInfo,
  type EcPublicJwk,
  HPKE_SUITE,
  isWrappedKey,
  publicJwkFromBytes,
  RECIPIENT_PUBLIC_KEY_BYTES,
  type RecipientPublicKey,
  type WrappedKey,
} from "./hpke-suite.js";

export interface RecipientKeyPair {
  /** The KEM private key (a non-extractable Web Crypto key usable for HPKE open). */
  privateKey: CryptoKey;
  /** The 65-byte serialized public key (`0x04 ‖ X ‖ Y`), as `createDeviceKey` takes it. */
  publicKey: Uint8Array;
}

async function asRecipient(pair: CryptoKeyPair): Promise<RecipientKeyPair> {
  const raw = await hpkeSuite().kem.serializePublicKey(pair.publicKey as never);
  return { privateKey: pair.privateKey, publicKey: new Uint8Array(raw) };
}

/** A fresh recipient key pair (GenerateKeyPair, §4). */
export async function generateRecipientKeyPair(): Promise<RecipientKeyPair> {
  return asRecipient((await hpkeSuite().kem.generateKeyPair()) as CryptoKeyPair);
}

/**
 * The recipient key pair derived from a seed of at least 32 bytes (DeriveKeyPair, §7.1.3):
 * the same seed always gives the same pair.
 */
export async function deriveRecipientKeyPair(seed: Uint8Array): Promise<RecipientKeyPair> {
  if (!(seed instanceof Uint8Array) || seed.length < 32)
    throw new KeystoreError("BAD_REQUEST", "a recipient seed must be at least 32 bytes");
  return asRecipient((await hpkeSuite().kem.deriveKeyPair(seed)) as CryptoKeyPair);
}

export interface OpenExpectations {
  /** The owner the blob must name (e.g. the carrier the device is activating with). */
  owner?: string;
  /** The key id the blob must name. */
  kid?: string;
}

/**
 * Opens a wrapped device key with the recipient's private key and returns the 32 key bytes.
 * When `expected` names an owner or kid, a blob naming another is refused before opening.
 * Errors: `BAD_REQUEST` (not a wrapped key of this suite, or not the expected owner/kid),
 * `UNWRAP_FAILED` (addressed to another recipient, relabelled, or altered).
 */
export async function openWrappedKey(
  privateKey: CryptoKey | CryptoKeyPair,
  wrapped: WrappedKey | unknown,
  expected: OpenExpectations = {},
): Promise<Uint8Array> {
  if (isWrappedKey(wrapped)) {
    if (expected.owner !== undefined && wrapped.owner !== expected.owner)
      throw new KeystoreError("BAD_REQUEST", `the wrapped key is not for owner ${expected.owner}`);
    if (expected.kid !== undefined && wrapped.kid !== expected.kid)
      throw new KeystoreError("BAD_REQUEST", `the wrapped key is not key ${expected.kid}`);
  }
  return openDeviceKey(privateKey, wrapped);
}
