/**
 * Replace (OMA-TS-DM_RepPro §6.6.9) of a leaf's value or of a node property.
 * - The node must exist (404); an interior node has no value to replace (405).
 * - Value: Replace on the node (425). Without Meta Format/Type the node keeps its own (rather
 *   than MetInf's chr default, which would silently retype it); the value must match the
 *   format (400); a leaf cannot become an interior node (405).
 * - Properties (TND §8.3.5): only ACL, Name and Title are replaceable; the rest are (405).
 *   - ACL (§8.3.7.1.3): of an interior node, Replace on the node or on its parent; of a leaf,
 *     Replace on its parent only; of the root, Replace on the root. A malformed value is (400).
 *     The root keeps a value and `Add=*` (§8.3.7.1.2): a change to that is (405).
 *   - Name: a rename; never of the root or of a permanent node (§8.3.5.1): (405). A sibling of
 *     that name already there is (418).
 *   - Title: Replace on the node.
 */
import { StatusCode } from "../status.js";
import { type Acl, parseAcl } from "./acl.js";
import { checkLeafValue } from "./format.js";
import { nodeContent } from "./leaf-input.js";
import { changed, isInterior, type TreeNode } from "./node.js";
import { permits, type TreeState } from "./state.js";
import type { NodeInput } from "./types.js";
import { checkSegment, type PropertyName, parseDmUriCached } from "./uri.js";

export function replaceCommand(
  state: TreeState,
  rawUri: string,
  input: NodeInput,
  principal: string,
): number {
  const parsed = parseDmUriCached(rawUri, state.limits);
  if (!parsed.ok) return parsed.status;
  const { segments, query } = parsed.uri;
  if (query?.kind === "list") return StatusCode.COMMAND_NOT_ALLOWED;
  const chain = state.chain(segments);
  if (!chain) return StatusCode.NOT_FOUND;
  if (query?.kind === "prop")
    return replaceProperty(state, chain, segments, query.name, input, principal);

  const node = chain[chain.length - 1]!;
  if (isInterior(node)) return StatusCode.COMMAND_NOT_ALLOWED;
  if (!permits(chain, "Replace", principal)) return StatusCode.PERMISSION_DENIED;
  const content = nodeContent(input, { format: node.format, type: node.type }, state.limits);
  if (!content.ok) return content.status;
  if (content.format === "node") return StatusCode.COMMAND_NOT_ALLOWED;
  const { format, type, value } = content;
  state.commit(segments, changed(node, { format, type, value }, state.now()));
  return StatusCode.OK;
}

function replaceProperty(
  state: TreeState,
  chain: TreeNode[],
  segments: readonly string[],
  name: PropertyName,
  input: NodeInput,
  principal: string,
): number {
  switch (name) {
    case "ACL":
      return replaceAcl(state, chain, segments, input, principal);
    case "Name":
      return rename(state, chain, segments, input, principal);
    case "Title":
      return replaceTitle(state, chain, segments, input, principal);
    default:
      return StatusCode.COMMAND_NOT_ALLOWED;
  }
}

/** Property values travel as UTF-8 strings (TND §8.3.4). */
function propertyText(input: NodeInput, state: TreeState): string | number {
  const checked = checkLeafValue("chr", input.data);
  if (!checked.ok) return checked.status;
  const text = checked.value as string;
  if (text.length > state.limits.maxPropertyLength) return StatusCode.REQUEST_ENTITY_TOO_LARGE;
  return text;
}

function mayReplaceAcl(chain: TreeNode[], principal: string): boolean {
  const node = chain[chain.length - 1]!;
  const parentChain = chain.slice(0, -1);
  if (parentChain.length === 0) return permits(chain, "Replace", principal);
  if (permits(parentChain, "Replace", principal)) return true;
  return isInterior(node) && permits(chain, "Replace", principal);
}

function keepsRootRule(acl: Acl): boolean {
  return acl.some((e) => e.command === "Add" && e.servers.includes("*"));
}

function replaceAcl(
  state: TreeState,
  chain: TreeNode[],
  segments: readonly string[],
  input: NodeInput,
  principal: string,
): number {
  if (!mayReplaceAcl(chain, principal)) return StatusCode.PERMISSION_DENIED;
  const text = propertyText(input, state);
  if (typeof text === "number") return text;
  const parsed = parseAcl(text);
  if (!parsed.ok) return StatusCode.BAD_REQUEST;
  if (segments.length === 0 && !keepsRootRule(parsed.acl)) return StatusCode.COMMAND_NOT_ALLOWED;
  const node = chain[chain.length - 1]!;
  state.commit(segments, changed(node, { acl: parsed.acl }, state.now()));
  return StatusCode.OK;
}

function rename(
  state: TreeState,
  chain: TreeNode[],
  segments: readonly string[],
  input: NodeInput,
  principal: string,
): number {
  const node = chain[chain.length - 1]!;
  if (segments.length === 0 || node.permanent) return StatusCode.COMMAND_NOT_ALLOWED;
  if (!permits(chain, "Replace", principal)) return StatusCode.PERMISSION_DENIED;
  const text = propertyText(input, state);
  if (typeof text === "number") return text;
  const bad = checkSegment(text, state.limits);
  if (bad) return bad.status;
  if (text === node.name) return StatusCode.OK;
  const parent = chain[chain.length - 2]!;
  if (parent.children.has(text)) return StatusCode.ALREADY_EXISTS;

  const now = state.now();
  const children = new Map<string, TreeNode>();
  for (const [k, v] of parent.children) {
    if (k === node.name) children.set(text, changed(node, { name: text }, now));
    else children.set(k, v);
  }
  state.commit(segments.slice(0, -1), changed(parent, { children }, now));
  return StatusCode.OK;
}

function replaceTitle(
  state: TreeState,
  chain: TreeNode[],
  segments: readonly string[],
  input: NodeInput,
  principal: string,
): number {
  if (!permits(chain, "Replace", principal)) return StatusCode.PERMISSION_DENIED;
  const text = propertyText(input, state);
  if (typeof text === "number") return text;
  const node = chain[chain.length - 1]!;
  state.commit(segments, changed(node, { title: text }, state.now()));
  return StatusCode.OK;
}
