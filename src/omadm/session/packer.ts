/**
 * Fits a party's outgoing commands into one message under the peer's MaxMsgSize
 * (OMA-TS-DM_Protocol §2.1 multiple messages, §2.2 large objects): gives CmdIDs from 1 in the
 * order sent (OMA-TS-DM_RepPro §6.5.2: unique within a message), keeps what does not fit for
 * the next message of the package, chunks a single large item (MoreData, Meta Size on the first
 * chunk only), and never splits Atomic or Sequence (§2.1.1: a command fits in one message).
 */
import type {
  Command,
  Container,
  Item,
  Meta,
  Results,
  Status,
  SyncHdr,
  SyncMLMessage,
} from "../model/message.js";
import { chunkableItem, dataSize, itemFormat, splitData } from "./large-object.js";
import type { OutCommand } from "./types.js";

/** A command before numbering: one the party originates, or a Status/Results it answers with. */
export type Draft = OutCommand | Omit<Status, "cmdId"> | Omit<Results, "cmdId">;

export interface Unit {
  readonly draft: Draft;
  /** The command the application asked for, when `draft` is a chunk of it. */
  readonly origin?: Draft;
  /** Set on the remainder of a chunked object: its Meta Size was already sent. */
  readonly continued?: boolean;
}

/** One numbered command of the packed message (nested ones included). */
export interface SentCommand {
  readonly cmdId: string;
  readonly draft: Draft;
  /** Whether this is a non-last chunk of a large object (its status is 213). */
  readonly chunk: boolean;
  /** The top-level command this one belongs to (itself, or its Atomic/Sequence). */
  readonly top: Draft;
}

export interface PackRequest {
  readonly header: SyncHdr;
  readonly units: readonly Unit[];
  /** The peer's MaxMsgSize; no limit when absent. */
  readonly maxMsgSize: number | undefined;
  /** The peer's MaxObjSize; objects larger are refused before sending. */
  readonly maxObjSize: number | undefined;
  /** Whether this message may close the package when everything fits. */
  readonly mayFinish: boolean;
  readonly encode: (message: SyncMLMessage) => Uint8Array;
}

export interface Packed {
  readonly message: SyncMLMessage;
  readonly body: Uint8Array;
  readonly sent: readonly SentCommand[];
  /** Units left for the next message of the package. */
  readonly rest: Unit[];
  /** Units that cannot be sent at all (too large for a message or for the peer's MaxObjSize). */
  readonly refused: Unit[];
  readonly final: boolean;
}

/** Smallest chunk worth a message of its own; below it the chunk waits for the next message. */
const MIN_CHUNK = 32;

class Numbering {
  next = 1;
  sent: SentCommand[] = [];

  materialize(draft: Draft, chunk: boolean, origin?: Draft, top?: Draft): Command {
    const cmdId = String(this.next++);
    const self = origin ?? draft;
    this.sent.push({ cmdId, draft: self, chunk, top: top ?? self });
    if (draft.kind === "Status") return numberedStatus(draft, cmdId);
    if (draft.kind === "Atomic" || draft.kind === "Sequence") {
      const nested = draft.commands.map((c) => this.materialize(c, false, undefined, top ?? self));
      return { ...draft, cmdId, commands: nested } as Container;
    }
    // Object.assign rather than a spread: drafts come in many shapes, and the spread's
    // megamorphic clone was several times slower in profiles. Same own properties, cmdId last.
    const cmd = Object.assign({}, draft) as unknown as Record<string, unknown>;
    cmd.cmdId = cmdId;
    return cmd as unknown as Command;
  }

  mark(): [number, number] {
    return [this.next, this.sent.length];
  }

  reset([next, len]: [number, number]): void {
    this.next = next;
    this.sent.length = len;
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * A numbered Status, its fields written out: most of what an engine sends is Status, and a
 * spread over drafts of many shapes was a visible share of a session. Status drafts are only
 * built by envelope.ts (headerStatus, commandStatus), so these are all the fields they have.
 */
function numberedStatus(d: Omit<Status, "cmdId">, cmdId: string): Status {
  // The draft's fields in its order, then cmdId, as the spread gave them.
  const st = {
    kind: "Status",
    msgRef: d.msgRef,
    cmdRef: d.cmdRef,
    cmd: d.cmd,
    targetRefs: d.targetRefs,
    sourceRefs: d.sourceRefs,
  } as Mutable<Status>;
  if (d.cred !== undefined) st.cred = d.cred;
  if (d.chal !== undefined) st.chal = d.chal;
  st.code = d.code;
  st.items = d.items;
  st.cmdId = cmdId;
  return st;
}

function build(header: SyncHdr, commands: Command[], final: boolean): SyncMLMessage {
  return { header, body: { commands, final } };
}

/** The item without Meta Size, which only the first chunk carries (§2.2). */
function stripSize(item: Item): Item {
  if (item.meta?.size === undefined) return item;
  const { size: _size, ...meta } = item.meta;
  return { ...item, meta };
}

function withItem(draft: Draft, item: Item): Draft {
  return { ...draft, items: [item] } as Draft;
}

function draftMeta(draft: Draft): Meta | undefined {
  return "meta" in draft ? (draft.meta as Meta | undefined) : undefined;
}

export function pack(req: PackRequest): Packed {
  const { header, maxMsgSize, encode } = req;
  const refused: Unit[] = [];
  const units: Unit[] = [];
  for (const u of req.units) {
    const item = chunkableItem(u.draft as Command);
    if (item && req.maxObjSize !== undefined && !u.continued) {
      const size = dataSize(item.data, itemFormat(item, draftMeta(u.draft)));
      if (size > req.maxObjSize) {
        refused.push(u);
        continue;
      }
    }
    units.push(u);
  }

  const ids = new Numbering();
  // Fast path: everything in one message, encoded once.
  // A loop, not map: map's result array is holey or packed depending on whether the caller
  // is optimised, and consumers that saw one kind bailed out on the other.
  const all: Command[] = [];
  for (const u of units) all.push(ids.materialize(u.draft, false, u.origin));
  const whole = build(header, all, req.mayFinish);
  const wholeBody = encode(whole);
  if (maxMsgSize === undefined || wholeBody.length <= maxMsgSize) {
    return {
      message: whole,
      body: wholeBody,
      sent: ids.sent,
      rest: [],
      refused,
      final: req.mayFinish,
    };
  }

  ids.reset([1, 0]);
  const placed: Command[] = [];
  const queue = [...units];
  let rest: Unit[] = [];
  while (queue.length > 0) {
    const unit = queue.shift()!;
    const mark = ids.mark();
    const cmd = ids.materialize(unit.draft, false, unit.origin);
    if (encode(build(header, [...placed, cmd], true)).length <= maxMsgSize) {
      placed.push(cmd);
      continue;
    }
    ids.reset(mark);
    const chunked = chunk(req, placed, unit, ids);
    if (chunked) {
      placed.push(chunked.command);
      rest = [chunked.remainder, ...queue];
      break;
    }
    if (placed.length > 0) {
      rest = [unit, ...queue];
      break;
    }
    // Alone and still too big: Results of several nodes go one node per Results.
    if (unit.draft.kind === "Results" && unit.draft.items.length > 1) {
      const r = unit.draft;
      queue.unshift(...r.items.map((item) => ({ draft: { ...r, items: [item] } })));
      continue;
    }
    refused.push(unit);
  }
  const final = rest.length === 0 && req.mayFinish;
  const message = build(header, placed, final);
  return { message, body: encode(message), sent: ids.sent, rest, refused, final };
}

/** Cuts the first chunk of a single-item command to fill what is left of the message. */
function chunk(
  req: PackRequest,
  placed: Command[],
  unit: Unit,
  ids: Numbering,
): { command: Command; remainder: Unit } | undefined {
  const max = req.maxMsgSize!;
  const source = chunkableItem(unit.draft as Command);
  if (!source) return undefined;
  const item = unit.continued ? stripSize(source) : source;
  const format = itemFormat(item, draftMeta(unit.draft));
  const total = dataSize(item.data, format);
  const origin = unit.origin ?? unit.draft;
  const firstMeta: Meta | undefined = unit.continued ? item.meta : { ...item.meta, size: total };
  const shape = (data: Item["data"], more: boolean): Draft =>
    withItem(unit.draft, {
      ...item,
      ...(firstMeta ? { meta: firstMeta } : {}),
      data,
      moreData: more,
    });
  const measure = (d: Draft): number => {
    const mark = ids.mark();
    const cmd = ids.materialize(d, true, origin);
    ids.reset(mark);
    return req.encode(build(req.header, [...placed, cmd], true)).length;
  };
  const empty = typeof item.data === "string" ? "" : new Uint8Array(0);
  const base = measure(shape(empty, true));
  const room = max - base;
  if (room < MIN_CHUNK) return undefined;
  let budget = room;
  for (let attempt = 0; attempt < 12 && budget >= MIN_CHUNK; attempt++) {
    const [head, tail] = splitData(item.data!, format, budget);
    const size = measure(shape(head, true));
    if (size <= max) {
      const command = ids.materialize(shape(head, true), true, origin);
      const remainder: Unit = {
        draft: withItem(unit.draft, { ...stripSize(item), data: tail }),
        origin,
        continued: true,
      };
      return { command, remainder };
    }
    // Encoding expanded the data (XML escapes, base64 of bytes): shrink in proportion.
    budget = Math.floor((budget * room) / (size - base)) - 4;
  }
  return undefined;
}
