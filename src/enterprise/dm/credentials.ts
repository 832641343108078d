import { randomBytes } from "node:crypto";
import type { JsonObject, PartStore } from "../../store/index.js";
import { DM_CREDENTIALS_KEY, type EnterpriseContext } from "../context.js";

/**
 * The enterprise DM server's per-device account (OMA-TS-DM_Security §5.1.3, MD5 digest both
 * ways), issued with an approved, eligible decision. As the carrier does, the secrets are not
 * stored: each is HMAC(enterprise secret, label ‖ role ‖ IMEI ‖ generation) inside the keystore;
 * kv `dm-accounts/<IMEI>` keeps names, generation and nonces only.
 */
const LABEL = "dmguard enterprise dm credentials v1";
export const DM_ACCOUNTS_NS = "dm-accounts";

export interface StoredDmAccount {
  imei: string;
  generation: string;
  clientName: string;
  serverId: string;
  clientNonce: string;
  serverNonce: string;
}

/** CONTRACT.md's `device dm-account` shape, as the carrier's verdict response carries it. */
export interface IssuedDmAccount {
  serverUri: string;
  serverId: string;
  authType: "DIGEST";
  client: { name: string; secret: string; nonce: string };
  server: { name: string; secret: string; nonce: string };
}

export function imeiFromClientName(name: string | undefined): string | null {
  const m = name === undefined ? null : /^IMEI:([0-9]{14,16})$/.exec(name);
  return m ? m[1]! : null;
}

export async function deriveSecret(
  ctx: EnterpriseContext,
  role: "client" | "server",
  imei: string,
  generation: string,
): Promise<string> {
  const mac = await ctx.keys.hmac(
    DM_CREDENTIALS_KEY,
    `${LABEL}\u0000${role}\u0000${imei}\u0000${generation}`,
  );
  return Buffer.from(mac).toString("base64url");
}

export async function storeNewAccount(
  ctx: EnterpriseContext,
  tx: PartStore,
  imei: string,
  generation: string,
  now: number,
): Promise<StoredDmAccount> {
  const acc: StoredDmAccount = {
    imei,
    generation,
    clientName: `IMEI:${imei}`,
    serverId: ctx.dmServerId,
    clientNonce: randomBytes(16).toString("base64"),
    serverNonce: randomBytes(16).toString("base64"),
  };
  await tx.kv.put(DM_ACCOUNTS_NS, imei, acc as unknown as JsonObject, { now });
  return acc;
}

export async function loadAccount(part: PartStore, imei: string): Promise<StoredDmAccount | null> {
  const e = await part.kv.get(DM_ACCOUNTS_NS, imei);
  return e ? (e.value as unknown as StoredDmAccount) : null;
}

/** The account with its secrets, sent to the device once, in the activation answer. */
export async function issue(
  ctx: EnterpriseContext,
  acc: StoredDmAccount,
  serverUri: string,
): Promise<IssuedDmAccount> {
  const [client, server] = await Promise.all([
    deriveSecret(ctx, "client", acc.imei, acc.generation),
    deriveSecret(ctx, "server", acc.imei, acc.generation),
  ]);
  return {
    serverUri,
    serverId: acc.serverId,
    authType: "DIGEST",
    client: { name: acc.clientName, secret: client, nonce: acc.clientNonce },
    server: { name: acc.serverId, secret: server, nonce: acc.serverNonce },
  };
}
