import {
  type IssuedDmAccount,
  issueDmAccount,
  newDmAccount,
  type StoredDmAccount,
  storeDmAccount,
} from "../../server-kit/index.js";
import type { PartStore } from "../../store/index.js";
import type { EnterpriseContext } from "../context.js";

/**
 * The enterprise DM server's per-device account (OMA-TS-DM_Security §5.1.3, MD5 digest both
 * ways), issued with an approved, eligible decision. As the carrier's, the secrets are not
 * stored but derived in the keystore under the label below (src/server-kit/dm-credentials.ts);
 * kv `dm-accounts/<IMEI>` keeps names, generation and nonces only.
 */
export const ENTERPRISE_DM_LABEL = "dmguard enterprise dm credentials v1";

export type { IssuedDmAccount, StoredDmAccount } from "../../server-kit/index.js";

export async function storeNewAccount(
  ctx: EnterpriseContext,
  tx: PartStore,
  imei: string,
  generation: string,
  now: number,
): Promise<StoredDmAccount> {
  const acc = newDmAccount(imei, generation, ctx.dmServerId);
  await storeDmAccount(tx, acc, now);
  return acc;
}

/** The account with its secrets, sent to the device once, in the activation answer. */
export function issue(
  ctx: EnterpriseContext,
  acc: StoredDmAccount,
  serverUri: string,
): Promise<IssuedDmAccount> {
  return issueDmAccount(ctx.keys, ENTERPRISE_DM_LABEL, acc, serverUri);
}
