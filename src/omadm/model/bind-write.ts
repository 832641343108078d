/**
 * Typed message → element tree or wire tokens: the writing half of the binding. Emits the strict
 * DTD order of OMA-TS-DM_RepPro-V1_2 §6 (and OMA-TS-SyncML_MetInf-V1_2 for Meta content, whose
 * elements go in the `syncml:metinf` namespace), so any DTD-validating peer accepts what we send.
 * A model the DTD cannot express (an Add without Item, say) is refused here rather than sent.
 *
 * The order is written once, to a `MessageSink`: `fromMessage` gives it a sink that builds the
 * element tree (what the XML writer and the CLI print), and the WBXML encoder gives it one that
 * writes tokens directly (wbxml/encode-message.ts), so the hot WBXML path builds no tree.
 */
import { ProtocolError } from "../errors.js";
import { type Content, childrenOf, type Element } from "./element.js";
import type {
  Alert,
  Command,
  Container,
  Cred,
  Exec,
  Get,
  Item,
  ItemCommand,
  Location,
  Meta,
  Results,
  Status,
  SyncHdr,
  SyncMLMessage,
} from "./message.js";
import { TAG_NAMES, TAG_NS, Tag } from "./tags.js";

/**
 * Elements written elsewhere than into a tree, in document order; tags are `Tag` numbers
 * (wbxml/encode-message.ts writes them as WBXML tokens).
 */
export interface SinkTarget {
  /** Starts element `tag`; what is written until the matching `close` is its content. */
  open(tag: number): void;
  close(): void;
  /** Element `tag` holding `text`; an empty text leaves it without content. */
  leaf(tag: number, text: string): void;
  /** Element `tag` holding bytes (WBXML opaque data; base64 in XML). */
  bytes(tag: number, data: Uint8Array): void;
  /** Element `tag` without content (`<NoResp/>`). */
  empty(tag: number): void;
}

/** The message as an element tree. */
export function fromMessage(msg: SyncMLMessage): Element {
  const sink = new MessageSink();
  writeMessage(msg, sink);
  return sink.root();
}

/** Writes the message to `out` in DTD order; throws SYNCML_INVALID where the DTD cannot carry it. */
export function writeMessage(msg: SyncMLMessage, out: MessageSink): void {
  out.open(Tag.SyncML);
  header(msg.header, out);
  out.open(Tag.SyncBody);
  const cmds = msg.body.commands;
  for (let i = 0; i < cmds.length; i++) command(cmds[i]!, undefined, cmds, i, out);
  if (msg.body.final) out.empty(Tag.Final);
  out.close();
  out.close();
}

/**
 * Where the writer's elements go: into an element tree, or to a `SinkTarget`. One class serves
 * both, rather than one class each behind an interface, so that the writer's many calls meet a
 * single receiver shape (see model/cursor.ts for why that matters).
 *
 * The tree's children wait on one content stack until their element closes, and leave it as an
 * array of exactly their number (`childrenOf`): growing a fresh array child by child would
 * allocate several times the memory the tree keeps.
 */
/** What a sink with a target keeps of a tree: nothing (shared, never written). */
const NOTHING: never[] = [];

export class MessageSink {
  private readonly target: SinkTarget | undefined;
  private readonly content: Content[];
  /** Tag and first child of each open element. */
  private readonly tags: number[];
  private readonly starts: number[];
  private depth = 0;
  private sp = 0;

  /** A sink that builds the tree, or that hands every element to `target`. */
  constructor(target?: SinkTarget) {
    this.target = target;
    if (target === undefined) {
      this.content = [];
      this.tags = [];
      this.starts = [];
    } else {
      this.content = this.tags = this.starts = NOTHING;
    }
  }

  open(tag: number): void {
    const t = this.target;
    if (t !== undefined) {
      t.open(tag);
      return;
    }
    this.tags[this.depth] = tag;
    this.starts[this.depth++] = this.sp;
  }

  close(): void {
    const t = this.target;
    if (t !== undefined) {
      t.close();
      return;
    }
    this.treeClose();
  }

  /** `close` in the tree; kept apart so that `close` stays small where it is inlined. */
  private treeClose(): void {
    const tag = this.tags[--this.depth]!;
    const start = this.starts[this.depth]!;
    const children = childrenOf(this.content, start, this.sp);
    this.sp = start;
    this.content[this.sp++] = { name: TAG_NAMES[tag]!, ns: TAG_NS[tag]!, children };
  }

  leaf(tag: number, text: string): void {
    const t = this.target;
    if (t !== undefined) {
      t.leaf(tag, text);
      return;
    }
    this.content[this.sp++] = {
      name: TAG_NAMES[tag]!,
      ns: TAG_NS[tag]!,
      children: text === "" ? [] : [text],
    };
  }

  bytes(tag: number, data: Uint8Array): void {
    const t = this.target;
    if (t !== undefined) {
      t.bytes(tag, data);
      return;
    }
    this.content[this.sp++] = { name: TAG_NAMES[tag]!, ns: TAG_NS[tag]!, children: [data] };
  }

  empty(tag: number): void {
    const t = this.target;
    if (t !== undefined) {
      t.empty(tag);
      return;
    }
    this.content[this.sp++] = { name: TAG_NAMES[tag]!, ns: TAG_NS[tag]!, children: [] };
  }

  /** The tree built. */
  root(): Element {
    return this.content[0] as Element;
  }
}

/**
 * Where a command sits, for the path of an error (`SyncML/SyncBody/Atomic[1]/Add[2]`, indexes
 * among same-kind siblings as the reader counts them); formatted only when an error is raised.
 */
interface Where {
  readonly up: Where | undefined;
  readonly list: readonly Command[];
  readonly at: number;
}

/** The path of command `at` in `list`, inside `up`; only called on the way to an error. */
function pathAt(up: Where | undefined, list: readonly Command[], at: number): string {
  return pathOf({ up, list, at });
}

function pathOf(w: Where): string {
  let s = "";
  for (let p: Where | undefined = w; p !== undefined; p = p.up) {
    const kind = p.list[p.at]!.kind;
    let n = 0;
    for (let i = 0; i <= p.at; i++) if (p.list[i]!.kind === kind) n++;
    s = `/${kind}[${n}]${s}`;
  }
  return `SyncML/SyncBody${s}`;
}

/** SyncHdr (VerDTD, VerProto, SessionID, MsgID, Target, Source, RespURI?, NoResp?, Cred?, Meta?). */
function header(h: SyncHdr, out: MessageSink): void {
  out.open(Tag.SyncHdr);
  out.leaf(Tag.VerDTD, h.verDTD);
  out.leaf(Tag.VerProto, h.verProto);
  out.leaf(Tag.SessionID, h.sessionId);
  out.leaf(Tag.MsgID, h.msgId);
  location(Tag.Target, h.target, out);
  location(Tag.Source, h.source, out);
  if (h.respUri !== undefined) out.leaf(Tag.RespURI, h.respUri);
  if (h.noResp) out.empty(Tag.NoResp);
  if (h.cred !== undefined) cred(h.cred, out);
  if (h.meta !== undefined) meta(h.meta, out);
  out.close();
}

/**
 * Command `c`, which is `list[at]` inside the container `up` (undefined: SyncBody). The `Where`
 * of a command is built only for a container's children, or when an error needs the path.
 */
function command(
  c: Command,
  up: Where | undefined,
  list: readonly Command[],
  at: number,
  out: MessageSink,
): void {
  switch (c.kind) {
    case "Add":
      itemCommand(Tag.Add, c, up, list, at, out);
      return;
    case "Copy":
      itemCommand(Tag.Copy, c, up, list, at, out);
      return;
    case "Delete":
      itemCommand(Tag.Delete, c, up, list, at, out);
      return;
    case "Replace":
      itemCommand(Tag.Replace, c, up, list, at, out);
      return;
    case "Get":
      get(c, up, list, at, out);
      return;
    case "Alert":
      alert(c, out);
      return;
    case "Exec":
      exec(c, out);
      return;
    case "Atomic":
    case "Sequence":
      container(c, { up, list, at }, out);
      return;
    case "Status":
      status(c, out);
      return;
    case "Results":
      results(c, up, list, at, out);
      return;
  }
}

/** Opens command `tag` and writes what every command starts with: CmdID, NoResp?. */
function start(tag: number, c: { cmdId: string; noResp?: boolean }, out: MessageSink): void {
  out.open(tag);
  out.leaf(Tag.CmdID, c.cmdId);
  if (c.noResp) out.empty(Tag.NoResp);
}

/** Add, Copy, Delete, Replace: (CmdID, NoResp?, Cred?, Meta?, Item+). */
function itemCommand(
  tag: number,
  c: ItemCommand,
  up: Where | undefined,
  list: readonly Command[],
  at: number,
  out: MessageSink,
): void {
  start(tag, c, out);
  if (c.cred !== undefined) cred(c.cred, out);
  if (c.meta !== undefined) meta(c.meta, out);
  items(c.items, up, list, at, out);
  out.close();
}

/** Get: (CmdID, NoResp?, Lang?, Cred?, Meta?, Item+). */
function get(
  c: Get,
  up: Where | undefined,
  list: readonly Command[],
  at: number,
  out: MessageSink,
): void {
  start(Tag.Get, c, out);
  if (c.lang !== undefined) out.leaf(Tag.Lang, c.lang);
  if (c.cred !== undefined) cred(c.cred, out);
  if (c.meta !== undefined) meta(c.meta, out);
  items(c.items, up, list, at, out);
  out.close();
}

/** Alert: (CmdID, NoResp?, Cred?, Data?, Correlator?, Item*). */
function alert(c: Alert, out: MessageSink): void {
  start(Tag.Alert, c, out);
  if (c.cred !== undefined) cred(c.cred, out);
  if (c.data !== undefined) out.leaf(Tag.Data, c.data);
  if (c.correlator !== undefined) out.leaf(Tag.Correlator, c.correlator);
  const list = c.items;
  for (let i = 0; i < list.length; i++) item(list[i]!, out);
  out.close();
}

/** Exec: (CmdID, NoResp?, Cred?, Meta?, Correlator?, Item). */
function exec(c: Exec, out: MessageSink): void {
  start(Tag.Exec, c, out);
  if (c.cred !== undefined) cred(c.cred, out);
  if (c.meta !== undefined) meta(c.meta, out);
  if (c.correlator !== undefined) out.leaf(Tag.Correlator, c.correlator);
  item(c.item, out);
  out.close();
}

/** Atomic, Sequence: (CmdID, NoResp?, Meta?, commands+). */
function container(c: Container, where: Where, out: MessageSink): void {
  start(c.kind === "Atomic" ? Tag.Atomic : Tag.Sequence, c, out);
  if (c.meta !== undefined) meta(c.meta, out);
  const cmds = c.commands;
  for (let i = 0; i < cmds.length; i++) {
    const n = cmds[i]!;
    if (n.kind === "Status" || n.kind === "Results") {
      throw new ProtocolError("SYNCML_INVALID", `${n.kind} cannot be nested in ${c.kind}`, {
        path: pathOf(where),
      });
    }
    command(n, where, cmds, i, out);
  }
  out.close();
}

/** Status: (CmdID, MsgRef, CmdRef, Cmd, TargetRef*, SourceRef*, Cred?, Chal?, Data, Item*). */
function status(s: Status, out: MessageSink): void {
  out.open(Tag.Status);
  out.leaf(Tag.CmdID, s.cmdId);
  out.leaf(Tag.MsgRef, s.msgRef);
  out.leaf(Tag.CmdRef, s.cmdRef);
  out.leaf(Tag.Cmd, s.cmd);
  const targetRefs = s.targetRefs;
  for (let i = 0; i < targetRefs.length; i++) out.leaf(Tag.TargetRef, targetRefs[i]!);
  const sourceRefs = s.sourceRefs;
  for (let i = 0; i < sourceRefs.length; i++) out.leaf(Tag.SourceRef, sourceRefs[i]!);
  if (s.cred !== undefined) cred(s.cred, out);
  if (s.chal !== undefined) {
    out.open(Tag.Chal);
    meta(s.chal.meta, out);
    out.close();
  }
  out.leaf(Tag.Data, String(s.code));
  const list = s.items;
  for (let i = 0; i < list.length; i++) item(list[i]!, out);
  out.close();
}

/** Results: (CmdID, MsgRef?, CmdRef, Meta?, TargetRef?, SourceRef?, Item+). */
function results(
  r: Results,
  up: Where | undefined,
  list: readonly Command[],
  at: number,
  out: MessageSink,
): void {
  out.open(Tag.Results);
  out.leaf(Tag.CmdID, r.cmdId);
  if (r.msgRef !== undefined) out.leaf(Tag.MsgRef, r.msgRef);
  out.leaf(Tag.CmdRef, r.cmdRef);
  if (r.meta !== undefined) meta(r.meta, out);
  if (r.targetRef !== undefined) out.leaf(Tag.TargetRef, r.targetRef);
  if (r.sourceRef !== undefined) out.leaf(Tag.SourceRef, r.sourceRef);
  items(r.items, up, list, at, out);
  out.close();
}

/** The Items of a command that needs at least one (`list[at]` inside `up`). */
function items(
  list: readonly Item[],
  up: Where | undefined,
  cmds: readonly Command[],
  at: number,
  out: MessageSink,
): void {
  if (list.length === 0) {
    throw new ProtocolError("SYNCML_INVALID", "the command needs at least one Item", {
      path: pathAt(up, cmds, at),
    });
  }
  for (let i = 0; i < list.length; i++) item(list[i]!, out);
}

/** Item: (Target?, Source?, Meta?, Data?, MoreData?). Bytes stay bytes: WBXML opaque, XML base64. */
function item(i: Item, out: MessageSink): void {
  out.open(Tag.Item);
  if (i.target !== undefined) location(Tag.Target, i.target, out);
  if (i.source !== undefined) location(Tag.Source, i.source, out);
  if (i.meta !== undefined) meta(i.meta, out);
  const d = i.data;
  if (d !== undefined) {
    if (typeof d === "string") out.leaf(Tag.Data, d);
    else out.bytes(Tag.Data, d);
  }
  if (i.moreData) out.empty(Tag.MoreData);
  out.close();
}

/** Target / Source: (LocURI, LocName?). */
function location(tag: number, l: Location, out: MessageSink): void {
  out.open(tag);
  out.leaf(Tag.LocURI, l.locUri);
  if (l.locName !== undefined) out.leaf(Tag.LocName, l.locName);
  out.close();
}

/** Cred: (Meta?, Data). */
function cred(c: Cred, out: MessageSink): void {
  out.open(Tag.Cred);
  if (c.meta !== undefined) meta(c.meta, out);
  out.leaf(Tag.Data, c.data);
  out.close();
}

/**
 * Meta with MetInf content in MetInf DTD order: Format, Type, Mark, Size, (Anchor), Version,
 * NextNonce, MaxMsgSize, MaxObjSize, EMI*, (Mem).
 */
function meta(m: Meta, out: MessageSink): void {
  // One pass over the fields present (a Meta holds two or three of its nine), then DTD order.
  let format: string | undefined;
  let type: string | undefined;
  let mark: string | undefined;
  let size: number | undefined;
  let version: string | undefined;
  let nextNonce: string | undefined;
  let maxMsgSize: number | undefined;
  let maxObjSize: number | undefined;
  let emi: readonly string[] | undefined;
  for (const k in m) {
    switch (k) {
      case "format":
        format = m.format;
        break;
      case "type":
        type = m.type;
        break;
      case "mark":
        mark = m.mark;
        break;
      case "size":
        size = m.size;
        break;
      case "version":
        version = m.version;
        break;
      case "nextNonce":
        nextNonce = m.nextNonce;
        break;
      case "maxMsgSize":
        maxMsgSize = m.maxMsgSize;
        break;
      case "maxObjSize":
        maxObjSize = m.maxObjSize;
        break;
      case "emi":
        emi = m.emi;
        break;
    }
  }
  out.open(Tag.Meta);
  if (format !== undefined) out.leaf(Tag.Format, format);
  if (type !== undefined) out.leaf(Tag.Type, type);
  if (mark !== undefined) out.leaf(Tag.Mark, mark);
  if (size !== undefined) out.leaf(Tag.Size, String(size));
  if (version !== undefined) out.leaf(Tag.Version, version);
  if (nextNonce !== undefined) out.leaf(Tag.NextNonce, nextNonce);
  if (maxMsgSize !== undefined) out.leaf(Tag.MaxMsgSize, String(maxMsgSize));
  if (maxObjSize !== undefined) out.leaf(Tag.MaxObjSize, String(maxObjSize));
  if (emi !== undefined) for (let i = 0; i < emi.length; i++) out.leaf(Tag.EMI, emi[i]!);
  out.close();
}
