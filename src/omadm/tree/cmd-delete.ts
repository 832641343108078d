/**
 * Delete (OMA-TS-DM_RepPro §6.6.4): removes a node and, for an interior node, its whole
 * subtree. The root and permanent nodes can never be deleted (TND "Permanent Node"), nor any
 * subtree holding one: (405). The server needs Delete on the node itself (425). Properties are
 * not deletable (TND §8.3.5): (405).
 */
import { StatusCode } from "../status.js";
import { anyNode, countNodes, withChild } from "./node.js";
import { permits, type TreeState } from "./state.js";
import { parseDmUriCached } from "./uri.js";

export function deleteCommand(state: TreeState, rawUri: string, principal: string): number {
  const parsed = parseDmUriCached(rawUri, state.limits);
  if (!parsed.ok) return parsed.status;
  const { segments, query } = parsed.uri;
  if (query) return StatusCode.COMMAND_NOT_ALLOWED;
  const chain = state.chain(segments);
  if (!chain) return StatusCode.NOT_FOUND;
  if (segments.length === 0) return StatusCode.COMMAND_NOT_ALLOWED;
  const node = chain[chain.length - 1]!;
  if (anyNode(node, (n) => n.permanent)) return StatusCode.COMMAND_NOT_ALLOWED;
  if (!permits(chain, "Delete", principal)) return StatusCode.PERMISSION_DENIED;

  const parent = chain[chain.length - 2]!;
  state.commit(
    segments.slice(0, -1),
    withChild(parent, node.name, null, state.now()),
    -countNodes(node),
  );
  return StatusCode.OK;
}
