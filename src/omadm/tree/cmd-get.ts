/**
 * Get (OMA-TS-DM_RepPro §6.6.7) on a node, a node property or a subtree listing.
 * - Leaf: one Results item with Source LocURI, Meta Format and Type, and the value (TND §8.2.2.1).
 * - Interior node: its child names separated by `/`, Meta Format `node` (TND §8.2.2.2); an
 *   interior node without children gives empty data.
 * - `?prop=NAME` (TND §8.3.3–8.3.5): the property as a UTF-8 string without Meta, numbers in
 *   decimal. An empty ACL reads as empty data, never the inherited value (TND §8.3.7.1.1).
 *   Size is not a property of interior nodes (TND §8.3.2): (406).
 * - `?list=Struct|StructData` (TND §8.4): one item per node of the subtree, pre-order, with
 *   Source LocURI and Meta; StructData adds the leaves' data. Nodes the server may not Get are
 *   left out together with their subtrees.
 * The ACL governs the node and all its properties: Get on the node is needed for every form.
 */
import type { Item, Meta } from "../model/message.js";
import { StatusCode } from "../status.js";
import { type Acl, aclPermits, effectiveAcl, formatAcl } from "./acl.js";
import { copyValue, valueSize } from "./format.js";
import { isInterior, type TreeNode } from "./node.js";
import { permits, type TreeState } from "./state.js";
import { formatTStamp } from "./tstamp.js";
import type { GetOutcome } from "./types.js";
import { childPath, type PropertyName, parseDmUriCached } from "./uri.js";

const fail = (status: number): GetOutcome => ({ status, items: [] });

function nodeMeta(node: TreeNode): Meta {
  if (isInterior(node)) return node.type ? { format: "node", type: node.type } : { format: "node" };
  return { format: node.format, type: node.type };
}

function nodeItem(node: TreeNode, locUri: string, withData: boolean): Item {
  const source = { locUri };
  const meta = nodeMeta(node);
  if (!withData) return { source, meta };
  const data = isInterior(node) ? [...node.children.keys()].join("/") : copyValue(node.value);
  return { source, meta, data };
}

export function propertyValue(node: TreeNode, name: PropertyName): string | undefined {
  switch (name) {
    case "ACL":
      return formatAcl(node.acl);
    case "Format":
      return node.format;
    case "Name":
      return node.name;
    case "Size":
      return isInterior(node) ? undefined : String(valueSize(node.value));
    case "Title":
      return node.title;
    case "TStamp":
      return formatTStamp(node.tstamp);
    case "Type":
      return node.type;
    case "VerNo":
      return String(node.verNo);
  }
}

function listSubtree(
  node: TreeNode,
  path: string,
  inherited: Acl,
  principal: string,
  withData: boolean,
  out: Item[],
): void {
  const acl = node.acl.length > 0 ? node.acl : inherited;
  if (!aclPermits(acl, "Get", principal)) return;
  out.push(nodeItem(node, path, withData && !isInterior(node)));
  for (const [name, child] of node.children) {
    listSubtree(child, childPath(path, name), acl, principal, withData, out);
  }
}

export function getCommand(state: TreeState, rawUri: string, principal: string): GetOutcome {
  const parsed = parseDmUriCached(rawUri, state.limits);
  if (!parsed.ok) return fail(parsed.status);
  const { segments, path, query } = parsed.uri;
  const chain = state.chain(segments);
  if (!chain) return fail(StatusCode.NOT_FOUND);
  const node = chain[chain.length - 1]!;
  if (!permits(chain, "Get", principal)) return fail(StatusCode.PERMISSION_DENIED);

  if (query?.kind === "prop") {
    const value = propertyValue(node, query.name);
    if (value === undefined) return fail(StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED);
    return { status: StatusCode.OK, items: [{ source: { locUri: rawUri }, data: value }] };
  }
  if (query?.kind === "list") {
    const items: Item[] = [];
    // The requested node passed the check above; its descendants are filtered one by one.
    const inherited = effectiveAcl(chain.slice(0, -1));
    listSubtree(node, path, inherited, principal, query.attribute === "StructData", items);
    return { status: StatusCode.OK, items };
  }
  return { status: StatusCode.OK, items: [nodeItem(node, rawUri, true)] };
}
