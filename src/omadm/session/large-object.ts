/**
 * Large Object handling (OMA-TS-DM_Protocol §2.2): an item too big for one message travels in
 * chunks marked MoreData in contiguous messages, Meta Size (the whole object's size) only on the
 * first chunk; the recipient answers 213 per non-last chunk, checks the reassembled size on the
 * last one (424 on mismatch) and raises Alert 1225 when the next message does not continue the
 * object.
 *
 * Size counts octets: bytes as they are, text as UTF-8, except text in Format b64, which counts
 * the octets it decodes to. That makes bytes sent over WBXML (opaque) and the same bytes sent
 * over XML (base64 text, Format b64) the same size on both ends.
 */
import type { Command, Item, ItemData, Meta } from "../model/message.js";

export function dataSize(data: ItemData | undefined, format: string | undefined): number {
  if (data === undefined) return 0;
  if (typeof data !== "string") return data.length;
  if (format === "b64") return base64DecodedLength(data);
  return Buffer.byteLength(data, "utf8");
}

function base64DecodedLength(text: string): number {
  const clean = text.replace(/[\s]/g, "");
  if (clean.length === 0) return 0;
  const pad = clean.endsWith("==") ? 2 : clean.endsWith("=") ? 1 : 0;
  return Math.floor((clean.length * 3) / 4) - pad;
}

/** Format in force for an item: its own Meta, else the command's. */
export function itemFormat(item: Item, commandMeta: Meta | undefined): string | undefined {
  return item.meta?.format ?? commandMeta?.format;
}

/**
 * Splits off a leading piece of at most `budget` size units, keeping every piece decodable on
 * its own: b64 text at multiples of 4 characters, bytes at multiples of 3 (so the base64 an XML
 * writer makes of each piece concatenates to the base64 of the whole), text at code points
 * (never halving a surrogate pair), measured in UTF-8 octets.
 */
export function splitData(
  data: ItemData,
  format: string | undefined,
  budget: number,
): [ItemData, ItemData] {
  if (typeof data !== "string") {
    const n = Math.max(3, budget - (budget % 3));
    return [data.subarray(0, n), data.subarray(n)];
  }
  if (format === "b64") {
    const chars = Math.max(4, Math.floor(budget / 3) * 4);
    return [data.slice(0, chars), data.slice(chars)];
  }
  let bytes = 0;
  let i = 0;
  while (i < data.length) {
    const cp = data.codePointAt(i)!;
    const len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + len > budget && i > 0) break;
    bytes += len;
    i += cp > 0xffff ? 2 : 1;
  }
  return [data.slice(0, i), data.slice(i)];
}

export function concatData(parts: readonly ItemData[]): ItemData {
  if (parts.every((p) => typeof p === "string")) return (parts as string[]).join("");
  return new Uint8Array(
    Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : p))),
  );
}

/** The command kinds whose single item may be chunked. */
export type ChunkableKind = "Add" | "Replace" | "Results" | "Alert";

/** The one item of a chunkable command, or undefined when the command cannot be chunked. */
export function chunkableItem(
  cmd: Command | { kind: string; items?: readonly Item[] },
): Item | undefined {
  if (!("items" in cmd) || !cmd.items || cmd.items.length !== 1) return undefined;
  if (
    cmd.kind !== "Add" &&
    cmd.kind !== "Replace" &&
    cmd.kind !== "Results" &&
    cmd.kind !== "Alert"
  )
    return undefined;
  const item = cmd.items[0]!;
  return item.data === undefined ? undefined : item;
}

/** The URI that ties chunks of one object together: Target for Add/Replace, Source otherwise. */
export function objectUri(kind: string, item: Item): string {
  return (kind === "Add" || kind === "Replace" ? item.target?.locUri : item.source?.locUri) ?? "";
}

interface Pending {
  readonly kind: string;
  readonly uri: string;
  readonly first: Command;
  readonly firstItem: Item;
  readonly format: string | undefined;
  readonly declared: number | undefined;
  readonly parts: ItemData[];
  received: number;
}

/** Outcome of feeding one received command to the assembler. */
export type AssemblyStep =
  | { readonly kind: "whole"; readonly command: Command }
  | { readonly kind: "chunk" }
  | { readonly kind: "complete"; readonly command: Command; readonly sizeMismatch: boolean }
  | { readonly kind: "too-large" };

/** Reassembles one incoming large object at a time, per the §2.2 rules above. */
export class ObjectAssembler {
  #pending: Pending | undefined;
  readonly #maxObjSize: number | undefined;

  constructor(maxObjSize?: number) {
    this.#maxObjSize = maxObjSize;
  }

  get pending(): boolean {
    return this.#pending !== undefined;
  }

  /**
   * The source/target of the object being assembled, for Alert 1225, and forgets it. Called
   * when a message does not continue the object.
   */
  abandon(): Item | undefined {
    const p = this.#pending;
    this.#pending = undefined;
    if (!p) return undefined;
    return {
      ...(p.firstItem.target ? { target: p.firstItem.target } : {}),
      ...(p.firstItem.source ? { source: p.firstItem.source } : {}),
    };
  }

  /** Whether `cmd` continues the pending object (same command kind, same node). */
  continues(cmd: Command): boolean {
    const p = this.#pending;
    if (!p) return false;
    const item = chunkableItem(cmd);
    return item !== undefined && cmd.kind === p.kind && objectUri(cmd.kind, item) === p.uri;
  }

  feed(cmd: Command): AssemblyStep {
    const item = chunkableItem(cmd);
    const p = this.#pending;
    if (p && item && this.continues(cmd)) {
      p.parts.push(item.data!);
      p.received += dataSize(item.data, p.format);
      if (this.#maxObjSize !== undefined && p.received > this.#maxObjSize) {
        this.#pending = undefined;
        return { kind: "too-large" };
      }
      if (item.moreData) return { kind: "chunk" };
      this.#pending = undefined;
      const data = concatData(p.parts);
      const { moreData: _more, ...rest } = p.firstItem;
      const whole = { ...p.first, cmdId: cmd.cmdId, items: [{ ...rest, data }] } as Command;
      return {
        kind: "complete",
        command: whole,
        sizeMismatch: p.declared !== undefined && p.declared !== p.received,
      };
    }
    if (!item?.moreData) return { kind: "whole", command: cmd };
    const meta = "meta" in cmd ? (cmd.meta as Meta | undefined) : undefined;
    const format = itemFormat(item, meta);
    const declared = item.meta?.size ?? meta?.size;
    if (declared !== undefined && this.#maxObjSize !== undefined && declared > this.#maxObjSize)
      return { kind: "too-large" };
    this.#pending = {
      kind: cmd.kind,
      uri: objectUri(cmd.kind, item),
      first: cmd,
      firstItem: item,
      format,
      declared,
      parts: [item.data!],
      received: dataSize(item.data, format),
    };
    return { kind: "chunk" };
  }
}
