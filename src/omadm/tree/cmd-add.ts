/**
 * Add (OMA-TS-DM_RepPro §6.6.1; TND §8.2.2, §8.3.7.1.3).
 * - The node must not exist: (418) Already exists; the root always exists.
 * - Its parent must be an interior node: a leaf on the path is (405).
 * - Missing interior ancestors are created ("implicit Add", as deployed clients do), unless
 *   the tree was built without it, when they are (404).
 * - The server needs Add on the nearest existing ancestor, by its effective ACL: else (425).
 * - A new node's ACL is empty (inherited), except an interior node added by a server without
 *   Replace on its parent, which gets Add, Delete and Replace for that server (§8.3.7.1.3).
 * - Properties cannot be added (§8.3.5): `?prop=` and `?list=` targets are (405).
 */
import { StatusCode } from "../status.js";
import { type Acl, aclPermits, creatorAcl, EMPTY_ACL, effectiveAcl } from "./acl.js";
import { DEFAULT_FORMAT } from "./format.js";
import { nodeContent } from "./leaf-input.js";
import { createNode, isInterior, type TreeNode, withChild } from "./node.js";
import { permits, type TreeState } from "./state.js";
import type { NodeInput } from "./types.js";
import { parseDmUriCached } from "./uri.js";

export function addCommand(
  state: TreeState,
  rawUri: string,
  input: NodeInput,
  principal: string,
): number {
  const parsed = parseDmUriCached(rawUri, state.limits);
  if (!parsed.ok) return parsed.status;
  const { segments, query } = parsed.uri;
  if (query) return StatusCode.COMMAND_NOT_ALLOWED;

  const chain: TreeNode[] = [state.root];
  for (const s of segments) {
    const next = chain[chain.length - 1]!.children.get(s);
    if (!next) break;
    chain.push(next);
  }
  const existing = chain.length - 1;
  if (existing === segments.length) return StatusCode.ALREADY_EXISTS;
  const anchor = chain[existing]!;
  if (!isInterior(anchor)) return StatusCode.COMMAND_NOT_ALLOWED;
  const newNames = segments.slice(existing);
  if (newNames.length > 1 && !state.implicitAdd) return StatusCode.NOT_FOUND;
  if (!permits(chain, "Add", principal)) return StatusCode.PERMISSION_DENIED;

  const content = nodeContent(input, { format: DEFAULT_FORMAT }, state.limits);
  if (!content.ok) return content.status;
  if (state.nodeCount + newNames.length > state.limits.maxNodes) return StatusCode.DEVICE_FULL;

  // ACLs top-down: each new interior node is judged against the ACL that will govern it.
  let governing = effectiveAcl(chain);
  const acls: Acl[] = newNames.map((_, k) => {
    const interior = k < newNames.length - 1 || content.format === "node";
    const own =
      interior && !aclPermits(governing, "Replace", principal) ? creatorAcl(principal) : EMPTY_ACL;
    if (own.length > 0) governing = own;
    return own;
  });

  // Structure bottom-up.
  const now = state.now();
  const last = newNames.length - 1;
  let node = createNode({
    name: newNames[last]!,
    format: content.format,
    type: content.type,
    value: content.value,
    acl: acls[last]!,
    now,
  });
  for (let k = last - 1; k >= 0; k--) {
    node = createNode({ name: newNames[k]!, format: "node", acl: acls[k]!, now }, node);
  }
  state.commit(
    segments.slice(0, existing),
    withChild(anchor, node.name, node, now),
    newNames.length,
  );
  return StatusCode.OK;
}
