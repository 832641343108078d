/**
 * Elements → typed message: the reading half of the binding (OMA-TS-DM_RepPro-V1_2 §5–6,
 * OMA-TS-SyncML_MetInf-V1_2), read through a cursor (cursor.ts) over an element tree
 * (`toMessage`) or over WBXML tokens (wbxml/decode-message.ts, `readMessage`). Reading is
 * tolerant where deployed peers differ from the DTD and strict where a wrong guess would change
 * meaning:
 * - child order is free (the DM Protocol §2.6 examples write Status as MsgRef, CmdRef, CmdID);
 * - leaf values are trimmed of XML whitespace, except Item Data, which is kept verbatim;
 * - a SyncHdr Status without CmdRef refers to command "0", the header (RepPro §6.6.10 / §2.6);
 * - unknown elements in SyncHdr, commands, Items and Meta are ignored;
 * - a missing required element, a duplicated single element, or an unknown command in SyncBody
 *   is SYNCML_INVALID with the element path, since no answer to such a message can be right.
 * Data holding child elements (an XML document such as DevInf carried inline) becomes the XML
 * text of that content, so it survives whichever codec carried it.
 */
import { invalid, type Path, rootPath } from "./bind-path.js";
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
import { ElementCursor } from "./cursor.js";
import type { Element } from "./element.js";
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
  if (root.name !== "SyncML" || root.ns !== "syncml") {
    throw invalid(`root element is ${root.name}, not SyncML (SYNCML:SYNCML1.2)`, rootPath(root));
  }
  const cur = new ElementCursor(root);
  cur.next();
  return readMessage(cur);
}

/**
 * The message whose root element the cursor is at; the caller has checked that it is SyncML in
 * the SyncML namespace.
 */
export function readMessage(cur: ElementCursor): SyncMLMessage {
  const path = cur.enter(undefined);
  let header: SyncHdr | undefined;
  let body: SyncBody | undefined;
  while (cur.next()) {
    const name = cur.name;
    if (name === "SyncHdr") {
      if (header !== undefined) throw duplicate(cur, path);
      header = readHeader(cur, cur.enter(path));
    } else if (name === "SyncBody") {
      if (body !== undefined) throw duplicate(cur, path);
      body = readBody(cur, cur.enter(path));
    }
  }
  if (header === undefined) throw missing("SyncHdr", path);
  if (body === undefined) throw missing("SyncBody", path);
  return { header, body };
}

/** SyncHdr (VerDTD, VerProto, SessionID, MsgID, Target, Source, RespURI?, NoResp?, Cred?, Meta?). */
function readHeader(cur: ElementCursor, path: Path): SyncHdr {
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
  while (cur.next()) {
    switch (cur.name) {
      case "VerDTD":
        if (verDTD !== undefined) throw duplicate(cur, path);
        verDTD = value(cur, path);
        break;
      case "VerProto":
        if (verProto !== undefined) throw duplicate(cur, path);
        verProto = value(cur, path);
        break;
      case "SessionID":
        if (sessionId !== undefined) throw duplicate(cur, path);
        sessionId = value(cur, path);
        break;
      case "MsgID":
        if (msgId !== undefined) throw duplicate(cur, path);
        msgId = value(cur, path);
        break;
      case "Target":
        if (target !== undefined) throw duplicate(cur, path);
        target = readLocation(cur, path);
        break;
      case "Source":
        if (source !== undefined) throw duplicate(cur, path);
        source = readLocation(cur, path);
        break;
      case "RespURI":
        if (respUri !== undefined) throw duplicate(cur, path);
        respUri = value(cur, path);
        break;
      case "NoResp":
        noResp = true;
        break;
      case "Cred":
        if (cred !== undefined) throw duplicate(cur, path);
        cred = readCred(cur, path);
        break;
      case "Meta":
        if (meta !== undefined) throw duplicate(cur, path);
        meta = readMeta(cur, path);
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

function readBody(cur: ElementCursor, path: Path): SyncBody {
  const commands: Command[] = [];
  let final = false;
  while (cur.next()) {
    const name = cur.name;
    if (name === "Final") final = true;
    else commands.push(readCommand(cur, name, cur.enter(path, true), false));
  }
  return { commands, final };
}

/** Command `name`, entered at `path`. */
function readCommand(cur: ElementCursor, name: string, path: Path, nested: boolean): Command {
  switch (name) {
    case "Add":
    case "Copy":
    case "Delete":
    case "Replace":
      return readItemCommand(cur, name, path);
    case "Get":
      return readGet(cur, path);
    case "Alert":
      return readAlert(cur, path);
    case "Exec":
      return readExec(cur, path);
    case "Atomic":
    case "Sequence":
      return readContainer(cur, name, path);
    case "Status":
      if (nested) break;
      return readStatus(cur, path);
    case "Results":
      if (nested) break;
      return readResults(cur, path);
  }
  const where = nested ? `in ${path.up!.el.name}` : "in SyncBody";
  throw invalid(`${name} is not an OMA DM 1.2 command ${where}`, path);
}

/** Fields every command may carry first: CmdID, NoResp? (RepPro §6.6). */
interface Common {
  cmdId?: string;
  noResp?: true;
}

/** Reads CmdID and NoResp; returns false for any other child, for the caller to handle. */
function common(cur: ElementCursor, acc: Common, path: Path): boolean {
  const name = cur.name;
  if (name === "CmdID") {
    if (acc.cmdId !== undefined) throw duplicate(cur, path);
    acc.cmdId = value(cur, path);
    return true;
  }
  if (name === "NoResp") {
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
function readItemCommand(cur: ElementCursor, kind: ItemCommand["kind"], path: Path): ItemCommand {
  const acc: Common = {};
  let cred: Cred | undefined;
  let meta: Meta | undefined;
  const items: Item[] = [];
  while (cur.next()) {
    if (common(cur, acc, path)) continue;
    switch (cur.name) {
      case "Cred":
        if (cred !== undefined) throw duplicate(cur, path);
        cred = readCred(cur, path);
        break;
      case "Meta":
        if (meta !== undefined) throw duplicate(cur, path);
        meta = readMeta(cur, path);
        break;
      case "Item":
        items.push(readItem(cur, path));
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
function readGet(cur: ElementCursor, path: Path): Get {
  const acc: Common = {};
  let lang: string | undefined;
  let cred: Cred | undefined;
  let meta: Meta | undefined;
  const items: Item[] = [];
  while (cur.next()) {
    if (common(cur, acc, path)) continue;
    switch (cur.name) {
      case "Lang":
        if (lang !== undefined) throw duplicate(cur, path);
        lang = value(cur, path);
        break;
      case "Cred":
        if (cred !== undefined) throw duplicate(cur, path);
        cred = readCred(cur, path);
        break;
      case "Meta":
        if (meta !== undefined) throw duplicate(cur, path);
        meta = readMeta(cur, path);
        break;
      case "Item":
        items.push(readItem(cur, path));
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
function readAlert(cur: ElementCursor, path: Path): Alert {
  const acc: Common = {};
  let cred: Cred | undefined;
  let data: string | undefined;
  let correlator: string | undefined;
  const items: Item[] = [];
  while (cur.next()) {
    if (common(cur, acc, path)) continue;
    switch (cur.name) {
      case "Cred":
        if (cred !== undefined) throw duplicate(cur, path);
        cred = readCred(cur, path);
        break;
      case "Data":
        if (data !== undefined) throw duplicate(cur, path);
        data = value(cur, path);
        break;
      case "Correlator":
        if (correlator !== undefined) throw duplicate(cur, path);
        correlator = value(cur, path);
        break;
      case "Item":
        items.push(readItem(cur, path));
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
function readExec(cur: ElementCursor, path: Path): Exec {
  const acc: Common = {};
  let cred: Cred | undefined;
  let meta: Meta | undefined;
  let correlator: string | undefined;
  let item: Item | undefined;
  while (cur.next()) {
    if (common(cur, acc, path)) continue;
    switch (cur.name) {
      case "Cred":
        if (cred !== undefined) throw duplicate(cur, path);
        cred = readCred(cur, path);
        break;
      case "Meta":
        if (meta !== undefined) throw duplicate(cur, path);
        meta = readMeta(cur, path);
        break;
      case "Correlator":
        if (correlator !== undefined) throw duplicate(cur, path);
        correlator = value(cur, path);
        break;
      case "Item":
        if (item !== undefined) throw duplicate(cur, path);
        item = readItem(cur, path);
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
function readContainer(cur: ElementCursor, kind: Container["kind"], path: Path): Container {
  const acc: Common = {};
  let meta: Meta | undefined;
  const commands: Command[] = [];
  while (cur.next()) {
    if (common(cur, acc, path)) continue;
    const name = cur.name;
    if (name === "Meta") {
      if (meta !== undefined) throw duplicate(cur, path);
      meta = readMeta(cur, path);
    } else commands.push(readCommand(cur, name, cur.enter(path, true), true));
  }
  const cmd: Mutable<Container> = { kind, cmdId: cmdIdOf(acc, path), commands };
  if (acc.noResp) cmd.noResp = true;
  if (meta !== undefined) cmd.meta = meta;
  return cmd;
}

/** Status: (CmdID, MsgRef, CmdRef, Cmd, TargetRef*, SourceRef*, Cred?, Chal?, Data, Item*). */
function readStatus(cur: ElementCursor, path: Path): Status {
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
  while (cur.next()) {
    switch (cur.name) {
      case "CmdID":
        if (cmdId !== undefined) throw duplicate(cur, path);
        cmdId = value(cur, path);
        break;
      case "MsgRef":
        if (msgRef !== undefined) throw duplicate(cur, path);
        msgRef = value(cur, path);
        break;
      case "CmdRef":
        if (cmdRef !== undefined) throw duplicate(cur, path);
        cmdRef = value(cur, path);
        break;
      case "Cmd":
        if (cmd !== undefined) throw duplicate(cur, path);
        cmd = value(cur, path);
        break;
      case "TargetRef":
        targetRefs.push(value(cur, path));
        break;
      case "SourceRef":
        sourceRefs.push(value(cur, path));
        break;
      case "Cred":
        if (cred !== undefined) throw duplicate(cur, path);
        cred = readCred(cur, path);
        break;
      case "Chal":
        if (chal !== undefined) throw duplicate(cur, path);
        chal = readChal(cur, path);
        break;
      case "Data":
        if (code !== undefined) throw duplicate(cur, path);
        code = count(cur, path);
        break;
      case "Item":
        items.push(readItem(cur, path));
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
function readResults(cur: ElementCursor, path: Path): Results {
  let cmdId: string | undefined;
  let msgRef: string | undefined;
  let cmdRef: string | undefined;
  let meta: Meta | undefined;
  let targetRef: string | undefined;
  let sourceRef: string | undefined;
  const items: Item[] = [];
  while (cur.next()) {
    switch (cur.name) {
      case "CmdID":
        if (cmdId !== undefined) throw duplicate(cur, path);
        cmdId = value(cur, path);
        break;
      case "MsgRef":
        if (msgRef !== undefined) throw duplicate(cur, path);
        msgRef = value(cur, path);
        break;
      case "CmdRef":
        if (cmdRef !== undefined) throw duplicate(cur, path);
        cmdRef = value(cur, path);
        break;
      case "Meta":
        if (meta !== undefined) throw duplicate(cur, path);
        meta = readMeta(cur, path);
        break;
      case "TargetRef":
        if (targetRef !== undefined) throw duplicate(cur, path);
        targetRef = value(cur, path);
        break;
      case "SourceRef":
        if (sourceRef !== undefined) throw duplicate(cur, path);
        sourceRef = value(cur, path);
        break;
      case "Item":
        items.push(readItem(cur, path));
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
