import { PROFILE_ROOT } from "../../evidence/mo-roots.js";
import type { Item } from "../../omadm/model/message.js";
import type { TreeCommand } from "../../omadm/session/index.js";
import { type DmTree, parseDmUri } from "../../omadm/tree/index.js";
import { ENTERPRISE_SEGMENTS } from "./dm-enterprise.js";

/**
 * The dmguard profile management object as the device's DM client sees it (the carrier's
 * src/carrier/PROFILE_MO.md defines it). The root is shared (src/evidence/mo-roots.ts); the
 * device cannot import the carrier, so the layout is restated here, and the test against the
 * real carrier keeps the two in step.
 */
export { PROFILE_ROOT };

/** The root's segments, for matching parsed URIs; derived so the root is spelled only once. */
const PROFILE_SEGMENTS: readonly string[] = PROFILE_ROOT.split("/").slice(1);
/** Where the server must be allowed to Add/Delete/Get (PROFILE_MO.md: "its ACL on ./Vendor"). */
export const VENDOR_ROOT = "./Vendor";

/** What `device status` and `device activate` show as `profile` (PROFILE_MO.md, as an object). */
export interface ProvisionedProfile {
  carrier: string;
  access: "full" | "limited";
  userGroup: string | null;
  networkAccessIdentity: { imsi: string; msisdn: string } | null;
  prl: { version: number; data: string } | null;
  plmn: { hplmn: string; ehplmn: string[]; oplmn: string[]; plmn: string[] } | null;
  mmss: { mspl: string[]; mlpl: string[] } | null;
  services: Record<string, boolean | string> | null;
  emergency: { numbers: string[] };
  customerCare: { number: string; uri: string };
}

/** Commands that change the tree (everything but Get). */
const WRITES = new Set<TreeCommand["kind"]>(["Add", "Replace", "Delete", "Copy", "Exec"]);

/**
 * Whether a server command item writes the profile MO, so the TSZ must allow it first
 * (DESIGN.md step 7): any change inside the MO, and a Delete or an ACL Replace of one of its
 * ancestors (the first removes it, the second decides who may write it). Gets are reads and
 * pass, as do URIs the tree will refuse anyway (they are answered 400 there).
 */
export function writesProfile(cmd: TreeCommand, item: Item, tree: DmTree): boolean {
  return writesUnder(PROFILE_SEGMENTS, cmd, item, tree);
}

/**
 * The same rule for the enterprise MO (src/enterprise/ENTERPRISE_MO.md, restated in
 * dm-enterprise.ts): an MDAS's group content is provisioning too, so the TSZ decides it alike.
 */
export function writesGatedContent(cmd: TreeCommand, item: Item, tree: DmTree): boolean {
  return (
    writesUnder(PROFILE_SEGMENTS, cmd, item, tree) ||
    writesUnder(ENTERPRISE_SEGMENTS, cmd, item, tree)
  );
}

function writesUnder(root: readonly string[], cmd: TreeCommand, item: Item, tree: DmTree): boolean {
  if (!WRITES.has(cmd.kind)) return false;
  const target = item.target?.locUri;
  if (target === undefined) return false;
  const parsed = parseDmUri(target, tree.limits);
  if (!parsed.ok) return false;
  const segs = parsed.uri.segments;
  const n = Math.min(segs.length, root.length);
  for (let i = 0; i < n; i++) if (segs[i] !== root[i]) return false;
  if (segs.length >= root.length) return true;
  return cmd.kind === "Delete" || (cmd.kind === "Replace" && parsed.uri.query?.kind === "prop");
}

function text(tree: DmTree, path: string): string | undefined {
  const v = tree.read(`${PROFILE_ROOT}/${path}`);
  if (v === undefined) return undefined;
  return typeof v === "string" ? v : Buffer.from(v).toString("utf8");
}

/** A comma-separated list leaf; the empty string is the empty list. */
function list(tree: DmTree, path: string): string[] {
  const v = text(tree, path);
  return v ? v.split(",") : [];
}

/**
 * The profile the tree holds, or null when there is none (or it lacks the two leaves every
 * profile has, `Carrier` and `Access`).
 */
export function profileFromTree(tree: DmTree): ProvisionedProfile | null {
  const carrier = text(tree, "Carrier");
  const access = text(tree, "Access");
  if (carrier === undefined || (access !== "full" && access !== "limited")) return null;
  const imsi = text(tree, "NAI/IMSI");
  const msisdn = text(tree, "NAI/MSISDN");
  const prlVersion = text(tree, "PRL/Version");
  const prlData = text(tree, "PRL/Data");
  const hplmn = text(tree, "PLMN/HPLMN");
  const services = tree.children(`${PROFILE_ROOT}/Services`);
  return {
    carrier,
    access,
    userGroup: text(tree, "UserGroup") ?? null,
    networkAccessIdentity: imsi !== undefined && msisdn !== undefined ? { imsi, msisdn } : null,
    prl:
      prlVersion !== undefined && prlData !== undefined
        ? { version: Number(prlVersion), data: prlData }
        : null,
    plmn:
      hplmn !== undefined
        ? {
            hplmn,
            ehplmn: list(tree, "PLMN/EHPLMN"),
            oplmn: list(tree, "PLMN/OPLMN"),
            plmn: list(tree, "PLMN/PLMN"),
          }
        : null,
    mmss: tree.exists(`${PROFILE_ROOT}/MMSS`)
      ? { mspl: list(tree, "MMSS/MSPL"), mlpl: list(tree, "MMSS/MLPL") }
      : null,
    services: services
      ? Object.fromEntries(
          services.map((name) => {
            const v = text(tree, `Services/${name}`) ?? "";
            const bool = tree.inspect(`${PROFILE_ROOT}/Services/${name}`)?.format === "bool";
            return [name, bool ? v === "true" : v];
          }),
        )
      : null,
    emergency: { numbers: list(tree, "Emergency/Numbers") },
    customerCare: {
      number: text(tree, "CustomerCare/Number") ?? "",
      uri: text(tree, "CustomerCare/URI") ?? "",
    },
  };
}
