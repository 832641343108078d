/**
 * The DevInfo management object (OMA-TS-DM_StdObj-V1_2 §7.1.3.2): the device facts a DM server
 * needs for every session (the client sends them in Package 1). Read-only to servers
 * (Access Type Get only), so `./DevInfo` carries `Get=*`; every standard node is permanent.
 *
 *   ./DevInfo/DevId   chr   unique device identifier, e.g. `IMEI:493005100592800`
 *   ./DevInfo/Man     chr   manufacturer
 *   ./DevInfo/Mod     chr   model
 *   ./DevInfo/DmV     chr   OMA DM client version, `1.2`
 *   ./DevInfo/Lang    chr   current language, e.g. `en-US`
 *   ./DevInfo/Ext     node  vendor extensions
 */
import type { DmTree } from "../dm-tree.js";
import { MO_ID } from "./mo-ids.js";

export const DEVINFO_ROOT = "./DevInfo";

export interface DevInfoValues {
  readonly devId: string;
  readonly man: string;
  readonly mod: string;
  /** Default `1.2`. */
  readonly dmV?: string;
  /** Default `en-US`. */
  readonly lang?: string;
}

export function mountDevInfo(tree: DmTree, values: DevInfoValues): void {
  tree.ensureInterior(DEVINFO_ROOT, { acl: "Get=*", type: MO_ID.DEVINFO, permanent: true });
  const leaf = (name: string, value: string) =>
    tree.setLeaf(`${DEVINFO_ROOT}/${name}`, value, {
      format: "chr",
      type: "text/plain",
      permanent: true,
    });
  leaf("DevId", values.devId);
  leaf("Man", values.man);
  leaf("Mod", values.mod);
  leaf("DmV", values.dmV ?? "1.2");
  leaf("Lang", values.lang ?? "en-US");
  tree.ensureInterior(`${DEVINFO_ROOT}/Ext`, { permanent: true });
}
