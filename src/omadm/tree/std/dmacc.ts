/**
 * The DM Account management object, v1.2 layout (OMA-TS-DM_StdObj-V1_2 §7.1.3.1), and a typed
 * view of one account for the client engine (server address, server id, credentials, nonces).
 *
 *   ./DMAcc/<X>                         node  one account; Type urn:oma:mo:oma-dm-dmacc:1.0
 *     AppID                             chr   `w7`
 *     ServerID                          chr   the server identifier the ACLs name
 *     Name                              chr   display name
 *     PrefConRef                        chr   preferred connectivity (not written here)
 *     AppAddr/<X>/Addr                  chr   server address
 *     AppAddr/<X>/AddrType              chr   `URI` | `IPv4` | `IPv6`
 *     AppAddr/<X>/Port/<X>/PortNbr      chr   decimal 16-bit port
 *     AAuthPref                         chr   preferred AAuthType
 *     AppAuth/<X>/AAuthLevel            chr   `CLCRED` | `SRVCRED` | `OBEX` | `HTTP`
 *     AppAuth/<X>/AAuthType             chr   `BASIC` | `DIGEST` | `HMAC` | `HTTP-BASIC` | …
 *     AppAuth/<X>/AAuthName             chr
 *     AppAuth/<X>/AAuthSecret           chr   Access Type: no Get
 *     AppAuth/<X>/AAuthData             bin   the nonce; Access Type: no Get
 *     Ext                               node
 *
 * ACLs: an account is its server's alone (`Add`, `Delete`, `Get`, `Replace` for its ServerID);
 * AAuthSecret and AAuthData carry `Replace=<ServerID>` and no Get for anyone, so no server can
 * read a secret or a nonce through the protocol. `./DMAcc` itself is `Get=*` and permanent;
 * accounts are created by the device (bootstrap), not by servers.
 */

import { StatusCode } from "../../status.js";
import { isServerId } from "../acl.js";
import type { DmTree } from "../dm-tree.js";
import { TreeError } from "../tree-error.js";
import { MO_ID } from "./mo-ids.js";

export const DMACC_ROOT = "./DMAcc";

export type DmAuthType = "BASIC" | "DIGEST" | "HMAC";
const AUTH_TYPES: readonly DmAuthType[] = ["BASIC", "DIGEST", "HMAC"];

export interface DmCredentials {
  readonly name: string;
  readonly secret: string;
  /** The nonce this side uses in its next credential (AAuthData). */
  readonly nonce: Uint8Array;
}

export interface DmAccount {
  readonly serverId: string;
  readonly name: string;
  /** The server's address (AppAddr/<X>/Addr, AddrType URI). */
  readonly serverUri: string;
  readonly authType: DmAuthType;
  /** CLCRED: how the client authenticates to the server; its nonce was issued by the server. */
  readonly client: DmCredentials;
  /** SRVCRED: how the server authenticates to the client; its nonce was issued by the client. */
  readonly server: DmCredentials;
}

export interface WriteAccountOptions {
  /** The `<X>` node name for a new account; default derived from the ServerID. */
  readonly nodeName?: string;
}

const AAUTH_LEVEL = { client: "CLCRED", server: "SRVCRED" } as const;

/** Creates `./DMAcc` if it is not there. */
export function mountDmAcc(tree: DmTree): void {
  if (!tree.exists(DMACC_ROOT)) {
    tree.ensureInterior(DMACC_ROOT, { acl: "Get=*", permanent: true });
  }
}

function invalid(uri: string, message: string): never {
  throw new TreeError("ACCOUNT_INVALID", StatusCode.COMMAND_FAILED, uri, message);
}

const utf8Decoder = new TextDecoder();
const utf8Encoder = new TextEncoder();

function text(tree: DmTree, uri: string): string | undefined {
  const v = tree.read(uri);
  if (v === undefined || typeof v === "string") return v;
  return utf8Decoder.decode(v);
}

/** The `./DMAcc/<X>` URI of the account for `serverId`, if there is one. */
export function findDmAccount(tree: DmTree, serverId: string): string | undefined {
  for (const name of tree.children(DMACC_ROOT) ?? []) {
    const uri = `${DMACC_ROOT}/${name}`;
    if (text(tree, `${uri}/ServerID`) === serverId) return uri;
  }
  return undefined;
}

/** The ServerIDs of all accounts in the tree. */
export function listDmAccountServerIds(tree: DmTree): string[] {
  const ids: string[] = [];
  for (const name of tree.children(DMACC_ROOT) ?? []) {
    const id = text(tree, `${DMACC_ROOT}/${name}/ServerID`);
    if (id !== undefined) ids.push(id);
  }
  return ids;
}

/** The AppAuth/<X> URI whose AAuthLevel is `level`. */
function findAppAuth(tree: DmTree, account: string, level: string): string | undefined {
  for (const name of tree.children(`${account}/AppAuth`) ?? []) {
    const uri = `${account}/AppAuth/${name}`;
    if (text(tree, `${uri}/AAuthLevel`) === level) return uri;
  }
  return undefined;
}

function readNonce(tree: DmTree, uri: string): Uint8Array {
  const info = tree.inspect(uri);
  if (!info || info.value === undefined) return new Uint8Array(0);
  // A server may have replaced it through XML with Meta Format b64 (TND §8.3.7.2).
  if (info.format === "b64") return new Uint8Array(Buffer.from(info.value as string, "base64"));
  return typeof info.value === "string" ? utf8Encoder.encode(info.value) : info.value;
}

function readCredentials(tree: DmTree, appAuth: string | undefined): DmCredentials {
  if (!appAuth) return { name: "", secret: "", nonce: new Uint8Array(0) };
  return {
    name: text(tree, `${appAuth}/AAuthName`) ?? "",
    secret: text(tree, `${appAuth}/AAuthSecret`) ?? "",
    nonce: readNonce(tree, `${appAuth}/AAuthData`),
  };
}

function asAuthType(value: string | undefined): DmAuthType | undefined {
  return AUTH_TYPES.find((t) => t === value);
}

/**
 * Reads the account of `serverId`, or undefined if there is none. Throws `TreeError`
 * ACCOUNT_INVALID when the account lacks an address or client credentials, or names an
 * authentication type other than BASIC, DIGEST or HMAC. Server credentials are optional
 * (an account bootstrapped without SRVCRED reads as empty ones).
 */
export function readDmAccount(tree: DmTree, serverId: string): DmAccount | undefined {
  const account = findDmAccount(tree, serverId);
  if (!account) return undefined;
  const addrNode = tree.children(`${account}/AppAddr`)?.[0];
  const serverUri =
    addrNode === undefined ? undefined : text(tree, `${account}/AppAddr/${addrNode}/Addr`);
  if (!serverUri) invalid(account, "no AppAddr/<X>/Addr");
  const clientAuth = findAppAuth(tree, account, AAUTH_LEVEL.client);
  if (!clientAuth) invalid(account, "no AppAuth with AAuthLevel CLCRED");
  const typeText = text(tree, `${account}/AAuthPref`) || text(tree, `${clientAuth}/AAuthType`);
  const authType = asAuthType(typeText);
  if (!authType) invalid(account, `unsupported AAuthType ${typeText ?? "(none)"}`);
  return {
    serverId,
    name: text(tree, `${account}/Name`) ?? "",
    serverUri,
    authType,
    client: readCredentials(tree, clientAuth),
    server: readCredentials(tree, findAppAuth(tree, account, AAUTH_LEVEL.server)),
  };
}

function nodeNameFor(tree: DmTree, serverId: string): string {
  const base =
    serverId
      .replace(/[^A-Za-z0-9._-]/g, "_")
      .slice(0, 32)
      .replace(/^\.+$/, "_") || "acc";
  let name = base;
  for (let i = 2; tree.exists(`${DMACC_ROOT}/${name}`); i++) name = `${base}_${i}`;
  return name;
}

function explicitPort(serverUri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(serverUri);
  } catch {
    return invalid(serverUri, "server address is not a URI");
  }
  return url.port === "" ? undefined : url.port;
}

/**
 * Writes `account` into the tree as the device, replacing any account with the same ServerID
 * (same `<X>` node). Returns the account's URI.
 */
export function writeDmAccount(
  tree: DmTree,
  account: DmAccount,
  options: WriteAccountOptions = {},
): string {
  const sid = account.serverId;
  if (!isServerId(sid)) invalid(sid, "a ServerID must be nameable in an ACL");
  if (!AUTH_TYPES.includes(account.authType))
    invalid(sid, `unsupported auth type ${account.authType}`);
  const port = explicitPort(account.serverUri);
  mountDmAcc(tree);

  // All or nothing: a fault half-way leaves the tree as it was.
  const before = tree.snapshot();
  try {
    return writeAccountNodes(tree, account, port, options);
  } catch (err) {
    tree.restore(before);
    throw err;
  }
}

function writeAccountNodes(
  tree: DmTree,
  account: DmAccount,
  port: string | undefined,
  options: WriteAccountOptions,
): string {
  const sid = account.serverId;
  const existing = findDmAccount(tree, sid);
  const uri = existing ?? `${DMACC_ROOT}/${options.nodeName ?? nodeNameFor(tree, sid)}`;
  if (existing) tree.remove(existing);
  else if (tree.exists(uri))
    throw new TreeError(
      "ALREADY_EXISTS",
      StatusCode.ALREADY_EXISTS,
      uri,
      "another account has this node",
    );

  const own = `Add=${sid}&Delete=${sid}&Get=${sid}&Replace=${sid}`;
  const chr = (path: string, value: string, acl?: string) =>
    tree.setLeaf(
      `${uri}/${path}`,
      value,
      acl === undefined ? { format: "chr" } : { format: "chr", acl },
    );
  tree.ensureInterior(uri, { acl: own, type: MO_ID.DMACC });
  chr("AppID", "w7");
  chr("ServerID", sid);
  chr("Name", account.name);
  chr("AppAddr/1/Addr", account.serverUri);
  chr("AppAddr/1/AddrType", "URI");
  if (port !== undefined) chr("AppAddr/1/Port/1/PortNbr", port);
  chr("AAuthPref", account.authType);
  const writeAuth = (index: string, side: "client" | "server") => {
    const creds = account[side];
    const base = `AppAuth/${index}`;
    chr(`${base}/AAuthLevel`, AAUTH_LEVEL[side]);
    chr(`${base}/AAuthType`, account.authType);
    chr(`${base}/AAuthName`, creds.name);
    chr(`${base}/AAuthSecret`, creds.secret, `Replace=${sid}`);
    tree.setLeaf(`${uri}/${base}/AAuthData`, creds.nonce, { format: "bin", acl: `Replace=${sid}` });
  };
  writeAuth("1", "server");
  writeAuth("2", "client");
  tree.ensureInterior(`${uri}/Ext`);
  return uri;
}

/**
 * Stores new nonces for the account of `serverId` (after a Chal's NextNonce, OMA-TS-DM_Security
 * §5.1.3.3): `client` is the nonce the client will use, `server` the one the server must use.
 */
export function updateDmAccountNonces(
  tree: DmTree,
  serverId: string,
  nonces: { readonly client?: Uint8Array; readonly server?: Uint8Array },
): void {
  const account = findDmAccount(tree, serverId);
  if (!account)
    throw new TreeError(
      "NOT_FOUND",
      StatusCode.NOT_FOUND,
      DMACC_ROOT,
      `no account for ${serverId}`,
    );
  for (const side of ["client", "server"] as const) {
    const nonce = nonces[side];
    if (nonce === undefined) continue;
    const appAuth = findAppAuth(tree, account, AAUTH_LEVEL[side]);
    if (!appAuth) invalid(account, `no AppAuth with AAuthLevel ${AAUTH_LEVEL[side]}`);
    const uri = `${appAuth}/AAuthData`;
    const acl = tree.inspect(uri)?.acl || `Replace=${serverId}`;
    tree.setLeaf(uri, nonce, { format: "bin", acl });
  }
}
