import type { TenantKeystore } from "../../keystore/index.js";
import {
  type IssuedDmAccount,
  issueDmAccount,
  type StoredDmAccount,
} from "../../server-kit/index.js";

/**
 * The carrier's per-device OMA DM credentials: derived in its keystore from its secret
 * "dm-credentials" under the label below, as src/server-kit/dm-credentials.ts describes; the
 * store keeps only the account's public half, in kv `dm-accounts/<IMEI>`.
 */
export const CARRIER_DM_LABEL = "dmguard dm credentials v1";

export {
  DM_ACCOUNTS_NS,
  type IssuedDmAccount,
  newDmAccount as newAccount,
  type StoredDmAccount,
  storeDmAccount,
} from "../../server-kit/index.js";

/** The account with its secrets, for the device (sent once, in the verdict response). */
export function issuedAccount(
  keys: TenantKeystore,
  stored: StoredDmAccount,
  serverUri: string,
): Promise<IssuedDmAccount> {
  return issueDmAccount(keys, CARRIER_DM_LABEL, stored, serverUri);
}
