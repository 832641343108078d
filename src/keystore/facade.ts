import { KeystoreError } from "./errors.js";
import { isOwner, OPERATOR_OWNER } from "./names.js";
import type { JwsHeader, Keystore, KeystoreDriver, TenantKeystore } from "./types.js";

const encoder = new TextEncoder();

/**
 * Bytes to hand to a backend: strings as UTF-8; byte arrays copied into their own buffer, so a
 * small Buffer view does not drag its whole 8 KiB pool slab across the thread boundary, and a
 * caller mutating its array later changes nothing in flight.
 */
function bytes(v: Uint8Array | string): Uint8Array {
  if (typeof v === "string") return encoder.encode(v);
  // Anything else is passed on unchanged: the backend validates it and refuses it as BAD_REQUEST.
  return v instanceof Uint8Array ? new Uint8Array(v) : v;
}

function recipientCopy<T>(key: T): T {
  return key instanceof Uint8Array ? (new Uint8Array(key) as T) : key;
}

/** The `Keystore` callers use, over any backend's driver. */
export function keystoreFromDriver(driver: KeystoreDriver): Keystore {
  const tenants = new Map<string, TenantKeystore>();
  const forOwner = (owner: string): TenantKeystore => {
    if (!isOwner(owner)) throw new KeystoreError("BAD_REQUEST", "not a valid owner name");
    let t = tenants.get(owner);
    if (!t) {
      t = tenantView(driver, owner);
      tenants.set(owner, t);
    }
    return t;
  };
  const operator = tenantView(driver, OPERATOR_OWNER);
  return {
    ensureSigningKey: operator.ensureSigningKey,
    signJws: operator.signJws,
    ensureSecretKey: operator.ensureSecretKey,
    hmac: operator.hmac,
    verifyHmac: operator.verifyHmac,
    createDeviceKey: (owner, recipient, opts = {}) =>
      driver.createDeviceKey(
        owner,
        recipientCopy(recipient),
        opts.kid ?? null,
        opts.extractable ?? false,
        opts.custody === undefined ? null : recipientCopy(opts.custody),
      ),
    verifyKeyProof: (owner, kid, message, mac) =>
      driver.verifyKeyProof(owner, kid, bytes(message), bytes(mac)),
    keyCheckValue: (owner, kid, label) => driver.keyCheckValue(owner, kid, label),
    wrapDeviceKey: (owner, kid, recipient) =>
      driver.wrapDeviceKey(owner, kid, recipientCopy(recipient)),
    importDeviceKey: (owner, wrapped) => driver.importDeviceKey(owner, wrapped),
    destroyKey: (owner, kid) => driver.destroyKey(owner, kid),
    transportPublicKey: () => driver.transportPublicKey(),
    forOwner,
    close: () => driver.close(),
  };
}

function tenantView(driver: KeystoreDriver, owner: string): TenantKeystore {
  return Object.freeze({
    owner,
    ensureSigningKey: (label: string) => driver.ensureSigningKey(owner, label),
    signJws: (label: string, payload: Uint8Array | string, header?: JwsHeader) =>
      driver.signJws(owner, label, bytes(payload), header ?? null),
    ensureSecretKey: (label: string) => driver.ensureSecretKey(owner, label),
    hmac: (label: string, data: Uint8Array | string) => driver.hmac(owner, label, bytes(data)),
    verifyHmac: (label: string, data: Uint8Array | string, mac: Uint8Array) =>
      driver.verifyHmac(owner, label, bytes(data), bytes(mac)),
    createDeviceKey: (recipient, opts = {}) =>
      driver.createDeviceKey(
        owner,
        recipientCopy(recipient),
        opts.kid ?? null,
        opts.extractable ?? false,
        opts.custody === undefined ? null : recipientCopy(opts.custody),
      ),
    verifyKeyProof: (kid: string, message: Uint8Array | string, mac: Uint8Array) =>
      driver.verifyKeyProof(owner, kid, bytes(message), bytes(mac)),
    keyCheckValue: (kid: string, label: string) => driver.keyCheckValue(owner, kid, label),
    wrapDeviceKey: (kid, recipient) => driver.wrapDeviceKey(owner, kid, recipientCopy(recipient)),
    importDeviceKey: (wrapped) => driver.importDeviceKey(owner, wrapped),
    destroyKey: (kid: string) => driver.destroyKey(owner, kid),
  } satisfies TenantKeystore);
}
