/** The OMA DM management tree (OMA-TS-DM_TND-V1_2) and the standard objects (OMA-TS-DM_StdObj-V1_2). */
export {
  ACL_COMMANDS,
  type Acl,
  type AclCommand,
  type AclEntry,
  type AclParseResult,
  aclPermits,
  DEFAULT_ROOT_ACL,
  formatAcl,
  parseAcl,
} from "./acl.js";
export {
  DmTree,
  type LocalLeafOptions,
  type LocalNodeOptions,
  type NodeInfo,
  type SubtreeSpec,
  type TreeOptions,
} from "./dm-tree.js";
export type { ExecHandler, ExecRequest } from "./exec-registry.js";
export type { LeafValue } from "./format.js";
export { DEFAULT_TREE_LIMITS, type TreeLimits } from "./state.js";
export { DEVDETAIL_ROOT, type DevDetailValues, mountDevDetail } from "./std/devdetail.js";
export { DEVINFO_ROOT, type DevInfoValues, mountDevInfo } from "./std/devinfo.js";
export {
  DMACC_ROOT,
  type DmAccount,
  type DmAuthType,
  type DmCredentials,
  findDmAccount,
  listDmAccountServerIds,
  mountDmAcc,
  readDmAccount,
  updateDmAccountNonces,
  type WriteAccountOptions,
  writeDmAccount,
} from "./std/dmacc.js";
export { MO_ID } from "./std/mo-ids.js";
export { TreeError, type TreeErrorCode } from "./tree-error.js";
export { type Clock, formatTStamp, systemClock } from "./tstamp.js";
export type { GetOutcome, ManagementTree, NodeFormat, NodeInput, TreeSnapshot } from "./types.js";
export {
  canonicalUri,
  type DmUri,
  PROPERTY_NAMES,
  type PropertyName,
  parseDmUri,
  type UriLimits,
} from "./uri.js";
