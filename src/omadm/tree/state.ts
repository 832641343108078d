/**
 * The tree's one mutable cell and its configuration, shared by the command functions
 * (`cmd-*.ts`). Every change goes through `commit`, which swaps in a new root built by path
 * copying; nothing else assigns `root`.
 */

import type { AclCommand } from "./acl.js";
import { type Acl, aclPermits, effectiveAcl, parseAcl } from "./acl.js";
import { ExecRegistry } from "./exec-registry.js";
import { createNode, lookupChain, replaceAt, type TreeNode } from "./node.js";
import { type Clock, systemClock } from "./tstamp.js";
import type { UriLimits } from "./uri.js";

export interface TreeLimits extends UriLimits {
  /** Most nodes in the tree; an Add or Copy past it gets (420) Device full. */
  readonly maxNodes: number;
  /** Largest leaf value in bytes; a larger one gets (413) Request entity too large. */
  readonly maxValueBytes: number;
  /** Longest ACL or Title property value, in characters; longer gets (413). */
  readonly maxPropertyLength: number;
}

export const DEFAULT_TREE_LIMITS: Readonly<TreeLimits> = Object.freeze({
  maxDepth: 16,
  maxTotLen: 512,
  maxSegLen: 128,
  maxNodes: 10_000,
  maxValueBytes: 1024 * 1024,
  maxPropertyLength: 4096,
});

export class TreeState {
  root: TreeNode;
  nodeCount = 1;
  readonly limits: TreeLimits;
  readonly clock: Clock;
  /** Whether Add creates missing interior ancestors ("implicit Add"). */
  readonly implicitAdd: boolean;
  readonly exec = new ExecRegistry();

  constructor(limits: TreeLimits, clock: Clock, implicitAdd: boolean, rootAcl: Acl) {
    this.limits = limits;
    this.clock = clock;
    this.implicitAdd = implicitAdd;
    this.root = createNode({
      name: ".",
      format: "node",
      acl: rootAcl,
      permanent: true,
      now: this.now(),
    });
  }

  now(): number {
    // The system clock's Date would only be read for its time: skip building it.
    return this.clock === systemClock ? Date.now() : this.clock().getTime();
  }

  chain(segments: readonly string[]): TreeNode[] | undefined {
    return lookupChain(this.root, segments);
  }

  /** Replaces the node at `segments` (which must exist) and adjusts the node count. */
  commit(segments: readonly string[], replacement: TreeNode, countDelta = 0): void {
    this.root = replaceAt(this.root, segments, replacement);
    this.nodeCount += countDelta;
  }
}

/** Whether `principal` may run `command` on the last node of `chain`, by its effective ACL. */
export function permits(
  chain: readonly TreeNode[],
  command: AclCommand,
  principal: string,
): boolean {
  return aclPermits(effectiveAcl(chain), command, principal);
}

export function parseRootAcl(text: string): Acl {
  const r = parseAcl(text);
  if (!r.ok || r.acl.length === 0) throw new TypeError(`bad root ACL "${text}"`);
  return r.acl;
}
