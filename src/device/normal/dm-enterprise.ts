import { ENTERPRISE_ROOT } from "../../evidence/mo-roots.js";
import type { DmTree } from "../../omadm/tree/index.js";

/**
 * The enterprise management object as the device's DM client sees it. The MDAS defines it
 * (src/enterprise/ENTERPRISE_MO.md). The root is shared (src/evidence/mo-roots.ts); the device
 * cannot import the enterprise, so the leaves are restated here, and the CLI test against the
 * real MDAS keeps the two in step.
 */
export { ENTERPRISE_ROOT };

/** The root's segments, for matching parsed URIs; derived so the root is spelled only once. */
export const ENTERPRISE_SEGMENTS: readonly string[] = ENTERPRISE_ROOT.split("/").slice(1);

/** What `device activate --via enterprise:ID` shows as `profile`: the group content, as an object. */
export interface EnterpriseProfile {
  enterprise: string;
  access: string;
  userGroup: string;
  user: string | null;
  apps: string[];
  rights: Record<string, boolean>;
  settings: Record<string, string>;
}

function text(tree: DmTree, path: string): string | undefined {
  const v = tree.read(`${ENTERPRISE_ROOT}/${path}`);
  if (v === undefined) return undefined;
  return typeof v === "string" ? v : Buffer.from(v).toString("utf8");
}

function leaves(tree: DmTree, folder: string): Array<[string, string]> {
  return (tree.children(`${ENTERPRISE_ROOT}/${folder}`) ?? []).map((name) => [
    name,
    text(tree, `${folder}/${name}`) ?? "",
  ]);
}

/** The content the tree holds, or null when there is none (no `Enterprise` or `UserGroup`). */
export function enterpriseFromTree(tree: DmTree): EnterpriseProfile | null {
  const enterprise = text(tree, "Enterprise");
  const userGroup = text(tree, "UserGroup");
  if (enterprise === undefined || userGroup === undefined) return null;
  const apps = text(tree, "Apps");
  return {
    enterprise,
    access: text(tree, "Access") ?? "",
    userGroup,
    user: text(tree, "User") ?? null,
    apps: apps ? apps.split(",") : [],
    rights: Object.fromEntries(leaves(tree, "Rights").map(([k, v]) => [k, v === "true"])),
    settings: Object.fromEntries(leaves(tree, "Settings")),
  };
}
