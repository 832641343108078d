import { readFile } from "node:fs/promises";
import {
  type AclCommand,
  DmTree,
  formatAcl,
  mountDevDetail,
  mountDevInfo,
  mountDmAcc,
  parseAcl,
} from "../../omadm/tree/index.js";
import { parseBuildProp } from "./build-prop.js";
import { readDeviceConfig, readReportedIdentity } from "./device-files.js";
import { installDmAccount } from "./dm-account.js";
import { VENDOR_ROOT } from "./dm-profile.js";
import { DEVICE_PATHS, within } from "./layout.js";
import { decodePayload } from "./payload-format.js";
import type { DmAccount } from "./payload-schema.js";

/**
 * The DM client's tree as it is before its first session (and again after a factory reset):
 * ./DevInfo and ./DevDetail from what the normal world knows of itself, ./DMAcc with the
 * bootstrap account of the preloaded payload (PAYLOAD.md), and ./Vendor open to that account's
 * server for the profile MO.
 */

/** The commands a DM server needs on ./Vendor to install and replace the profile MO. */
const VENDOR_GRANT: readonly AclCommand[] = ["Add", "Delete", "Get", "Replace"];

/**
 * Adds `serverId` to ./Vendor's ACL for Add, Delete, Get and Replace, keeping whoever is already
 * there (another carrier's account, after a migration). With Replace granted, nodes the server
 * adds below inherit this ACL rather than getting a creator-only one (TND §8.3.7.1.3).
 */
export function grantVendor(tree: DmTree, serverId: string): void {
  if (!tree.exists(VENDOR_ROOT)) tree.ensureInterior(VENDOR_ROOT);
  const current = parseAcl(tree.inspect(VENDOR_ROOT)?.acl ?? "");
  const entries = current.ok ? current.acl : [];
  const out = VENDOR_GRANT.map((command) => {
    const have = entries.find((e) => e.command === command)?.servers ?? [];
    return { command, servers: have.includes(serverId) ? have : [...have, serverId] };
  });
  // Commands this grant does not cover (Exec, say) stay as they were.
  for (const e of entries) if (!VENDOR_GRANT.includes(e.command)) out.push(e);
  tree.ensureInterior(VENDOR_ROOT, { acl: formatAcl(out) });
}

/** The payload's bootstrap account, or null when the payload cannot be decoded (tampered). */
export async function bootstrapAccount(dir: string): Promise<DmAccount | null> {
  try {
    const bytes = new Uint8Array(await readFile(within(dir, DEVICE_PATHS.payload)));
    return decodePayload(bytes).body.dmAccount;
  } catch {
    return null;
  }
}

async function buildProps(dir: string): Promise<ReadonlyMap<string, string>> {
  try {
    return parseBuildProp(await readFile(within(dir, DEVICE_PATHS.buildProp), "utf8"));
  } catch {
    return new Map();
  }
}

/**
 * A fresh tree for the device in `dir`. A payload that cannot be decoded leaves ./DMAcc empty:
 * the verification reports it, and a verdict's issued account can still be installed.
 */
export async function bootstrapDmTree(dir: string): Promise<DmTree> {
  const [config, reported, props, account] = await Promise.all([
    readDeviceConfig(dir),
    readReportedIdentity(dir),
    buildProps(dir),
    bootstrapAccount(dir),
  ]);
  const model = config?.model ?? props.get("ro.product.model") ?? "unknown";
  const brand = config?.brand ?? props.get("ro.product.manufacturer") ?? "unknown";
  const tree = new DmTree();
  // DevId: the IMEI the normal world reports (StdObj §7.1.3.2: "IMEI:" prefix for GSM devices).
  mountDevInfo(tree, {
    devId: `IMEI:${reported?.imei ?? "000000000000000"}`,
    man: brand,
    mod: model,
  });
  mountDevDetail(tree, {
    devTyp: "phone",
    oem: brand,
    fwV: props.get("ro.build.display.id") ?? "1.0",
    swV: props.get("ro.build.version.release") ?? "unknown",
    hwV: model,
    lrgObj: true,
  });
  mountDmAcc(tree);
  if (account) {
    installDmAccount(tree, account);
    grantVendor(tree, account.serverId);
  }
  return tree;
}
