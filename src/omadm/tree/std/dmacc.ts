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
import { formatAcl, isServerId } from "../acl.js";
import { type DmTree, type LocalLeafOptions, treeRoot } from "../dm-tree.js";
import type { LeafValue } from "../format.js";
import { isInterior, type TreeNode } from "../node.js";
import { TreeError } from "../tree-error.js";
import { MO_ID } from "./mo-ids.js";

export const DMACC_ROOT = "./DMAcc";
const DMACC_SEGMENT = "DMAcc";

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

// Reading walks the tree's immutable records (`treeRoot`) rather than calling `read` and
// `children` with a URI per node: a session reads a dozen nodes of its account, and building
// and parsing those URIs cost more than the reads themselves. The helpers answer exactly what
// `read` (a leaf's value, text decoded as UTF-8) and `children` (an interior node's names) would.

/** The child `name` of a node; undefined when either is missing (a leaf has no children). */
function child(node: TreeNode | undefined, name: string): TreeNode | undefined {
  return node?.children.get(name);
}

/** A leaf's value as text, as `tree.read` would give it; undefined for no node or an interior one. */
function leafText(node: TreeNode | undefined): string | undefined {
  if (node === undefined || isInterior(node)) return undefined;
  const v = node.value;
  return typeof v === "string" ? v : utf8Decoder.decode(v);
}

/** An interior node's children; undefined for no node or a leaf (as `tree.children`). */
function childrenOf(node: TreeNode | undefined): ReadonlyMap<string, TreeNode> | undefined {
  return node !== undefined && isInterior(node) ? node.children : undefined;
}

function dmAccRoot(tree: DmTree): TreeNode | undefined {
  return child(treeRoot(tree), DMACC_SEGMENT);
}

/** The `<X>` node name of the account for `serverId`, if there is one. */
function findAccountName(tree: DmTree, serverId: string): string | undefined {
  const accounts = childrenOf(dmAccRoot(tree));
  if (accounts === undefined) return undefined;
  for (const [name, node] of accounts) {
    if (leafText(child(node, "ServerID")) === serverId) return name;
  }
  return undefined;
}

/** The account node `<X>` as the tree holds it now. */
function accountNode(tree: DmTree, name: string): TreeNode | undefined {
  return child(dmAccRoot(tree), name);
}

/** The `./DMAcc/<X>` URI of the account for `serverId`, if there is one. */
export function findDmAccount(tree: DmTree, serverId: string): string | undefined {
  const name = findAccountName(tree, serverId);
  return name === undefined ? undefined : `${DMACC_ROOT}/${name}`;
}

/** The ServerIDs of all accounts in the tree. */
export function listDmAccountServerIds(tree: DmTree): string[] {
  const ids: string[] = [];
  for (const node of childrenOf(dmAccRoot(tree))?.values() ?? []) {
    const id = leafText(child(node, "ServerID"));
    if (id !== undefined) ids.push(id);
  }
  return ids;
}

/** The AppAuth/<X> whose AAuthLevel is `level`: its node name and node. */
function findAppAuth(
  account: TreeNode | undefined,
  level: string,
): { name: string; node: TreeNode } | undefined {
  const entries = childrenOf(child(account, "AppAuth"));
  if (entries === undefined) return undefined;
  for (const [name, node] of entries) {
    if (leafText(child(node, "AAuthLevel")) === level) return { name, node };
  }
  return undefined;
}

/** AAuthData as bytes, as stored or as its b64 text decodes (a copy either way). */
function readNonce(node: TreeNode | undefined): Uint8Array {
  if (node === undefined || isInterior(node)) return new Uint8Array(0);
  const value = node.value;
  // A server may have replaced it through XML with Meta Format b64 (TND §8.3.7.2).
  if (node.format === "b64") return new Uint8Array(Buffer.from(value as string, "base64"));
  return typeof value === "string" ? utf8Encoder.encode(value) : value.slice();
}

function readCredentials(appAuth: TreeNode | undefined): DmCredentials {
  if (!appAuth) return { name: "", secret: "", nonce: new Uint8Array(0) };
  return {
    name: leafText(child(appAuth, "AAuthName")) ?? "",
    secret: leafText(child(appAuth, "AAuthSecret")) ?? "",
    nonce: readNonce(child(appAuth, "AAuthData")),
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
  const name = findAccountName(tree, serverId);
  if (name === undefined) return undefined;
  const account = accountNode(tree, name);
  const uri = () => `${DMACC_ROOT}/${name}`;
  const addresses = childrenOf(child(account, "AppAddr"));
  const first = addresses?.values().next();
  const serverUri =
    first === undefined || first.done ? undefined : leafText(child(first.value, "Addr"));
  if (!serverUri) invalid(uri(), "no AppAddr/<X>/Addr");
  const clientAuth = findAppAuth(account, AAUTH_LEVEL.client);
  if (!clientAuth) invalid(uri(), "no AppAuth with AAuthLevel CLCRED");
  const typeText =
    leafText(child(account, "AAuthPref")) || leafText(child(clientAuth.node, "AAuthType"));
  const authType = asAuthType(typeText);
  if (!authType) invalid(uri(), `unsupported AAuthType ${typeText ?? "(none)"}`);
  return {
    serverId,
    name: leafText(child(account, "Name")) ?? "",
    serverUri,
    authType,
    client: readCredentials(clientAuth.node),
    server: readCredentials(findAppAuth(account, AAUTH_LEVEL.server)?.node),
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
  // Built off the tree and joined once (DmTree.addSubtree): leaf by leaf, each leaf copied the
  // path from the root.
  const leaves: Array<{ path: string; value: LeafValue; options: LocalLeafOptions }> = [];
  const chr = (path: string, value: string, acl?: string) =>
    leaves.push({
      path,
      value,
      options: acl === undefined ? { format: "chr" } : { format: "chr", acl },
    });
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
    leaves.push({
      path: `${base}/AAuthData`,
      value: creds.nonce,
      options: { format: "bin", acl: `Replace=${sid}` },
    });
  };
  writeAuth("1", "server");
  writeAuth("2", "client");
  tree.addSubtree(uri, { leaves, interiors: ["Ext"] }, { acl: own, type: MO_ID.DMACC });
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
  const name = findAccountName(tree, serverId);
  if (name === undefined)
    throw new TreeError(
      "NOT_FOUND",
      StatusCode.NOT_FOUND,
      DMACC_ROOT,
      `no account for ${serverId}`,
    );
  const account = `${DMACC_ROOT}/${name}`;
  for (const side of ["client", "server"] as const) {
    const nonce = nonces[side];
    if (nonce === undefined) continue;
    // Looked up in the tree as it is now: the other side's nonce may just have been written.
    const appAuth = findAppAuth(accountNode(tree, name), AAUTH_LEVEL[side]);
    if (!appAuth) invalid(account, `no AppAuth with AAuthLevel ${AAUTH_LEVEL[side]}`);
    const data = child(appAuth.node, "AAuthData");
    const acl = (data ? formatAcl(data.acl) : "") || `Replace=${serverId}`;
    tree.setLeaf(`${account}/AppAuth/${appAuth.name}/AAuthData`, nonce, { format: "bin", acl });
  }
}
