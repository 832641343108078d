import { PROFILE_ROOT } from "../../evidence/mo-roots.js";
import type { OutCommand } from "../../omadm/session/index.js";
import type { Profile } from "./profile.js";

/**
 * A profile as DM tree content under the management object of PROFILE_MO.md. Leaves only: the
 * device tree creates interior nodes implicitly on Add (OMA-TS-DM_TND §6.6: a missing parent
 * of an added node is created), so the server never sends empty interiors. The root is named in
 * src/evidence/mo-roots.ts, which the device's DM client imports too.
 */
export { PROFILE_ROOT };

export interface ProfileLeaf {
  /** Relative to PROFILE_ROOT. */
  path: string;
  format: "chr" | "int" | "bool" | "b64";
  value: string;
}

const list = (xs: readonly string[]): string => xs.join(",");

/** The leaves of a profile, in a stable order. */
export function profileLeaves(p: Profile): ProfileLeaf[] {
  const out: ProfileLeaf[] = [
    { path: "Carrier", format: "chr", value: p.carrier },
    { path: "Access", format: "chr", value: p.access },
  ];
  if (p.userGroup) out.push({ path: "UserGroup", format: "chr", value: p.userGroup });
  if (p.networkAccessIdentity) {
    out.push({ path: "NAI/IMSI", format: "chr", value: p.networkAccessIdentity.imsi });
    out.push({ path: "NAI/MSISDN", format: "chr", value: p.networkAccessIdentity.msisdn });
  }
  if (p.prl) {
    out.push({ path: "PRL/Version", format: "int", value: String(p.prl.version) });
    out.push({ path: "PRL/Data", format: "b64", value: p.prl.data });
  }
  if (p.plmn) {
    out.push({ path: "PLMN/HPLMN", format: "chr", value: p.plmn.hplmn });
    out.push({ path: "PLMN/EHPLMN", format: "chr", value: list(p.plmn.ehplmn) });
    out.push({ path: "PLMN/OPLMN", format: "chr", value: list(p.plmn.oplmn) });
    out.push({ path: "PLMN/PLMN", format: "chr", value: list(p.plmn.plmn) });
  }
  if (p.mmss) {
    out.push({ path: "MMSS/MSPL", format: "chr", value: list(p.mmss.mspl) });
    out.push({ path: "MMSS/MLPL", format: "chr", value: list(p.mmss.mlpl) });
  }
  if (p.services) {
    for (const [name, v] of Object.entries(p.services)) {
      out.push(
        typeof v === "boolean"
          ? { path: `Services/${name}`, format: "bool", value: String(v) }
          : { path: `Services/${name}`, format: "chr", value: v },
      );
    }
  }
  out.push({ path: "Emergency/Numbers", format: "chr", value: list(p.emergency.numbers) });
  out.push({ path: "CustomerCare/Number", format: "chr", value: p.customerCare.number });
  out.push({ path: "CustomerCare/URI", format: "chr", value: p.customerCare.uri });
  return out;
}

/**
 * The commands that install a profile: a Delete of the old one (a 404 answer is fine: none
 * was there), then one Add with every leaf (OMA-TS-DM_Protocol §2.3.5, package 2).
 */
export function profileCommands(p: Profile): OutCommand[] {
  return [
    { kind: "Delete", items: [{ target: { locUri: PROFILE_ROOT } }] },
    {
      kind: "Add",
      items: profileLeaves(p).map((l) => ({
        target: { locUri: `${PROFILE_ROOT}/${l.path}` },
        meta: { format: l.format, type: "text/plain" },
        data: l.value,
      })),
    },
  ];
}
