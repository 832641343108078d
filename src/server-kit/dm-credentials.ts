import { randomBytes } from "node:crypto";
import type { TenantKeystore } from "../keystore/index.js";
import type { DmServerApp, ServerClientRecord } from "../omadm/session/index.js";
import type { JsonObject, PartStore } from "../store/index.js";

/**
 * Per-device OMA DM credentials (OMA-TS-DM_Security §5.1.3: MD5 digest both ways), issued by a
 * server (carrier, enterprise MDAS) with its answer and used by its DM server to authenticate
 * the device's sessions.
 *
 * Digest authentication needs the secret on the server side, so it cannot be stored hashed.
 * It is not stored at all: each secret is derived inside the server's keystore as
 *
 *   secret = BASE64URL(HMAC-SHA256(server secret "dm-credentials",
 *                                  label ‖ 0x00 ‖ role ‖ 0x00 ‖ IMEI ‖ 0x00 ‖ generation))
 *
 * where `label` is the server's own (carrier/dm/credentials.ts, enterprise/dm/credentials.ts)
 * and `generation` the id of the verdict that issued it. The store keeps only the account's
 * public half (names, generation, current nonces) in kv `dm-accounts/<IMEI>`; a copy of the
 * database reveals no secret, and a new verdict (a new generation) rotates both secrets.
 */
export const DM_CREDENTIALS_KEY = "dm-credentials";
export const DM_ACCOUNTS_NS = "dm-accounts";

export type DmRole = "client" | "server";

/** What the store keeps about one device's DM account: no secret. */
export interface StoredDmAccount {
  imei: string;
  generation: string;
  clientName: string;
  serverId: string;
  /** base64 of the nonce the device must use next with its own credentials. */
  clientNonce: string;
  /** base64 of the nonce the server uses next with its credentials. */
  serverNonce: string;
}

/** The DM account a device receives with its verdict (CONTRACT.md `device dm-account` shape). */
export interface IssuedDmAccount {
  serverUri: string;
  serverId: string;
  authType: "DIGEST";
  client: { name: string; secret: string; nonce: string };
  server: { name: string; secret: string; nonce: string };
}

export function clientNameFor(imei: string): string {
  return `IMEI:${imei}`;
}

export function imeiFromClientName(name: string | undefined): string | null {
  const m = name === undefined ? null : /^IMEI:([0-9]{14,16})$/.exec(name);
  return m ? m[1]! : null;
}

export async function deriveDmSecret(
  keys: TenantKeystore,
  label: string,
  role: DmRole,
  imei: string,
  generation: string,
): Promise<string> {
  const mac = await keys.hmac(
    DM_CREDENTIALS_KEY,
    `${label}\u0000${role}\u0000${imei}\u0000${generation}`,
  );
  return Buffer.from(mac).toString("base64url");
}

export function newDmAccount(imei: string, generation: string, serverId: string): StoredDmAccount {
  return {
    imei,
    generation,
    clientName: clientNameFor(imei),
    serverId,
    clientNonce: randomBytes(16).toString("base64"),
    serverNonce: randomBytes(16).toString("base64"),
  };
}

/** Stores a new account generation for its IMEI (inside the verdict's transaction). */
export async function storeDmAccount(
  tx: PartStore,
  account: StoredDmAccount,
  now: number,
): Promise<string> {
  await tx.kv.put(DM_ACCOUNTS_NS, account.imei, account as unknown as JsonObject, { now });
  return `kv:${DM_ACCOUNTS_NS}/${account.imei}`;
}

export async function loadDmAccount(
  part: PartStore,
  imei: string,
): Promise<StoredDmAccount | null> {
  const e = await part.kv.get(DM_ACCOUNTS_NS, imei);
  return e ? (e.value as unknown as StoredDmAccount) : null;
}

/** The account with its secrets, for the device (sent once, in the verdict response). */
export async function issueDmAccount(
  keys: TenantKeystore,
  label: string,
  stored: StoredDmAccount,
  serverUri: string,
): Promise<IssuedDmAccount> {
  const [client, server] = await Promise.all([
    deriveDmSecret(keys, label, "client", stored.imei, stored.generation),
    deriveDmSecret(keys, label, "server", stored.imei, stored.generation),
  ]);
  return {
    serverUri,
    serverId: stored.serverId,
    authType: "DIGEST",
    client: { name: stored.clientName, secret: client, nonce: stored.clientNonce },
    server: { name: stored.serverId, secret: server, nonce: stored.serverNonce },
  };
}

/** What the DM server application's account hooks need of a server's context. */
export interface DmAccountScope {
  readonly part: PartStore;
  readonly keys: TenantKeystore;
  now(): number;
}

/**
 * The `findClient` and `saveNonce` hooks of a DM server application (omadm DmServerApp): the
 * device's account, its secrets derived again under `label`, and its nonces kept current.
 */
export function dmAccountHooks(
  scope: DmAccountScope,
  label: string,
): Required<Pick<DmServerApp, "findClient" | "saveNonce">> {
  const b = (s: string) => new Uint8Array(Buffer.from(s, "base64"));
  return {
    async findClient(q): Promise<ServerClientRecord | undefined> {
      const imei = imeiFromClientName(q.name ?? q.clientUri);
      const acc = imei ? await loadDmAccount(scope.part, imei) : null;
      if (!imei || !acc) return undefined;
      const [client, server] = await Promise.all([
        deriveDmSecret(scope.keys, label, "client", imei, acc.generation),
        deriveDmSecret(scope.keys, label, "server", imei, acc.generation),
      ]);
      return {
        client: { name: acc.clientName, secret: client, nonce: b(acc.clientNonce), scheme: "md5" },
        server: { name: acc.serverId, secret: server, nonce: b(acc.serverNonce), scheme: "md5" },
      };
    },

    async saveNonce(clientName, role, nonce) {
      const imei = imeiFromClientName(clientName);
      if (!imei) return;
      const b64 = Buffer.from(nonce).toString("base64");
      // The client's and the server's nonce are saved by separate calls that may overlap, each
      // writing the whole account: compare-and-set (kv.modify), so one never undoes the other.
      // An account that is gone (or never was) stays gone.
      await scope.part.kv.modify(
        DM_ACCOUNTS_NS,
        imei,
        (e) => {
          if (!e) return undefined;
          const acc = e.value as unknown as StoredDmAccount;
          const next =
            role === "client" ? { ...acc, clientNonce: b64 } : { ...acc, serverNonce: b64 };
          return next as unknown as JsonObject;
        },
        { now: scope.now() },
      );
    },
  };
}
