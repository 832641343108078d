/**
 * Element tree → typed message: the reading half of the binding (OMA-TS-DM_RepPro-V1_2 §5–6,
 * OMA-TS-SyncML_MetInf-V1_2). Reading is tolerant where deployed peers differ from the DTD and
 * strict where a wrong guess would change meaning:
 * - child order is free (the DM Protocol §2.6 examples write Status as MsgRef, CmdRef, CmdID);
 * - leaf values are trimmed of XML whitespace, except Item Data, which is kept verbatim;
 * - a SyncHdr Status without CmdRef refers to command "0", the header (RepPro §6.6.10 / §2.6);
 * - unknown elements in SyncHdr, commands, Items and Meta are ignored;
 * - a missing required element, a duplicated single element, or an unknown command in SyncBody
 *   is SYNCML_INVALID with the element path, since no answer to such a message can be right.
 * Data holding child elements (an XML document such as DevInf carried inline) becomes the XML
 * text of that content, so it survives whichever codec carried it.
 */
import { childPath, invalid, type Path, rootPath } from "./bind-path.js";
import {
  count,
  duplicate,
  missing,
  readChal,
  readCred,
  readItem,
  readLocation,
  readMeta,
  value,
} from "./bind-read-parts.js";
import { type Element, isElement } from "./element.js";
import type {
  Alert,
  Chal,
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
  SyncBody,
  SyncHdr,
  SyncMLMessage,
} from "./message.js";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function toMessage(root: Element): SyncMLMessage {
  const path = rootPath(root);
  if (root.name !== "SyncML" || root.ns !== "syncml") {
    throw invalid(`root element is ${root.name}, not SyncML (SYNCML:SYNCML1.2)`, path);
  }
  let header: SyncHdr | undefined;
  let body: SyncBody | undefined;
  for (const c of root.children) {
    if (!isElement(c)) continue;
    if (c.name === "SyncHdr") {
      if (header !== undefined) throw duplicate(c, path);
      header = readHeader(c, childPath(path, c));
    } else if (c.name === "SyncBody") {
      if (body !== undefined) throw duplicate(c, path);
      body = readBody(c, childPath(path, c));
    }
  }
  if (header === undefined) throw missing("SyncHdr", path);
  if (body === undefined) throw missing("SyncBody", path);
  return { header, body };
}

/** SyncHdr (VerDTD, VerProto, SessionID, MsgID, Target, Source, RespURI?, NoResp?, Cred?, Meta?). */
function readHeader(el: Element, path: Path): SyncHdr {
  let verDTD: string | undefined;
  let verProto: string | undefined;
  let sessionId: string | undefined;
  let msgId: string | undefined;
  let target: Location | undefined;
  let source: Location | undefined;
  let respUri: string | undefined;
  let noResp = false;
  let cred: Cred | undefined;
  let meta: Meta | undefined;
  for (const c of el.children) {
    if (!isElement(c)) continue;
    switch (c.name) {
      case "VerDTD":
        if (verDTD !== undefined) throw duplicate(c, path);
        verDTD = value(c, path);
        break;
      case "VerProto":
        if (verProto !== undefined) throw duplicate(c, path);
        verProto = value(c, path);
        break;
      case "SessionID":
        if (sessionId !== undefined) throw duplicate(c, path);
        sessionId = value(c, path);
        break;
      case "MsgID":
        if (msgId !== undefined) throw duplicate(c, path);
        msgId = value(c, path);
        break;
      case "Target":
        if (target !== undefined) throw duplicate(c, path);
        target = readLocation(c, path);
        break;
      case "Source":
        if (source !== undefined) throw duplicate(c, path);
        source = readLocation(c, path);
        break;
      case "RespURI":
        if (respUri !== undefined) throw duplicate(c, path);
        respUri = value(c, path);
        break;
      case "NoResp":
        noResp = true;
        break;
      case "Cred":
        if (cred !== undefined) throw duplicate(c, path);
        cred = readCred(c, path);
        break;
      case "Meta":
        if (meta !== undefined) throw duplicate(c, path);
        meta = readMeta(c, path);
        break;
    }
  }
  if (verDTD === undefined) throw missing("VerDTD", path);
  if (verProto === undefined) throw missing("VerProto", path);
  if (sessionId === undefined) throw missing("SessionID", path);
  if (msgId === undefined) throw missing("MsgID", path);
  if (target === undefined) throw missing("Target", path);
  if (source === undefined) throw missing("Source", path);
  const hdr: Mutable<SyncHdr> = { verDTD, verProto, sessionId, msgId, target, source };
  if (respUri !== undefined) hdr.respUri = respUri;
  if (noResp) hdr.noResp = true;
  if (cred !== undefined) hdr.cred = cred;
  if (meta !== undefined) hdr.meta = meta;
  return hdr;
}

function readBody(el: Element, path: Path): SyncBody {
  const commands: Command[] = [];
  let final = false;
  for (const c of el.children) {
    if (!isElement(c)) continue;
    if (c.name === "Final") final = true;
    else commands.push(readCommand(c, childPath(path, c, true), false));
  }
  return { commands, final };
}

function readCommand(el: Element, path: Path, nested: boolean): Command {
  switch (el.name) {
    case "Add":
    case "Copy":
    case "Delete":
    case "Replace":
      return readItemCommand(el, el.name, path);
    case "Get":
      return readGet(el, path);
    case "Alert":
      return readAlert(el, path);
    case "Exec":
      return readExec(el, path);
    case "Atomic":
    case "Sequence":
      return readContainer(el, el.name, path);
    case "Status":
      if (nested) break;
      return readStatus(el, path);
    case "Results":
      if (nested) break;
      return readResults(el, path);
  }
  const where = nested ? `in ${path.up!.el.name}` : "in SyncBody";
  throw invalid(`${el.name} is not an OMA DM 1.2 command ${where}`, path);
}

/** Fields every command may carry first: CmdID, NoResp? (RepPro §6.6). */
interface Common {
  cmdId?: string;
  noResp?: true;
}

/** Reads CmdID and NoResp; returns false for any other child, for the caller to handle. */
function common(c: Element, acc: Common, path: Path): boolean {
  if (c.name === "CmdID") {
    if (acc.cmdId !== undefined) throw duplicate(c, path);
    acc.cmdId = value(c, path);
    return true;
  }
  if (c.name === "NoResp") {
    acc.noResp = true;
    return true;
  }
  return false;
}

function cmdIdOf(acc: Common, path: Path): string {
  if (acc.cmdId === undefined) throw missing("CmdID", path);
  return acc.cmdId;
}

/** Add, Copy, Delete, Replace: (CmdID, NoResp?, Cred?, Meta?, Item+); Delete's Archive/SftDel are not DM. */
function readItemCommand(el: Element, kind: ItemCommand["kind"], path: Path): ItemCommand {
  const acc: Common = {};
  let cred: Cred | undefined;
  let meta: Meta | undefined;
  const items: Item[] = [];
  for (const c of el.children) {
    if (!isElement(c) || common(c, acc, path)) continue;
    switch (c.name) {
      case "Cred":
        if (cred !== undefined) throw duplicate(c, path);
        cred = readCred(c, path);
        break;
      case "Meta":
        if (meta !== undefined) throw duplicate(c, path);
        meta = readMeta(c, path);
        break;
      case "Item":
        items.push(readItem(c, path));
        break;
    }
  }
  const cmd: Mutable<ItemCommand> = { kind, cmdId: cmdIdOf(acc, path), items };
  if (acc.noResp) cmd.noResp = true;
  if (cred !== undefined) cmd.cred = cred;
  if (meta !== undefined) cmd.meta = meta;
  if (items.length === 0) throw missing("Item", path);
  return cmd;
}

/** Get: (CmdID, NoResp?, Lang?, Cred?, Meta?, Item+). */
function readGet(el: Element, path: Path): Get {
  const acc: Common = {};
  let lang: string | undefined;
  let cred: Cred | undefined;
  let meta: Meta | undefined;
  const items: Item[] = [];
  for (const c of el.children) {
    if (!isElement(c) || common(c, acc, path)) continue;
    switch (c.name) {
      case "Lang":
        if (lang !== undefined) throw duplicate(c, path);
        lang = value(c, path);
        break;
      case "Cred":
        if (cred !== undefined) throw duplicate(c, path);
        cred = readCred(c, path);
        break;
      case "Meta":
        if (meta !== undefined) throw duplicate(c, path);
        meta = readMeta(c, path);
        break;
      case "Item":
        items.push(readItem(c, path));
        break;
    }
  }
  const cmd: Mutable<Get> = { kind: "Get", cmdId: cmdIdOf(acc, path), items };
  if (acc.noResp) cmd.noResp = true;
  if (lang !== undefined) cmd.lang = lang;
  if (cred !== undefined) cmd.cred = cred;
  if (meta !== undefined) cmd.meta = meta;
  if (items.length === 0) throw missing("Item", path);
  return cmd;
}

/** Alert: (CmdID, NoResp?, Cred?, Data?, Correlator?, Item*). */
function readAlert(el: Element, path: Path): Alert {
  const acc: Common = {};
  let cred: Cred | undefined;
  let data: string | undefined;
  let correlator: string | undefined;
  const items: Item[] = [];
  for (const c of el.children) {
    if (!isElement(c) || common(c, acc, path)) continue;
    switch (c.name) {
      case "Cred":
        if (cred !== undefined) throw duplicate(c, path);
        cred = readCred(c, path);
        break;
      case "Data":
        if (data !== undefined) throw duplicate(c, path);
        data = value(c, path);
        break;
      case "Correlator":
        if (correlator !== undefined) throw duplicate(c, path);
        correlator = value(c, path);
        break;
      case "Item":
        items.push(readItem(c, path));
        break;
    }
  }
  const cmd: Mutable<Alert> = { kind: "Alert", cmdId: cmdIdOf(acc, path), items };
  if (acc.noResp) cmd.noResp = true;
  if (cred !== undefined) cmd.cred = cred;
  if (data !== undefined) cmd.data = data;
  if (correlator !== undefined) cmd.correlator = correlator;
  return cmd;
}

/** Exec: (CmdID, NoResp?, Cred?, Meta?, Correlator?, Item) — exactly one Item. */
function readExec(el: Element, path: Path): Exec {
  const acc: Common = {};
  let cred: Cred | undefined;
  let meta: Meta | undefined;
  let correlator: string | undefined;
  let item: Item | undefined;
  for (const c of el.children) {
    if (!isElement(c) || common(c, acc, path)) continue;
    switch (c.name) {
      case "Cred":
        if (cred !== undefined) throw duplicate(c, path);
        cred = readCred(c, path);
        break;
      case "Meta":
        if (meta !== undefined) throw duplicate(c, path);
        meta = readMeta(c, path);
        break;
      case "Correlator":
        if (correlator !== undefined) throw duplicate(c, path);
        correlator = value(c, path);
        break;
      case "Item":
        if (item !== undefined) throw duplicate(c, path);
        item = readItem(c, path);
        break;
    }
  }
  const cmdId = cmdIdOf(acc, path);
  if (item === undefined) throw missing("Item", path);
  const cmd: Mutable<Exec> = { kind: "Exec", cmdId, item };
  if (acc.noResp) cmd.noResp = true;
  if (cred !== undefined) cmd.cred = cred;
  if (meta !== undefined) cmd.meta = meta;
  if (correlator !== undefined) cmd.correlator = correlator;
  return cmd;
}

/**
 * Atomic, Sequence: (CmdID, NoResp?, Meta?, (Add | Alert | Atomic | Copy | Delete | Exec | Get |
 * Replace | Sequence)+). Whether a nested command is allowed to run (Get inside Atomic, say) is
 * the session engine's decision; the binding only refuses what cannot be nested at all.
 */
function readContainer(el: Element, kind: Container["kind"], path: Path): Container {
  const acc: Common = {};
  let meta: Meta | undefined;
  const commands: Command[] = [];
  for (const c of el.children) {
    if (!isElement(c) || common(c, acc, path)) continue;
    if (c.name === "Meta") {
      if (meta !== undefined) throw duplicate(c, path);
      meta = readMeta(c, path);
    } else commands.push(readCommand(c, childPath(path, c, true), true));
  }
  const cmd: Mutable<Container> = { kind, cmdId: cmdIdOf(acc, path), commands };
  if (acc.noResp) cmd.noResp = true;
  if (meta !== undefined) cmd.meta = meta;
  return cmd;
}

/** Status: (CmdID, MsgRef, CmdRef, Cmd, TargetRef*, SourceRef*, Cred?, Chal?, Data, Item*). */
function readStatus(el: Element, path: Path): Status {
  let cmdId: string | undefined;
  let msgRef: string | undefined;
  let cmdRef: string | undefined;
  let cmd: string | undefined;
  const targetRefs: string[] = [];
  const sourceRefs: string[] = [];
  let cred: Cred | undefined;
  let chal: Chal | undefined;
  let code: number | undefined;
  const items: Item[] = [];
  for (const c of el.children) {
    if (!isElement(c)) continue;
    switch (c.name) {
      case "CmdID":
        if (cmdId !== undefined) throw duplicate(c, path);
        cmdId = value(c, path);
        break;
      case "MsgRef":
        if (msgRef !== undefined) throw duplicate(c, path);
        msgRef = value(c, path);
        break;
      case "CmdRef":
        if (cmdRef !== undefined) throw duplicate(c, path);
        cmdRef = value(c, path);
        break;
      case "Cmd":
        if (cmd !== undefined) throw duplicate(c, path);
        cmd = value(c, path);
        break;
      case "TargetRef":
        targetRefs.push(value(c, path));
        break;
      case "SourceRef":
        sourceRefs.push(value(c, path));
        break;
      case "Cred":
        if (cred !== undefined) throw duplicate(c, path);
        cred = readCred(c, path);
        break;
      case "Chal":
        if (chal !== undefined) throw duplicate(c, path);
        chal = readChal(c, path);
        break;
      case "Data":
        if (code !== undefined) throw duplicate(c, path);
        code = count(c, path);
        break;
      case "Item":
        items.push(readItem(c, path));
        break;
    }
  }
  if (cmdId === undefined) throw missing("CmdID", path);
  if (msgRef === undefined) throw missing("MsgRef", path);
  if (cmd === undefined) throw missing("Cmd", path);
  if (cmdRef === undefined) {
    // The DM Protocol's own examples (§2.6.2.3–2.6.2.5) omit it for the header's status.
    if (cmd !== "SyncHdr") throw missing("CmdRef", path);
    cmdRef = "0";
  }
  if (code === undefined) throw missing("Data", path);
  const status: Mutable<Status> = {
    kind: "Status",
    cmdId,
    msgRef,
    cmdRef,
    cmd,
    targetRefs,
    sourceRefs,
    code,
    items,
  };
  if (cred !== undefined) status.cred = cred;
  if (chal !== undefined) status.chal = chal;
  return status;
}

/** Results: (CmdID, MsgRef?, CmdRef, Meta?, TargetRef?, SourceRef?, Item+). */
function readResults(el: Element, path: Path): Results {
  let cmdId: string | undefined;
  let msgRef: string | undefined;
  let cmdRef: string | undefined;
  let meta: Meta | undefined;
  let targetRef: string | undefined;
  let sourceRef: string | undefined;
  const items: Item[] = [];
  for (const c of el.children) {
    if (!isElement(c)) continue;
    switch (c.name) {
      case "CmdID":
        if (cmdId !== undefined) throw duplicate(c, path);
        cmdId = value(c, path);
        break;
      case "MsgRef":
        if (msgRef !== undefined) throw duplicate(c, path);
        msgRef = value(c, path);
        break;
      case "CmdRef":
        if (cmdRef !== undefined) throw duplicate(c, path);
        cmdRef = value(c, path);
        break;
      case "Meta":
        if (meta !== undefined) throw duplicate(c, path);
        meta = readMeta(c, path);
        break;
      case "TargetRef":
        if (targetRef !== undefined) throw duplicate(c, path);
        targetRef = value(c, path);
        break;
      case "SourceRef":
        if (sourceRef !== undefined) throw duplicate(c, path);
        sourceRef = value(c, path);
        break;
      case "Item":
        items.push(readItem(c, path));
        break;
    }
  }
  if (cmdId === undefined) throw missing("CmdID", path);
  if (cmdRef === undefined) throw missing("CmdRef", path);
  if (items.length === 0) throw missing("Item", path);
  const results: Mutable<Results> = { kind: "Results", cmdId, cmdRef, items };
  if (msgRef !== undefined) results.msgRef = msgRef;
  if (meta !== undefined) results.meta = meta;
  if (targetRef !== undefined) results.targetRef = targetRef;
  if (sourceRef !== undefined) results.sourceRef = sourceRef;
  return results;
}
