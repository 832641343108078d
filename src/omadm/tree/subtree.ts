/**
 * A subtree built off the tree, to join it in one change (DmTree.addSubtree). Made leaf by
 * leaf in the tree, each leaf copies the path from the root and every children map on it: a
 * DM account's seventeen leaves made about a hundred node copies, the largest piece of what a
 * device spends taking its verdict.
 */
import { createNode, isInterior, type TreeNode, withChildren } from "./node.js";

/** A new node and where it goes: its path below the subtree's root (never empty). */
export interface Placed {
  readonly at: readonly string[];
  readonly node: TreeNode;
}

export type BuiltSubtree =
  | { readonly ok: true; readonly node: TreeNode; readonly count: number }
  /**
   * `twice`: two nodes given at `at`; `under-leaf`: a leaf given at `at` with nodes below it,
   * or a node given below the leaf at `at`.
   */
  | { readonly ok: false; readonly clash: "twice" | "under-leaf"; readonly at: readonly string[] };

interface Staged {
  node: TreeNode | undefined;
  readonly children: Map<string, Staged>;
}

/**
 * `root` (a new interior node, without children) holding every placed node at its path, with
 * plain interior nodes made at `now` where a path passes through no placed node.
 */
export function buildSubtree(root: TreeNode, placed: readonly Placed[], now: number): BuiltSubtree {
  const top: Staged = { node: root, children: new Map() };
  for (const p of placed) {
    let s = top;
    for (let i = 0; i < p.at.length; i++) {
      if (s.node !== undefined && !isInterior(s.node)) {
        return { ok: false, clash: "under-leaf", at: p.at.slice(0, i) };
      }
      const name = p.at[i]!;
      let next = s.children.get(name);
      if (next === undefined) {
        next = { node: undefined, children: new Map() };
        s.children.set(name, next);
      }
      s = next;
    }
    if (s.node !== undefined) return { ok: false, clash: "twice", at: p.at };
    if (!isInterior(p.node) && s.children.size > 0) {
      return { ok: false, clash: "under-leaf", at: p.at };
    }
    s.node = p.node;
  }
  let count = 0;
  const freeze = (name: string, s: Staged): TreeNode => {
    count++;
    const node = s.node ?? createNode({ name, format: "node", now });
    if (s.children.size === 0) return node;
    const children = new Map<string, TreeNode>();
    for (const [childName, child] of s.children) children.set(childName, freeze(childName, child));
    return withChildren(node, children);
  };
  return { ok: true, node: freeze(root.name, top), count };
}
