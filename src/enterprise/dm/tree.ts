import { ENTERPRISE_ROOT } from "../../evidence/mo-roots.js";
import type { OutCommand } from "../../omadm/session/index.js";
import type { EnterpriseContent } from "../policy/content.js";

/**
 * The root of the enterprise management object (ENTERPRISE_MO.md), named in
 * src/evidence/mo-roots.ts, which the device's DM client imports too.
 */
export { ENTERPRISE_ROOT };

interface Leaf {
  path: string;
  format: "chr" | "bool";
  value: string;
}

/** The leaves of the content, in a stable order (interior nodes are implied by Add). */
export function enterpriseLeaves(c: EnterpriseContent): Leaf[] {
  const out: Leaf[] = [
    { path: "Enterprise", format: "chr", value: c.enterprise },
    { path: "Access", format: "chr", value: c.access },
    { path: "UserGroup", format: "chr", value: c.userGroup },
  ];
  if (c.user !== null) out.push({ path: "User", format: "chr", value: c.user });
  out.push({ path: "Apps", format: "chr", value: c.apps.join(",") });
  for (const [k, v] of Object.entries(c.rights)) {
    out.push({ path: `Rights/${k}`, format: "bool", value: String(v) });
  }
  for (const [k, v] of Object.entries(c.settings)) {
    out.push({ path: `Settings/${k}`, format: "chr", value: v });
  }
  return out;
}

/** Delete the old content (404 is fine), then one Add with every leaf (OMA-TS-DM_Protocol §2.3.5). */
export function enterpriseCommands(c: EnterpriseContent): OutCommand[] {
  return [
    { kind: "Delete", items: [{ target: { locUri: ENTERPRISE_ROOT } }] },
    {
      kind: "Add",
      items: enterpriseLeaves(c).map((l) => ({
        target: { locUri: `${ENTERPRISE_ROOT}/${l.path}` },
        meta: { format: l.format, type: "text/plain" },
        data: l.value,
      })),
    },
  ];
}
