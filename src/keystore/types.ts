import type { EcPublicJwk, RecipientPublicKey, WrappedKey } from "./hpke-suite.js";

/**
 * The server-side trusted security zone, as callers (carrier server, platform) see it.
 *
 * A structural interface built by factories (`openSoftwareKeystore`, later a PKCS#11 one), in the
 * shape of a PKCS#11 token so a hardware backend maps onto it without touching callers:
 *
 * | here                          | PKCS#11                                                       |
 * | ----------------------------- | ------------------------------------------------------------- |
 * | owner (`carrier:acme`)        | a token (or CKA_ID prefix) whose objects are wrapped by the    |
 * |                               | owner's KEK; `forOwner` ≈ a session on it                      |
 * | signing key, by label         | CKO_PRIVATE_KEY CKK_EC P-256, CKA_LABEL, CKA_SENSITIVE,        |
 * |                               | CKA_EXTRACTABLE false; CKM_ECDSA for `signJws`                 |
 * | secret key, by label          | CKO_SECRET_KEY CKK_GENERIC_SECRET, CKM_SHA256_HMAC             |
 * | device key, by kid            | CKO_SECRET_KEY (32 bytes) CKA_ID = kid; CKM_SHA256_HMAC        |
 * |                               | (C_Verify) for proofs and KCVs; C_WrapKey for HPKE hand-over   |
 * | `extractable`                 | CKA_EXTRACTABLE                                                |
 * | `destroyKey`                  | C_DestroyObject                                                |
 *
 * Keys are named by label or kid and never leave in the clear: the only key material that
 * crosses this interface is public keys and HPKE-wrapped blobs addressed to a named recipient.
 *
 * The methods without an owner argument for signing and secret keys act for the keystore's
 * operator (`OPERATOR_OWNER`); `forOwner(owner)` gives the same operations in one tenant's
 * custody. Every key belongs to exactly one owner and is sealed under that owner's KEK; naming a
 * key of another owner fails exactly as naming no key (`KEY_NOT_FOUND`, same message).
 */
export interface Keystore {
  /** The operator's P-256 signing key `label`, created if missing; its public JWK. */
  ensureSigningKey(label: string): Promise<SigningPublicJwk>;
  /** A compact JWS (RFC 7515 §7.1), ES256, `kid` = the key's RFC 7638 thumbprint. */
  signJws(label: string, payload: Uint8Array | string, header?: JwsHeader): Promise<string>;
  /** The operator's 256-bit secret `label` (e.g. a token HMAC key), created if missing. */
  ensureSecretKey(label: string): Promise<void>;
  /** HMAC-SHA256 (RFC 2104) of `data` under the operator's secret `label`. */
  hmac(label: string, data: Uint8Array | string): Promise<Uint8Array>;
  /** Constant-time check of an HMAC-SHA256 under the operator's secret `label`. */
  verifyHmac(label: string, data: Uint8Array | string, mac: Uint8Array): Promise<boolean>;

  /**
   * Makes a new 256-bit device security key for `owner` and returns it HPKE-wrapped to the
   * device TSZ's public key. The key is durable (sealed and synced) before this resolves.
   *
   * With `opts.kid`, a retry is idempotent: the same kid for the same owner and recipient wraps
   * the same key again; for another recipient it fails with `KEY_EXISTS`.
   */
  createDeviceKey(
    owner: string,
    recipientPublicKey: RecipientPublicKey,
    opts?: CreateDeviceKeyOptions,
  ): Promise<CreatedDeviceKey>;
  /** True when `mac` = HMAC-SHA256(device key `kid`, `message`); compared in constant time. */
  verifyKeyProof(
    owner: string,
    kid: string,
    message: Uint8Array | string,
    mac: Uint8Array,
  ): Promise<boolean>;
  /**
   * The key check value of device key `kid` (as payment HSMs publish KCVs): the first 16 bytes
   * of HMAC-SHA256(key, UTF-8(label) ‖ 0x00 ‖ UTF-8(kid)). Identifies a key, reveals nothing.
   */
  keyCheckValue(owner: string, kid: string, label: string): Promise<Uint8Array>;
  /**
   * Wraps an existing device key to another recipient (e.g. a platform keystore's transport key
   * for custody). Only for keys created `extractable`; otherwise `KEY_NOT_EXTRACTABLE`.
   */
  wrapDeviceKey(
    owner: string,
    kid: string,
    recipientPublicKey: RecipientPublicKey,
  ): Promise<WrappedKey>;
  /**
   * Takes custody of a device key wrapped to this keystore's transport key, under `owner` (which
   * the blob must name). Idempotent for the same key; `KEY_EXISTS` if the kid names another.
   */
  importDeviceKey(owner: string, wrapped: WrappedKey): Promise<{ kid: string }>;
  /** Destroys device key `kid` of `owner` (durably, before resolving). */
  destroyKey(owner: string, kid: string): Promise<void>;
  /** The public key other keystores wrap to when they hand this one a key (`importDeviceKey`). */
  transportPublicKey(): Promise<EcPublicJwk>;

  /** The same operations in `owner`'s custody, the owner argument bound. */
  forOwner(owner: string): TenantKeystore;
  /** Finishes pending writes and releases the keystore; later calls fail with `KEYSTORE_CLOSED`. */
  close(): Promise<void>;
}

/** One owner's view of the keystore: keys of other owners do not exist here. */
export interface TenantKeystore {
  readonly owner: string;
  ensureSigningKey(label: string): Promise<SigningPublicJwk>;
  signJws(label: string, payload: Uint8Array | string, header?: JwsHeader): Promise<string>;
  ensureSecretKey(label: string): Promise<void>;
  hmac(label: string, data: Uint8Array | string): Promise<Uint8Array>;
  verifyHmac(label: string, data: Uint8Array | string, mac: Uint8Array): Promise<boolean>;
  createDeviceKey(
    recipientPublicKey: RecipientPublicKey,
    opts?: CreateDeviceKeyOptions,
  ): Promise<CreatedDeviceKey>;
  verifyKeyProof(kid: string, message: Uint8Array | string, mac: Uint8Array): Promise<boolean>;
  keyCheckValue(kid: string, label: string): Promise<Uint8Array>;
  wrapDeviceKey(kid: string, recipientPublicKey: RecipientPublicKey): Promise<WrappedKey>;
  importDeviceKey(wrapped: WrappedKey): Promise<{ kid: string }>;
  destroyKey(kid: string): Promise<void>;
}

/** The length of a key check value: 16 bytes, as the device's payload carries it. */
export const KCV_BYTES = 16;

/** The public half of a signing key, ready for pinning (RFC 7517). */
export interface SigningPublicJwk extends EcPublicJwk {
  /** RFC 7638 JWK thumbprint (SHA-256, base64url); the `kid` of every JWS it signs. */
  kid: string;
  alg: "ES256";
  use: "sig";
}

/**
 * Protected header parameters to add to a JWS (e.g. `typ`). `alg` and `kid` are the keystore's;
 * `crit`, `b64`, `jwk`, `jku`, `x5u`, `x5c` are refused (BAD_REQUEST).
 */
export type JwsHeader = Record<string, unknown>;

export interface CreateDeviceKeyOptions {
  /** Choose the key id (for idempotent retries); default: 32 random hex characters. */
  kid?: string;
  /** May the key later be wrapped to another recipient (`wrapDeviceKey`)? Default false. */
  extractable?: boolean;
  /**
   * Also wrap the new key to this recipient (a platform keystore's transport key, for custody),
   * inside the keystore and only now: the key can stay non-extractable and still be deposited
   * once. A retry with the same kid must name the same custody recipient (else `KEY_EXISTS`).
   */
  custody?: RecipientPublicKey;
}

export interface CreatedDeviceKey {
  kid: string;
  /** The key, HPKE-wrapped to the recipient; the only form in which it ever leaves. */
  wrapped: WrappedKey;
  /** With `custody`: the same key wrapped to the custody recipient. */
  custodyWrapped?: WrappedKey;
}

/**
 * What a backend implements: every operation with an explicit owner. `keystoreFromDriver` turns
 * it into a `Keystore`. The software backend speaks to its worker thread; a PKCS#11 backend
 * would speak to the token.
 */
export interface KeystoreDriver {
  ensureSigningKey(owner: string, label: string): Promise<SigningPublicJwk>;
  signJws(
    owner: string,
    label: string,
    payload: Uint8Array,
    header: JwsHeader | null,
  ): Promise<string>;
  ensureSecretKey(owner: string, label: string): Promise<void>;
  hmac(owner: string, label: string, data: Uint8Array): Promise<Uint8Array>;
  verifyHmac(owner: string, label: string, data: Uint8Array, mac: Uint8Array): Promise<boolean>;
  createDeviceKey(
    owner: string,
    recipientPublicKey: RecipientPublicKey,
    kid: string | null,
    extractable: boolean,
    custody: RecipientPublicKey | null,
  ): Promise<CreatedDeviceKey>;
  verifyKeyProof(
    owner: string,
    kid: string,
    message: Uint8Array,
    mac: Uint8Array,
  ): Promise<boolean>;
  keyCheckValue(owner: string, kid: string, label: string): Promise<Uint8Array>;
  wrapDeviceKey(
    owner: string,
    kid: string,
    recipientPublicKey: RecipientPublicKey,
  ): Promise<WrappedKey>;
  importDeviceKey(owner: string, wrapped: WrappedKey): Promise<{ kid: string }>;
  destroyKey(owner: string, kid: string): Promise<void>;
  transportPublicKey(): Promise<EcPublicJwk>;
  close(): Promise<void>;
}
