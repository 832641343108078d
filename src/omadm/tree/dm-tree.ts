/**
 * The DM client's management tree (OMA-TS-DM_TND-V1_2). Two faces:
 * - `ManagementTree` (types.ts): the commands a DM server sends, checked against ACLs with the
 *   server's ServerID as principal, each answered with a SyncML status code, never a throw;
 * - a device-side API (`ensureInterior`, `setLeaf`, `inspect`, …) for the device itself, which
 *   owns the tree (TND §8.3.7.1.2): no ACL checks, and faults thrown as `TreeError`.
 * Atomic rollback: `snapshot()` and `restore()` swap whole immutable roots, so both are O(1).
 */
import type { ItemData } from "../model/message.js";
import { StatusCode } from "../status.js";
import { DEFAULT_ROOT_ACL, formatAcl, parseAcl } from "./acl.js";
import { addCommand } from "./cmd-add.js";
import { copyCommand } from "./cmd-copy.js";
import { deleteCommand } from "./cmd-delete.js";
import { execCommand } from "./cmd-exec.js";
import { getCommand } from "./cmd-get.js";
import { replaceCommand } from "./cmd-replace.js";
import type { ExecHandler } from "./exec-registry.js";
import { checkLeafValue, copyValue, type LeafValue, parseFormat, valueSize } from "./format.js";
import {
  changed,
  countNodes,
  createNode,
  isInterior,
  type TreeNode,
  withChild,
  withInitialProps,
} from "./node.js";
import { DEFAULT_TREE_LIMITS, parseRootAcl, type TreeLimits, TreeState } from "./state.js";
import { buildSubtree, type Placed } from "./subtree.js";
import { TreeError, type TreeErrorCode } from "./tree-error.js";
import { type Clock, formatTStamp, systemClock } from "./tstamp.js";
import type { GetOutcome, ManagementTree, NodeFormat, NodeInput, TreeSnapshot } from "./types.js";
import { canonicalUri, parseDmUriCached } from "./uri.js";

export interface TreeOptions {
  /** Read for every TStamp; tests pass a frozen clock. */
  readonly clock?: Clock;
  readonly limits?: Partial<TreeLimits>;
  /** The root's ACL; it must grant Add to `*` (TND §8.3.7.1.2). Default `Add=*&Get=*`. */
  readonly rootAcl?: string;
  /** Whether Add creates missing interior ancestors. Default true. */
  readonly implicitAdd?: boolean;
}

/** Properties the device may set on a node it creates or updates. */
export interface LocalNodeOptions {
  /** An ACL value in TND §8.3.7.1.5 syntax; "" clears it (inherit). */
  readonly acl?: string;
  readonly type?: string;
  readonly title?: string;
  readonly permanent?: boolean;
}

export interface LocalLeafOptions extends LocalNodeOptions {
  /** Default: the node's current format, else `bin` for bytes and `chr` for text. */
  readonly format?: NodeFormat;
}

/** A read-only view of one node, for device code and tests. */
export interface NodeInfo {
  readonly uri: string;
  readonly name: string;
  readonly interior: boolean;
  readonly format: NodeFormat;
  readonly type: string;
  /** A copy of a leaf's value; undefined for an interior node. */
  readonly value: LeafValue | undefined;
  readonly acl: string;
  readonly title: string;
  /** Undefined for an interior node (TND §8.3.2). */
  readonly size: number | undefined;
  readonly tstamp: string;
  readonly verNo: number;
  readonly permanent: boolean;
  readonly children: readonly string[];
}

/** What `addSubtree` puts below its node; paths are relative to it. */
export interface SubtreeSpec {
  readonly leaves: ReadonlyArray<{
    readonly path: string;
    readonly value: LeafValue;
    readonly options?: LocalLeafOptions;
  }>;
  /** Interior nodes to make even with nothing below them. */
  readonly interiors?: readonly string[];
}

/** Where a new node joins: the existing interior node above it and the ancestors to make. */
interface Place {
  readonly anchorAt: readonly string[];
  readonly anchor: TreeNode;
  readonly missing: readonly string[];
}

interface LeafContent {
  readonly format: NodeFormat;
  readonly value: LeafValue;
}

const INTERIOR: LeafContent = { format: "node", value: "" };

type NodePatch = { -readonly [K in keyof TreeNode]?: TreeNode[K] };

interface SnapshotState {
  readonly root: TreeNode;
  readonly nodeCount: number;
}

const ERROR_CODE: Readonly<Record<number, TreeErrorCode>> = {
  [StatusCode.BAD_REQUEST]: "BAD_URI",
  [StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED]: "BAD_URI",
  [StatusCode.URI_TOO_LONG]: "URI_TOO_LONG",
};

/** Set once by DmTree's static block, the one place that can reach its private state. */
let rootOf: (tree: DmTree) => TreeNode;

/**
 * The tree's current root record, for the standard objects in `std/` that read many nodes of
 * one subtree at once (DMAcc): walking the immutable records directly spares building and
 * parsing a URI per node. Not part of the package API (the index does not export it); callers
 * must never hand out a leaf's bytes without copying them.
 */
export function treeRoot(tree: DmTree): TreeNode {
  return rootOf(tree);
}

export class DmTree implements ManagementTree {
  readonly #state: TreeState;
  readonly #snapshots = new WeakMap<object, SnapshotState>();

  static {
    rootOf = (tree) => tree.#state.root;
  }

  constructor(options: TreeOptions = {}) {
    // Trees with the default limits share them, and so share one cache of parsed URIs
    // (uri.ts keys it by the limits): a process holding many phones' trees (`fleet`, the bench)
    // parsed each URI once per tree.
    const limits =
      options.limits === undefined
        ? DEFAULT_TREE_LIMITS
        : Object.freeze({ ...DEFAULT_TREE_LIMITS, ...options.limits });
    const rootAcl = parseRootAcl(options.rootAcl ?? DEFAULT_ROOT_ACL);
    if (!rootAcl.some((e) => e.command === "Add" && e.servers.includes("*"))) {
      throw new TypeError("the root ACL must grant Add to * (OMA-TS-DM_TND §8.3.7.1.2)");
    }
    this.#state = new TreeState(
      limits,
      options.clock ?? systemClock,
      options.implicitAdd ?? true,
      rootAcl,
    );
  }

  get limits(): TreeLimits {
    return this.#state.limits;
  }

  get nodeCount(): number {
    return this.#state.nodeCount;
  }

  // ---- ManagementTree: server commands --------------------------------------------------

  add(uri: string, node: NodeInput, principal: string): number {
    return addCommand(this.#state, uri, node, principal);
  }

  replace(uri: string, node: NodeInput, principal: string): number {
    return replaceCommand(this.#state, uri, node, principal);
  }

  delete(uri: string, principal: string): number {
    return deleteCommand(this.#state, uri, principal);
  }

  copy(targetUri: string, sourceUri: string, principal: string): number {
    return copyCommand(this.#state, targetUri, sourceUri, principal);
  }

  get(uri: string, principal: string): GetOutcome {
    return getCommand(this.#state, uri, principal);
  }

  exec(
    uri: string,
    data: ItemData | undefined,
    correlator: string | undefined,
    principal: string,
  ): number {
    return execCommand(this.#state, uri, data, correlator, principal);
  }

  snapshot(): TreeSnapshot {
    const token = Object.freeze({});
    this.#snapshots.set(token, { root: this.#state.root, nodeCount: this.#state.nodeCount });
    return token;
  }

  restore(snapshot: TreeSnapshot): void {
    const saved =
      typeof snapshot === "object" && snapshot !== null ? this.#snapshots.get(snapshot) : undefined;
    if (!saved) throw new TypeError("not a snapshot of this tree");
    this.#state.root = saved.root;
    this.#state.nodeCount = saved.nodeCount;
  }

  // ---- device side ------------------------------------------------------------------------

  /** Binds an Exec handler to a node pattern (`*` = any one segment); returns an unbind. */
  registerExec(pattern: string, handler: ExecHandler): () => void {
    return this.#state.exec.register(pattern, handler);
  }

  exists(uri: string): boolean {
    return this.#chain(uri) !== undefined;
  }

  inspect(uri: string): NodeInfo | undefined {
    const segments = this.#segments(uri);
    const chain = this.#state.chain(segments);
    if (!chain) return undefined;
    const n = chain[chain.length - 1]!;
    const interior = isInterior(n);
    return {
      uri: canonicalUri(segments),
      name: n.name,
      interior,
      format: n.format,
      type: n.type,
      value: interior ? undefined : copyValue(n.value),
      acl: formatAcl(n.acl),
      title: n.title,
      size: interior ? undefined : valueSize(n.value),
      tstamp: formatTStamp(n.tstamp),
      verNo: n.verNo,
      permanent: n.permanent,
      children: [...n.children.keys()],
    };
  }

  /** A leaf's value (a copy), or undefined if there is no such leaf. */
  read(uri: string): LeafValue | undefined {
    const chain = this.#chain(uri);
    const n = chain?.[chain.length - 1];
    return n && !isInterior(n) ? copyValue(n.value) : undefined;
  }

  /** An interior node's child names, or undefined if there is no such interior node. */
  children(uri: string): string[] | undefined {
    const chain = this.#chain(uri);
    const n = chain?.[chain.length - 1];
    return n && isInterior(n) ? [...n.children.keys()] : undefined;
  }

  /** Creates an interior node (and missing ancestors) or updates an existing one's properties. */
  ensureInterior(uri: string, options: LocalNodeOptions = {}): void {
    const segments = this.#segments(uri);
    const existing = this.#state.chain(segments);
    if (existing) {
      const node = existing[existing.length - 1]!;
      if (!isInterior(node))
        this.#fail("NOT_ALLOWED", StatusCode.COMMAND_NOT_ALLOWED, uri, "a leaf is there");
      const patch = this.#patch(uri, node, options);
      if (patch) this.#state.commit(segments, changed(node, patch, this.#state.now()));
      return;
    }
    this.#create(uri, segments, INTERIOR, options);
  }

  /** Creates or replaces a leaf (creating missing interior ancestors). */
  setLeaf(uri: string, value: LeafValue, options: LocalLeafOptions = {}): void {
    const segments = this.#segments(uri);
    if (segments.length === 0)
      this.#fail("NOT_ALLOWED", StatusCode.COMMAND_NOT_ALLOWED, uri, "root is interior");
    const existing = this.#state.chain(segments);
    const node = existing?.[existing.length - 1];
    if (node && isInterior(node)) {
      this.#fail("NOT_ALLOWED", StatusCode.COMMAND_NOT_ALLOWED, uri, "an interior node is there");
    }
    const content = this.#leafContent(uri, value, options.format ?? node?.format);
    if (existing && node) {
      const patch = this.#patch(uri, node, options) ?? {};
      patch.format = content.format;
      patch.value = content.value;
      this.#state.commit(segments, changed(node, patch, this.#state.now()));
      return;
    }
    this.#create(uri, segments, content, { type: "text/plain", ...options });
  }

  /**
   * Creates the interior node `uri`, which must not exist (missing ancestors are made), holding
   * `spec`'s leaves and interior nodes at their paths below it (interior nodes between made as
   * needed), in one change of the tree. The same nodes as `ensureInterior` and `setLeaf` one by
   * one, except that each node is new, so no TStamp or VerNo moves on while it is filled, and
   * that a path given twice is refused (ALREADY_EXISTS) rather than written over. A node below
   * a leaf is refused as `setLeaf` refuses it (NOT_ALLOWED). Nothing changes when any of it is
   * refused.
   */
  addSubtree(uri: string, spec: SubtreeSpec, options: LocalNodeOptions = {}): void {
    const segments = this.#segments(uri);
    if (segments.length === 0)
      this.#fail("NOT_ALLOWED", StatusCode.COMMAND_NOT_ALLOWED, uri, "the root exists");
    if (this.#state.chain(segments))
      this.#fail("ALREADY_EXISTS", StatusCode.ALREADY_EXISTS, uri, "the node exists");
    const now = this.#state.now();
    const placed: Placed[] = [];
    for (const leaf of spec.leaves) {
      const full = `${uri}/${leaf.path}`;
      const at = this.#segments(full).slice(segments.length);
      const o = leaf.options ?? {};
      const content = this.#leafContent(full, leaf.value, o.format);
      placed.push({
        at,
        node: this.#newNode(full, at.at(-1)!, content, now, { type: "text/plain", ...o }),
      });
    }
    for (const path of spec.interiors ?? []) {
      const full = `${uri}/${path}`;
      const at = this.#segments(full).slice(segments.length);
      placed.push({ at, node: createNode({ name: at.at(-1)!, format: "node", now }) });
    }
    const root = this.#newNode(uri, segments.at(-1)!, INTERIOR, now, options);
    const place = this.#place(uri, segments);
    const built = buildSubtree(root, placed, now);
    if (!built.ok) {
      const where = canonicalUri([...segments, ...built.at]);
      if (built.clash === "twice")
        this.#fail("ALREADY_EXISTS", StatusCode.ALREADY_EXISTS, where, "given twice");
      this.#fail("NOT_ALLOWED", StatusCode.COMMAND_NOT_ALLOWED, where, "a leaf is on the path");
    }
    this.#checkRoom(uri, place, built.count);
    this.#join(place, built.node, built.count, now);
  }

  /** Sets a node's ACL as the device (no rights needed); "" makes it inherit. */
  setAcl(uri: string, aclValue: string): void {
    this.#ensureExisting(uri);
    const segments = this.#segments(uri);
    const chain = this.#state.chain(segments)!;
    const node = chain[chain.length - 1]!;
    const patch = this.#patch(uri, node, { acl: aclValue });
    if (segments.length === 0 && node.acl.length > 0 && patch?.acl?.length === 0) {
      this.#fail(
        "NOT_ALLOWED",
        StatusCode.COMMAND_NOT_ALLOWED,
        uri,
        "the root ACL must have a value",
      );
    }
    if (patch) this.#state.commit(segments, changed(node, patch, this.#state.now()));
  }

  /** Removes a node and its subtree as the device (permanent ones too); false if absent. */
  remove(uri: string): boolean {
    const segments = this.#segments(uri);
    if (segments.length === 0)
      this.#fail("NOT_ALLOWED", StatusCode.COMMAND_NOT_ALLOWED, uri, "the root stays");
    const chain = this.#state.chain(segments);
    if (!chain) return false;
    const node = chain[chain.length - 1]!;
    const parent = chain[chain.length - 2]!;
    this.#state.commit(
      segments.slice(0, -1),
      withChild(parent, node.name, null, this.#state.now()),
      -countNodes(node),
    );
    return true;
  }

  #ensureExisting(uri: string): void {
    if (!this.#chain(uri)) this.#fail("NOT_FOUND", StatusCode.NOT_FOUND, uri, "no such node");
  }

  #chain(uri: string): TreeNode[] | undefined {
    return this.#state.chain(this.#segments(uri));
  }

  #segments(uri: string): readonly string[] {
    const parsed = parseDmUriCached(uri, this.#state.limits);
    if (!parsed.ok)
      this.#fail(ERROR_CODE[parsed.status] ?? "BAD_URI", parsed.status, uri, parsed.reason);
    if (parsed.uri.query)
      this.#fail("BAD_URI", StatusCode.BAD_REQUEST, uri, "device calls take node URIs");
    return parsed.uri.segments;
  }

  #patch(uri: string, node: TreeNode, o: LocalNodeOptions): NodePatch | undefined {
    const patch: NodePatch = {};
    let any = false;
    if (o.acl !== undefined && o.acl !== formatAcl(node.acl)) {
      const parsed = parseAcl(o.acl);
      if (!parsed.ok) this.#fail("BAD_VALUE", StatusCode.BAD_REQUEST, uri, `ACL: ${parsed.reason}`);
      patch.acl = parsed.acl;
      any = true;
    }
    if (o.type !== undefined && o.type !== node.type) {
      patch.type = o.type;
      any = true;
    }
    if (o.title !== undefined && o.title !== node.title) {
      patch.title = o.title;
      any = true;
    }
    if (o.permanent !== undefined && o.permanent !== node.permanent) {
      patch.permanent = o.permanent;
      any = true;
    }
    return any ? patch : undefined;
  }

  /** A leaf's format and value as `setLeaf` takes them, checked. */
  #leafContent(uri: string, value: LeafValue, format: NodeFormat | undefined): LeafContent {
    const f = format ?? (typeof value === "string" ? "chr" : ("bin" as NodeFormat));
    if (parseFormat(f) !== f || f === "node") {
      this.#fail("UNSUPPORTED_FORMAT", StatusCode.UNSUPPORTED_MEDIA_TYPE, uri, `format ${f}`);
    }
    const checked = checkLeafValue(f, value);
    if (!checked.ok) this.#fail("BAD_VALUE", checked.status, uri, checked.reason);
    if (valueSize(checked.value) > this.#state.limits.maxValueBytes) {
      this.#fail("TOO_LARGE", StatusCode.REQUEST_ENTITY_TOO_LARGE, uri, "value too large");
    }
    return { format: f, value: checked.value };
  }

  /** A node not yet in the tree, with the properties of `options`. */
  #newNode(
    uri: string,
    name: string,
    content: LeafContent,
    now: number,
    options: LocalNodeOptions,
  ): TreeNode {
    const base = createNode({ name, ...content, now });
    const props = this.#patch(uri, base, options);
    return props ? withInitialProps(base, props) : base;
  }

  #create(
    uri: string,
    segments: readonly string[],
    content: LeafContent,
    options: LocalNodeOptions,
  ): void {
    const place = this.#place(uri, segments);
    this.#checkRoom(uri, place, 1);
    const now = this.#state.now();
    this.#join(place, this.#newNode(uri, segments.at(-1)!, content, now, options), 1, now);
  }

  /** Where a new node at `segments` (where nothing is) joins the tree: refused under a leaf. */
  #place(uri: string, segments: readonly string[]): Place {
    const chain: TreeNode[] = [this.#state.root];
    for (const s of segments) {
      const next = chain[chain.length - 1]!.children.get(s);
      if (!next) break;
      chain.push(next);
    }
    const anchor = chain[chain.length - 1]!;
    if (!isInterior(anchor))
      this.#fail("NOT_ALLOWED", StatusCode.COMMAND_NOT_ALLOWED, uri, "a leaf is on the path");
    return {
      anchorAt: segments.slice(0, chain.length - 1),
      anchor,
      missing: segments.slice(chain.length - 1, -1),
    };
  }

  /** Refuses `count` new nodes (and the missing ancestors) the tree has no room for. */
  #checkRoom(uri: string, place: Place, count: number): void {
    const state = this.#state;
    if (state.nodeCount + place.missing.length + count > state.limits.maxNodes) {
      this.#fail("DEVICE_FULL", StatusCode.DEVICE_FULL, uri, "tree is full");
    }
  }

  /** Puts `node`, new and holding `count` nodes with itself, at its place, ancestors made. */
  #join(place: Place, node: TreeNode, count: number, now: number): void {
    let top = node;
    for (let k = place.missing.length - 1; k >= 0; k--) {
      top = createNode({ name: place.missing[k]!, format: "node", now }, top);
    }
    this.#state.commit(
      place.anchorAt,
      withChild(place.anchor, top.name, top, now),
      place.missing.length + count,
    );
  }

  #fail(code: TreeErrorCode, status: number, uri: string, message: string): never {
    throw new TreeError(code, status, uri, message);
  }
}
