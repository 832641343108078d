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
  const body: Content[] = [];
  for (let i = 0; i < cmds.length; i++) {
    body.push(command(cmds[i]!, { up: undefined, list: cmds, at: i }));
  }
  if (msg.body.final) body.push(el("Final", []));
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

function command(c: Command, where: Where): Element {
  switch (c.kind) {
    case "Add":
    case "Copy":
    case "Delete":
    case "Replace":
      return itemCommand(c, where);
    case "Get":
      return get(c, where);
    case "Alert":
      return alert(c);
    case "Exec":
      return exec(c);
    case "Atomic":
    case "Sequence":
      return container(c, where);
    case "Status":
      return status(c);
    case "Results":
      return results(c, where);
  }
}

function start(c: { cmdId: string; noResp?: boolean }): Content[] {
  const kids: Content[] = [leaf("CmdID", c.cmdId)];
  if (c.noResp) kids.push(el("NoResp", []));
  return kids;
}

/** Add, Copy, Delete, Replace: (CmdID, NoResp?, Cred?, Meta?, Item+). */
function itemCommand(c: ItemCommand, where: Where): Element {
  const kids = start(c);
  if (c.cred !== undefined) kids.push(cred(c.cred));
  if (c.meta !== undefined) kids.push(meta(c.meta));
  pushItems(kids, c.items, where, true);
  return el(c.kind, kids);
}

/** Get: (CmdID, NoResp?, Lang?, Cred?, Meta?, Item+). */
function get(c: Get, where: Where): Element {
  const kids = start(c);
  if (c.lang !== undefined) kids.push(leaf("Lang", c.lang));
  if (c.cred !== undefined) kids.push(cred(c.cred));
  if (c.meta !== undefined) kids.push(meta(c.meta));
  pushItems(kids, c.items, where, true);
  return el("Get", kids);
}

/** Alert: (CmdID, NoResp?, Cred?, Data?, Correlator?, Item*). */
function alert(c: Alert): Element {
  const kids = start(c);
  if (c.cred !== undefined) kids.push(cred(c.cred));
  if (c.data !== undefined) kids.push(leaf("Data", c.data));
  if (c.correlator !== undefined) kids.push(leaf("Correlator", c.correlator));
  for (const i of c.items) kids.push(item(i));
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
  c.commands.forEach((n, i) => {
    if (n.kind === "Status" || n.kind === "Results") {
      throw new ProtocolError("SYNCML_INVALID", `${n.kind} cannot be nested in ${c.kind}`, {
        path: pathOf(where),
      });
    }
    kids.push(command(n, { up: where, list: c.commands, at: i }));
  });
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
  for (const r of s.targetRefs) kids.push(leaf("TargetRef", r));
  for (const r of s.sourceRefs) kids.push(leaf("SourceRef", r));
  if (s.cred !== undefined) kids.push(cred(s.cred));
  if (s.chal !== undefined) kids.push(el("Chal", [meta(s.chal.meta)]));
  kids.push(leaf("Data", String(s.code)));
  for (const i of s.items) kids.push(item(i));
  return el("Status", kids);
}

/** Results: (CmdID, MsgRef?, CmdRef, Meta?, TargetRef?, SourceRef?, Item+). */
function results(r: Results, where: Where): Element {
  const kids: Content[] = [leaf("CmdID", r.cmdId)];
  if (r.msgRef !== undefined) kids.push(leaf("MsgRef", r.msgRef));
  kids.push(leaf("CmdRef", r.cmdRef));
  if (r.meta !== undefined) kids.push(meta(r.meta));
  if (r.targetRef !== undefined) kids.push(leaf("TargetRef", r.targetRef));
  if (r.sourceRef !== undefined) kids.push(leaf("SourceRef", r.sourceRef));
  pushItems(kids, r.items, where, true);
  return el("Results", kids);
}

function pushItems(kids: Content[], items: readonly Item[], where: Where, required: boolean) {
  if (required && items.length === 0) {
    throw new ProtocolError("SYNCML_INVALID", "the command needs at least one Item", {
      path: pathOf(where),
    });
  }
  for (const i of items) kids.push(item(i));
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
  const kids: Content[] = [];
  if (m.format !== undefined) kids.push(leaf("Format", m.format, "metinf"));
  if (m.type !== undefined) kids.push(leaf("Type", m.type, "metinf"));
  if (m.mark !== undefined) kids.push(leaf("Mark", m.mark, "metinf"));
  if (m.size !== undefined) kids.push(leaf("Size", String(m.size), "metinf"));
  if (m.version !== undefined) kids.push(leaf("Version", m.version, "metinf"));
  if (m.nextNonce !== undefined) kids.push(leaf("NextNonce", m.nextNonce, "metinf"));
  if (m.maxMsgSize !== undefined) kids.push(leaf("MaxMsgSize", String(m.maxMsgSize), "metinf"));
  if (m.maxObjSize !== undefined) kids.push(leaf("MaxObjSize", String(m.maxObjSize), "metinf"));
  if (m.emi !== undefined) for (const e of m.emi) kids.push(leaf("EMI", e, "metinf"));
  return el("Meta", kids);
}
