/**
 * Copy (OMA-TS-DM_RepPro §6.6.3). The ACL has no Copy right (TND §8.3.7.1.5): a Copy needs the
 * rights of the equivalent Get, Add and Replace commands.
 * - The source must exist (404) and the server must be able to Get every node it copies (425).
 * - A missing target is created as a copy of the source subtree: its parent must exist (404)
 *   and be interior (405), the server needs Add on it (425). The copies get fresh properties:
 *   empty (inherited) ACLs, except the ACL rule for a server adding an interior node without
 *   Replace on the parent (TND §8.3.7.1.3); TStamp now, VerNo 0; never permanent, so rights
 *   and permanence are not copied along with data.
 * - An existing leaf target takes the source leaf's value, Format and Type, with Replace on the
 *   target (425). Any other existing target is (418).
 */
import { StatusCode } from "../status.js";
import { type Acl, aclPermits, creatorAcl, EMPTY_ACL, effectiveAcl } from "./acl.js";
import {
  changed,
  countNodes,
  isInterior,
  subtreeHeight,
  type TreeNode,
  withChild,
} from "./node.js";
import { permits, type TreeState } from "./state.js";
import { parseDmUriCached } from "./uri.js";

function allReadable(node: TreeNode, inherited: Acl, principal: string): boolean {
  const acl = node.acl.length > 0 ? node.acl : inherited;
  if (!aclPermits(acl, "Get", principal)) return false;
  for (const c of node.children.values()) if (!allReadable(c, acl, principal)) return false;
  return true;
}

function freshCopy(node: TreeNode, name: string, acl: Acl, now: number): TreeNode {
  const children = new Map<string, TreeNode>();
  for (const [k, c] of node.children) children.set(k, freshCopy(c, k, EMPTY_ACL, now));
  return Object.freeze({
    ...node,
    name,
    acl,
    tstamp: now,
    verNo: 0,
    permanent: false,
    children,
  });
}

export function copyCommand(
  state: TreeState,
  targetUri: string,
  sourceUri: string,
  principal: string,
): number {
  const src = parseDmUriCached(sourceUri, state.limits);
  if (!src.ok) return src.status;
  const dst = parseDmUriCached(targetUri, state.limits);
  if (!dst.ok) return dst.status;
  if (src.uri.query || dst.uri.query) return StatusCode.COMMAND_NOT_ALLOWED;

  const srcChain = state.chain(src.uri.segments);
  if (!srcChain) return StatusCode.NOT_FOUND;
  const source = srcChain[srcChain.length - 1]!;
  if (!allReadable(source, effectiveAcl(srcChain.slice(0, -1)), principal)) {
    return StatusCode.PERMISSION_DENIED;
  }

  const segments = dst.uri.segments;
  const dstChain = state.chain(segments);
  if (dstChain) {
    const target = dstChain[dstChain.length - 1]!;
    if (isInterior(target) || isInterior(source)) return StatusCode.ALREADY_EXISTS;
    if (!permits(dstChain, "Replace", principal)) return StatusCode.PERMISSION_DENIED;
    const patch = { format: source.format, type: source.type, value: source.value };
    state.commit(segments, changed(target, patch, state.now()));
    return StatusCode.OK;
  }

  const parentChain = state.chain(segments.slice(0, -1));
  if (!parentChain) return StatusCode.NOT_FOUND;
  const parent = parentChain[parentChain.length - 1]!;
  if (!isInterior(parent)) return StatusCode.COMMAND_NOT_ALLOWED;
  if (!permits(parentChain, "Add", principal)) return StatusCode.PERMISSION_DENIED;
  if (
    state.limits.maxDepth > 0 &&
    segments.length + subtreeHeight(source) > state.limits.maxDepth
  ) {
    return StatusCode.URI_TOO_LONG;
  }
  const added = countNodes(source);
  if (state.nodeCount + added > state.limits.maxNodes) return StatusCode.DEVICE_FULL;

  const acl =
    isInterior(source) && !permits(parentChain, "Replace", principal)
      ? creatorAcl(principal)
      : EMPTY_ACL;
  const now = state.now();
  const name = segments[segments.length - 1]!;
  state.commit(
    segments.slice(0, -1),
    withChild(parent, name, freshCopy(source, name, acl, now), now),
    added,
  );
  return StatusCode.OK;
}
