/**
 * Typed message → element tree: the writing half of the binding. Emits the strict DTD order of
 * OMA-TS-DM_RepPro-V1_2 §6 (and OMA-TS-SyncML_MetInf-V1_2 for Meta content, whose elements go in
 * the `syncml:metinf` namespace), so any DTD-validating peer accepts what we send. A model the
 * DTD cannot express (an Add without Item, say) is refused here rather than sent.
 */
import { ProtocolError } from "../errors.js";
import type { Content, Element, Namespace } from "./element.js";
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

export function fromMessage(msg: SyncMLMessage): Element {
  const cmds = msg.body.commands;
  const n = cmds.length;
  const body: Content[] = new Array<Content>(msg.body.final ? n + 1 : n);
  for (let i = 0; i < n; i++) body[i] = command(cmds[i]!, undefined, cmds, i);
  if (msg.body.final) body[n] = el("Final", []);
  return el("SyncML", [header(msg.header), el("SyncBody", body)]);
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

function el(name: string, children: Content[], ns: Namespace = "syncml"): Element {
  return { name, ns, children };
}

function leaf(name: string, value: string, ns: Namespace = "syncml"): Element {
  return { name, ns, children: value === "" ? [] : [value] };
}

/** SyncHdr (VerDTD, VerProto, SessionID, MsgID, Target, Source, RespURI?, NoResp?, Cred?, Meta?). */
function header(h: SyncHdr): Element {
  const kids: Content[] = [
    leaf("VerDTD", h.verDTD),
    leaf("VerProto", h.verProto),
    leaf("SessionID", h.sessionId),
    leaf("MsgID", h.msgId),
    location("Target", h.target),
    location("Source", h.source),
  ];
  if (h.respUri !== undefined) kids.push(leaf("RespURI", h.respUri));
  if (h.noResp) kids.push(el("NoResp", []));
  if (h.cred !== undefined) kids.push(cred(h.cred));
  if (h.meta !== undefined) kids.push(meta(h.meta));
  return el("SyncHdr", kids);
}

/**
 * Command `c`, which is `list[at]` inside the container `up` (undefined: SyncBody). The `Where`
 * of a command is built only for a container's children, or when an error needs the path.
 */
function command(c: Command, up: Where | undefined, list: readonly Command[], at: number): Element {
  switch (c.kind) {
    case "Add":
    case "Copy":
    case "Delete":
    case "Replace":
      return itemCommand(c, up, list, at);
    case "Get":
      return get(c, up, list, at);
    case "Alert":
      return alert(c);
    case "Exec":
      return exec(c);
    case "Atomic":
    case "Sequence":
      return container(c, { up, list, at });
    case "Status":
      return status(c);
    case "Results":
      return results(c, up, list, at);
  }
}

function start(c: { cmdId: string; noResp?: boolean }): Content[] {
  const kids: Content[] = [leaf("CmdID", c.cmdId)];
  if (c.noResp) kids.push(el("NoResp", []));
  return kids;
}

/** Add, Copy, Delete, Replace: (CmdID, NoResp?, Cred?, Meta?, Item+). */
function itemCommand(
  c: ItemCommand,
  up: Where | undefined,
  list: readonly Command[],
  at: number,
): Element {
  const kids = start(c);
  if (c.cred !== undefined) kids.push(cred(c.cred));
  if (c.meta !== undefined) kids.push(meta(c.meta));
  pushItems(kids, c.items, up, list, at);
  return el(c.kind, kids);
}

/** Get: (CmdID, NoResp?, Lang?, Cred?, Meta?, Item+). */
function get(c: Get, up: Where | undefined, list: readonly Command[], at: number): Element {
  const kids = start(c);
  if (c.lang !== undefined) kids.push(leaf("Lang", c.lang));
  if (c.cred !== undefined) kids.push(cred(c.cred));
  if (c.meta !== undefined) kids.push(meta(c.meta));
  pushItems(kids, c.items, up, list, at);
  return el("Get", kids);
}

/** Alert: (CmdID, NoResp?, Cred?, Data?, Correlator?, Item*). */
function alert(c: Alert): Element {
  const kids = start(c);
  if (c.cred !== undefined) kids.push(cred(c.cred));
  if (c.data !== undefined) kids.push(leaf("Data", c.data));
  if (c.correlator !== undefined) kids.push(leaf("Correlator", c.correlator));
  const items = c.items;
  for (let i = 0; i < items.length; i++) kids.push(item(items[i]!));
  return el("Alert", kids);
}

/** Exec: (CmdID, NoResp?, Cred?, Meta?, Correlator?, Item). */
function exec(c: Exec): Element {
  const kids = start(c);
  if (c.cred !== undefined) kids.push(cred(c.cred));
  if (c.meta !== undefined) kids.push(meta(c.meta));
  if (c.correlator !== undefined) kids.push(leaf("Correlator", c.correlator));
  kids.push(item(c.item));
  return el("Exec", kids);
}

/** Atomic, Sequence: (CmdID, NoResp?, Meta?, commands+). */
function container(c: Container, where: Where): Element {
  const kids = start(c);
  if (c.meta !== undefined) kids.push(meta(c.meta));
  const cmds = c.commands;
  for (let i = 0; i < cmds.length; i++) {
    const n = cmds[i]!;
    if (n.kind === "Status" || n.kind === "Results") {
      throw new ProtocolError("SYNCML_INVALID", `${n.kind} cannot be nested in ${c.kind}`, {
        path: pathOf(where),
      });
    }
    kids.push(command(n, where, cmds, i));
  }
  return el(c.kind, kids);
}

/** Status: (CmdID, MsgRef, CmdRef, Cmd, TargetRef*, SourceRef*, Cred?, Chal?, Data, Item*). */
function status(s: Status): Element {
  const kids: Content[] = [
    leaf("CmdID", s.cmdId),
    leaf("MsgRef", s.msgRef),
    leaf("CmdRef", s.cmdRef),
    leaf("Cmd", s.cmd),
  ];
  const targetRefs = s.targetRefs;
  for (let i = 0; i < targetRefs.length; i++) kids.push(leaf("TargetRef", targetRefs[i]!));
  const sourceRefs = s.sourceRefs;
  for (let i = 0; i < sourceRefs.length; i++) kids.push(leaf("SourceRef", sourceRefs[i]!));
  if (s.cred !== undefined) kids.push(cred(s.cred));
  if (s.chal !== undefined) kids.push(el("Chal", [meta(s.chal.meta)]));
  kids.push(leaf("Data", String(s.code)));
  const items = s.items;
  for (let i = 0; i < items.length; i++) kids.push(item(items[i]!));
  return el("Status", kids);
}

/** Results: (CmdID, MsgRef?, CmdRef, Meta?, TargetRef?, SourceRef?, Item+). */
function results(r: Results, up: Where | undefined, list: readonly Command[], at: number): Element {
  const kids: Content[] = [leaf("CmdID", r.cmdId)];
  if (r.msgRef !== undefined) kids.push(leaf("MsgRef", r.msgRef));
  kids.push(leaf("CmdRef", r.cmdRef));
  if (r.meta !== undefined) kids.push(meta(r.meta));
  if (r.targetRef !== undefined) kids.push(leaf("TargetRef", r.targetRef));
  if (r.sourceRef !== undefined) kids.push(leaf("SourceRef", r.sourceRef));
  pushItems(kids, r.items, up, list, at);
  return el("Results", kids);
}

/** The Items of a command that needs at least one (`list[at]` inside `up`). */
function pushItems(
  kids: Content[],
  items: readonly Item[],
  up: Where | undefined,
  list: readonly Command[],
  at: number,
) {
  if (items.length === 0) {
    throw new ProtocolError("SYNCML_INVALID", "the command needs at least one Item", {
      path: pathAt(up, list, at),
    });
  }
  for (let i = 0; i < items.length; i++) kids.push(item(items[i]!));
}

/** Item: (Target?, Source?, Meta?, Data?, MoreData?). Bytes stay bytes: WBXML opaque, XML base64. */
function item(i: Item): Element {
  const kids: Content[] = [];
  if (i.target !== undefined) kids.push(location("Target", i.target));
  if (i.source !== undefined) kids.push(location("Source", i.source));
  if (i.meta !== undefined) kids.push(meta(i.meta));
  if (i.data !== undefined) {
    const d = i.data;
    kids.push(el("Data", typeof d === "string" ? (d === "" ? [] : [d]) : [d]));
  }
  if (i.moreData) kids.push(el("MoreData", []));
  return el("Item", kids);
}

/** Target / Source: (LocURI, LocName?). */
function location(name: string, l: Location): Element {
  const kids: Content[] = [leaf("LocURI", l.locUri)];
  if (l.locName !== undefined) kids.push(leaf("LocName", l.locName));
  return el(name, kids);
}

/** Cred: (Meta?, Data). */
function cred(c: Cred): Element {
  const kids: Content[] = [];
  if (c.meta !== undefined) kids.push(meta(c.meta));
  kids.push(leaf("Data", c.data));
  return el("Cred", kids);
}

/**
 * Meta with MetInf content in MetInf DTD order: Format, Type, Mark, Size, (Anchor), Version,
 * NextNonce, MaxMsgSize, MaxObjSize, EMI*, (Mem).
 */
function meta(m: Meta): Element {
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
  let n = 0;
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
      default:
        continue;
    }
    n++;
  }
  const kids: Content[] = [];
  if (n === 0) return el("Meta", kids);
  if (format !== undefined) kids.push(leaf("Format", format, "metinf"));
  if (type !== undefined) kids.push(leaf("Type", type, "metinf"));
  if (mark !== undefined) kids.push(leaf("Mark", mark, "metinf"));
  if (size !== undefined) kids.push(leaf("Size", String(size), "metinf"));
  if (version !== undefined) kids.push(leaf("Version", version, "metinf"));
  if (nextNonce !== undefined) kids.push(leaf("NextNonce", nextNonce, "metinf"));
  if (maxMsgSize !== undefined) kids.push(leaf("MaxMsgSize", String(maxMsgSize), "metinf"));
  if (maxObjSize !== undefined) kids.push(leaf("MaxObjSize", String(maxObjSize), "metinf"));
  if (emi !== undefined)
    for (let i = 0; i < emi.length; i++) kids.push(leaf("EMI", emi[i]!, "metinf"));
  return el("Meta", kids);
}
