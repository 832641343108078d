/**
 * The DevDetail management object (OMA-TS-DM_StdObj-V1_2 §7.1.3.3): device facts servers read
 * on demand. Read-only to servers, so `./DevDetail` carries `Get=*`; standard nodes permanent.
 *
 *   ./DevDetail/URI/MaxDepth   chr   most URI segments; 0 = unlimited
 *   ./DevDetail/URI/MaxTotLen  chr   most characters in a URI; 0 = unlimited
 *   ./DevDetail/URI/MaxSegLen  chr   most characters in a segment; 0 = unlimited
 *   ./DevDetail/DevTyp         chr   device type, e.g. `phone`
 *   ./DevDetail/OEM            chr   original equipment manufacturer
 *   ./DevDetail/FwV, SwV, HwV  chr   firmware, software, hardware versions
 *   ./DevDetail/LrgObj         bool  whether the client supports Large Objects
 *   ./DevDetail/Ext            node  vendor extensions
 * The URI limits are the tree's own, as numerical strings (16-bit unsigned), so what the
 * device advertises is what it enforces.
 */
import type { DmTree } from "../dm-tree.js";
import { MO_ID } from "./mo-ids.js";

export const DEVDETAIL_ROOT = "./DevDetail";

export interface DevDetailValues {
  readonly devTyp: string;
  readonly oem: string;
  readonly fwV: string;
  readonly swV: string;
  readonly hwV: string;
  readonly lrgObj: boolean;
}

export function mountDevDetail(tree: DmTree, values: DevDetailValues): void {
  const root = DEVDETAIL_ROOT;
  tree.ensureInterior(root, { acl: "Get=*", type: MO_ID.DEVDETAIL, permanent: true });
  const chr = (uri: string, value: string) =>
    tree.setLeaf(uri, value, { format: "chr", type: "text/plain", permanent: true });
  tree.ensureInterior(`${root}/URI`, { permanent: true });
  const limit = (n: number) => String(Math.min(Math.max(0, Math.trunc(n)), 0xffff));
  chr(`${root}/URI/MaxDepth`, limit(tree.limits.maxDepth));
  chr(`${root}/URI/MaxTotLen`, limit(tree.limits.maxTotLen));
  chr(`${root}/URI/MaxSegLen`, limit(tree.limits.maxSegLen));
  chr(`${root}/DevTyp`, values.devTyp);
  chr(`${root}/OEM`, values.oem);
  chr(`${root}/FwV`, values.fwV);
  chr(`${root}/SwV`, values.swV);
  chr(`${root}/HwV`, values.hwV);
  tree.setLeaf(`${root}/LrgObj`, values.lrgObj ? "true" : "false", {
    format: "bool",
    type: "text/plain",
    permanent: true,
  });
  tree.ensureInterior(`${root}/Ext`, { permanent: true });
}
