import {
  type DmTree,
  listDmAccountServerIds,
  readDmAccount,
  type DmAccount as TreeAccount,
  writeDmAccount,
} from "../../omadm/tree/index.js";
import { DmClientError } from "./dm-errors.js";
import {
  BOOTSTRAP_SCHEMA_ID,
  bootstrapProblems,
  type DmAccount,
  type DmCredentials,
} from "./payload-schema.js";

/**
 * The two faces of one DM account: CONTRACT.md's flattened JSON (`device dm-account --json`,
 * the payload's bootstrap account, what a carrier issues with a verdict; nonces in base64) and
 * the ./DMAcc subtree the omadm engine reads (OMA-TS-DM_StdObj §7.1.3.1; nonces as octets).
 */

/** Settings that satisfy the payload schema, so its DMAcc rules can be asked about one account. */
const ANY_SETTINGS = { carrier: "x", apn: "x", pollMinutes: 1 };

/**
 * Every way `v` departs from the DMAcc shape. The rules are the payload schema's (the bootstrap
 * account and an issued one have one shape), asked through a body around `v`.
 */
export function dmAccountProblems(v: unknown): string[] {
  return bootstrapProblems({ schema: BOOTSTRAP_SCHEMA_ID, dmAccount: v, settings: ANY_SETTINGS });
}

function bytes(b64: string): Uint8Array {
  return new Uint8Array(Buffer.from(b64, "base64"));
}

function side(c: DmCredentials): TreeAccount["client"] {
  return { name: c.name, secret: c.secret, nonce: bytes(c.nonce) };
}

/** The JSON account as ./DMAcc content. */
export function toTreeAccount(a: DmAccount): TreeAccount {
  return {
    serverId: a.serverId,
    name: a.serverId,
    serverUri: a.serverUri,
    authType: a.authType,
    client: side(a.client),
    server: side(a.server),
  };
}

function flat(c: TreeAccount["client"]): DmCredentials {
  return { name: c.name, secret: c.secret, nonce: Buffer.from(c.nonce).toString("base64") };
}

/** An ./DMAcc account as CONTRACT.md's JSON. */
export function fromTreeAccount(a: TreeAccount): DmAccount {
  return {
    serverUri: a.serverUri,
    serverId: a.serverId,
    authType: a.authType,
    client: flat(a.client),
    server: flat(a.server),
  };
}

/**
 * Writes `account` into ./DMAcc (replacing the one with its ServerID: an issued account
 * supersedes the bootstrap one) after checking its shape.
 */
export function installDmAccount(tree: DmTree, account: unknown): DmAccount {
  const problems = dmAccountProblems(account);
  if (problems.length > 0) {
    throw new DmClientError("DM_ACCOUNT_INVALID", `the DM account is invalid: ${problems[0]}`);
  }
  const a = account as DmAccount;
  // A copy with exactly the schema's fields: nothing else travels into the tree.
  const clean: DmAccount = {
    serverUri: a.serverUri,
    serverId: a.serverId,
    authType: a.authType,
    client: { name: a.client.name, secret: a.client.secret, nonce: a.client.nonce },
    server: { name: a.server.name, secret: a.server.secret, nonce: a.server.nonce },
  };
  writeDmAccount(tree, toTreeAccount(clean));
  return clean;
}

/**
 * The account the DM client uses by default: the last one in ./DMAcc. A rewritten account moves
 * to the end (writeDmAccount replaces its node), so this is the most recently installed one.
 */
export function currentServerId(tree: DmTree): string | undefined {
  return listDmAccountServerIds(tree).at(-1);
}

/** The account of `serverId` (default: the current one), or undefined when ./DMAcc has none. */
export function readTreeAccount(tree: DmTree, serverId?: string): TreeAccount | undefined {
  const sid = serverId ?? currentServerId(tree);
  if (sid === undefined) return undefined;
  try {
    return readDmAccount(tree, sid);
  } catch (err) {
    // An account node without an address, CLCRED or a known AAuthType: not one this client wrote.
    throw new DmClientError(
      "DM_TREE_CORRUPT",
      `the DM account ${sid} in ./DMAcc is incomplete: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}
