/**
 * The contract between the DM tree (OMA-TS-DM_TND-V1_2) and the client session engine: the
 * engine turns each server command item into one of these calls and wraps the returned status
 * (and, for Get, the result items) into Status and Results. `principal` is the authenticated
 * DM server's ServerID, against which ACLs are checked.
 */
import type { Item, ItemData } from "../model/message.js";

/** Node formats of OMA-TS-DM_TND §7 ("Format" property). */
export type NodeFormat =
  | "b64"
  | "bin"
  | "bool"
  | "chr"
  | "int"
  | "node"
  | "null"
  | "xml"
  | "date"
  | "time"
  | "float";

export interface NodeInput {
  readonly format?: string;
  readonly type?: string;
  readonly data?: ItemData;
}

export interface GetOutcome {
  readonly status: number;
  /** Items for the Results command: one per node, with Source LocURI and Meta Format/Type. */
  readonly items: readonly Item[];
}

/** A point-in-time copy used to roll back an Atomic (status 216, or 516 when rollback fails). */
export type TreeSnapshot = unknown;

export interface ManagementTree {
  add(uri: string, node: NodeInput, principal: string): number;
  replace(uri: string, node: NodeInput, principal: string): number;
  delete(uri: string, principal: string): number;
  copy(targetUri: string, sourceUri: string, principal: string): number;
  /** Handles `?prop=NAME` and `?list=Struct|StructData` as well as plain nodes. */
  get(uri: string, principal: string): GetOutcome;
  exec(
    uri: string,
    data: ItemData | undefined,
    correlator: string | undefined,
    principal: string,
  ): number;
  snapshot(): TreeSnapshot;
  restore(snapshot: TreeSnapshot): void;
}
