/**
 * dmguard's server-side trusted security zone (DESIGN.md, "keystore"): signing keys, device
 * security keys, tenants' custody and small secrets, behind one structural interface. Secret keys
 * never leave it; callers ask it to sign, verify, MAC and wrap.
 */
export {
  isKeystoreError,
  KEYSTORE_ERROR_CODES,
  KeystoreError,
  type KeystoreErrorCode,
} from "./errors.js";
export { keystoreFromDriver } from "./facade.js";
export {
  DEVICE_KEY_BYTES,
  DEVICE_KEY_INFO_LABEL,
  deviceKeyInfo,
  type EcPublicJwk,
  HPKE_SUITE,
  isWrappedKey,
  type RecipientPublicKey,
  type WrappedKey,
} from "./hpke-suite.js";
export {
  KID_PATTERN,
  LABEL_PATTERN,
  OPERATOR_OWNER,
  OWNER_PATTERN,
} from "./names.js";
export {
  openSoftwareKeystore,
  type SoftwareKeystoreOptions,
} from "./software/software-keystore.js";
export {
  type CreateDeviceKeyOptions,
  type CreatedDeviceKey,
  type JwsHeader,
  KCV_BYTES,
  type Keystore,
  type KeystoreDriver,
  type SigningPublicJwk,
  type TenantKeystore,
} from "./types.js";
