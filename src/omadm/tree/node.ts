/**
 * Tree nodes (OMA-TS-DM_TND §8.2) as immutable records. A change builds new records along the
 * path from the root and shares everything else, so a snapshot for Atomic rollback is just the
 * old root (copy-on-write, O(1) to take and to restore).
 *
 * Run-time properties (TND §8.3.1): ACL, Format, Name, Size (computed from the value), Title,
 * TStamp, Type, VerNo. VerNo is a 16-bit counter that wraps (TND §8.3.7 "VerNo").
 */
import { type Acl, EMPTY_ACL } from "./acl.js";
import type { LeafValue } from "./format.js";
import type { NodeFormat } from "./types.js";

export interface TreeNode {
  readonly name: string;
  /** `node` for an interior node (TND §8.2.2), the value's format for a leaf. */
  readonly format: NodeFormat;
  /** MIME type of a leaf's value; the Management Object identifier (URN) of an MO root. */
  readonly type: string;
  /** A leaf's value; "" for interior nodes. Bytes are never handed out without copying. */
  readonly value: LeafValue;
  readonly acl: Acl;
  readonly title: string;
  /** Last change, epoch milliseconds. */
  readonly tstamp: number;
  readonly verNo: number;
  /** Permanent nodes (TND "Permanent Node", DDF Scope) can never be deleted or renamed. */
  readonly permanent: boolean;
  readonly children: ReadonlyMap<string, TreeNode>;
}

const NO_CHILDREN: ReadonlyMap<string, TreeNode> = new Map();

export function isInterior(node: TreeNode): boolean {
  return node.format === "node";
}

export interface NewNode {
  readonly name: string;
  readonly format: NodeFormat;
  readonly type?: string;
  readonly value?: LeafValue;
  readonly acl?: Acl;
  readonly title?: string;
  readonly permanent?: boolean;
  readonly now: number;
}

/**
 * A new node; with `child`, an interior node holding it alone (an ancestor an Add creates).
 * Spreading a frozen record into a new one instead takes V8's slow path: building them this way
 * took an eighth off the time a device spends writing a DM account into its tree.
 */
export function createNode(n: NewNode, child?: TreeNode): TreeNode {
  let children = NO_CHILDREN;
  if (child !== undefined) {
    const only = new Map<string, TreeNode>();
    only.set(child.name, child);
    children = only;
  }
  return Object.freeze({
    name: n.name,
    format: n.format,
    type: n.type ?? "",
    value: n.value ?? "",
    acl: n.acl ?? EMPTY_ACL,
    title: n.title ?? "",
    tstamp: n.now,
    verNo: 0,
    permanent: n.permanent ?? false,
    children,
  });
}

/** The properties a new node may be given after it is made, before it joins the tree. */
export type InitialProps = Partial<Pick<TreeNode, "acl" | "type" | "title" | "permanent">>;

/** A node not yet in the tree with `props` set: still new, so TStamp and VerNo stay. */
export function withInitialProps(node: TreeNode, props: InitialProps): TreeNode {
  return rebuilt(node, props, node.tstamp, node.verNo);
}

/** A changed copy, with TStamp set to `now` and VerNo incremented (TND §8.3.5). */
export function changed(node: TreeNode, patch: Partial<TreeNode>, now: number): TreeNode {
  return rebuilt(node, patch, now, (node.verNo + 1) & 0xffff);
}

/**
 * A copy with `patch` applied and the given TStamp and VerNo. Field by field rather than two
 * spreads (patches come in many shapes, which made the spread slow); no patch ever holds an
 * undefined field, so `??` takes exactly what it sets.
 */
function rebuilt(
  node: TreeNode,
  patch: Partial<TreeNode>,
  tstamp: number,
  verNo: number,
): TreeNode {
  return Object.freeze({
    name: patch.name ?? node.name,
    format: patch.format ?? node.format,
    type: patch.type ?? node.type,
    value: patch.value ?? node.value,
    acl: patch.acl ?? node.acl,
    title: patch.title ?? node.title,
    tstamp,
    verNo,
    permanent: patch.permanent ?? node.permanent,
    children: patch.children ?? node.children,
  });
}

/**
 * A copy with other children and nothing else changed. Every field is written out rather than
 * spread: this runs for each ancestor on every tree change, and a literal of fixed shape is
 * cheaper to build than a spread of a frozen record.
 */
export function withChildren(node: TreeNode, children: ReadonlyMap<string, TreeNode>): TreeNode {
  return Object.freeze({
    name: node.name,
    format: node.format,
    type: node.type,
    value: node.value,
    acl: node.acl,
    title: node.title,
    tstamp: node.tstamp,
    verNo: node.verNo,
    permanent: node.permanent,
    children,
  });
}

/**
 * A copy with one child set (added or replaced) or removed. Only a change to the list of
 * names (add, remove, rename) is a change of the interior node itself, so only then are its
 * TStamp and VerNo moved on; replacing a child's record in place is not.
 */
export function withChild(
  parent: TreeNode,
  name: string,
  child: TreeNode | null,
  now: number,
): TreeNode {
  const children = copyChildren(parent.children);
  const listChanges = child === null ? children.has(name) : !children.has(name);
  if (child === null) children.delete(name);
  else children.set(name, child);
  return listChanges ? changed(parent, { children }, now) : withChildren(parent, children);
}

/** A copy of a children map; entry by entry, which measured faster than `new Map(map)`. */
function copyChildren(from: ReadonlyMap<string, TreeNode>): Map<string, TreeNode> {
  const children = new Map<string, TreeNode>();
  for (const [name, node] of from) children.set(name, node);
  return children;
}

/** The nodes from the root to the node at `segments`, or undefined if a node is missing. */
export function lookupChain(root: TreeNode, segments: readonly string[]): TreeNode[] | undefined {
  const chain = [root];
  let node = root;
  for (const s of segments) {
    const next = node.children.get(s);
    if (!next) return undefined;
    chain.push(next);
    node = next;
  }
  return chain;
}

/** Rebuilds the path from the root so the node at `segments` becomes `replacement`. */
export function replaceAt(
  root: TreeNode,
  segments: readonly string[],
  replacement: TreeNode,
): TreeNode {
  const n = segments.length;
  if (n === 0) return replacement;
  // Walk down once, then rebuild bottom-up (no per-level array slices or recursion).
  const path: TreeNode[] = new Array(n);
  let node = root;
  for (let i = 0; i < n; i++) {
    path[i] = node;
    const child = node.children.get(segments[i]!);
    if (!child) throw new Error(`replaceAt: no node ${segments[i]}`);
    node = child;
  }
  let built = replacement;
  for (let i = n - 1; i >= 0; i--) {
    const parent = path[i]!;
    const children = copyChildren(parent.children);
    children.set(segments[i]!, built);
    built = withChildren(parent, children);
  }
  return built;
}

export function countNodes(node: TreeNode): number {
  let n = 1;
  for (const c of node.children.values()) n += countNodes(c);
  return n;
}

/** Height of a subtree: 0 for a node without children. */
export function subtreeHeight(node: TreeNode): number {
  let h = 0;
  for (const c of node.children.values()) h = Math.max(h, 1 + subtreeHeight(c));
  return h;
}

export function anyNode(node: TreeNode, test: (n: TreeNode) => boolean): boolean {
  if (test(node)) return true;
  for (const c of node.children.values()) if (anyNode(c, test)) return true;
  return false;
}
