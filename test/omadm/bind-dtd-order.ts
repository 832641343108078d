/**
 * An independent statement of the DTD content models (OMA-TS-DM_RepPro-V1_2 §6, OMA-TS-SyncML_
 * MetInf-V1_2) used to check what the writer emits: children in DTD order, single elements at most
 * once, MetInf content in the metinf namespace. Written from the specification, not from the
 * writer, so the two check each other.
 */
import { type Element, isElement } from "../../src/omadm/model/element.js";

const COMMANDS = [
  "Add",
  "Alert",
  "Atomic",
  "Copy",
  "Delete",
  "Exec",
  "Get",
  "Replace",
  "Sequence",
  "Status",
  "Results",
];
/** Stands for "one of the commands" in a content model. */
const CMD = "#command";

const MODELS: Record<string, readonly string[]> = {
  SyncML: ["SyncHdr", "SyncBody"],
  SyncHdr: [
    "VerDTD",
    "VerProto",
    "SessionID",
    "MsgID",
    "Target",
    "Source",
    "RespURI",
    "NoResp",
    "Cred",
    "Meta",
  ],
  SyncBody: [CMD, "Final"],
  Add: ["CmdID", "NoResp", "Cred", "Meta", "Item"],
  Copy: ["CmdID", "NoResp", "Cred", "Meta", "Item"],
  Delete: ["CmdID", "NoResp", "Cred", "Meta", "Item"],
  Replace: ["CmdID", "NoResp", "Cred", "Meta", "Item"],
  Get: ["CmdID", "NoResp", "Lang", "Cred", "Meta", "Item"],
  Alert: ["CmdID", "NoResp", "Cred", "Data", "Correlator", "Item"],
  Exec: ["CmdID", "NoResp", "Cred", "Meta", "Correlator", "Item"],
  Atomic: ["CmdID", "NoResp", "Meta", CMD],
  Sequence: ["CmdID", "NoResp", "Meta", CMD],
  Status: [
    "CmdID",
    "MsgRef",
    "CmdRef",
    "Cmd",
    "TargetRef",
    "SourceRef",
    "Cred",
    "Chal",
    "Data",
    "Item",
  ],
  Results: ["CmdID", "MsgRef", "CmdRef", "Meta", "TargetRef", "SourceRef", "Item"],
  Item: ["Target", "Source", "Meta", "Data", "MoreData"],
  Target: ["LocURI", "LocName"],
  Source: ["LocURI", "LocName"],
  Cred: ["Meta", "Data"],
  Chal: ["Meta"],
  Meta: [
    "Format",
    "Type",
    "Mark",
    "Size",
    "Anchor",
    "Version",
    "NextNonce",
    "MaxMsgSize",
    "MaxObjSize",
    "EMI",
    "Mem",
  ],
};

const REPEATABLE = new Set([CMD, "Item", "TargetRef", "SourceRef", "EMI"]);

/** Returns the DTD violations found under `el` (empty when the tree is DTD-ordered). */
export function dtdViolations(el: Element, path = el.name): string[] {
  const model = MODELS[el.name];
  if (model === undefined) return [];
  const out: string[] = [];
  let last = -1;
  let lastName = "";
  for (const c of el.children) {
    if (!isElement(c)) continue;
    const slot = COMMANDS.includes(c.name) && model.includes(CMD) ? CMD : c.name;
    const at = model.indexOf(slot);
    if (at === -1) out.push(`${path}: ${c.name} is not allowed here`);
    else if (at < last) out.push(`${path}: ${c.name} comes after ${lastName}`);
    else if (at === last && !REPEATABLE.has(slot)) out.push(`${path}: ${c.name} repeated`);
    const wantNs = el.name === "Meta" ? "metinf" : "syncml";
    if (c.ns !== wantNs) out.push(`${path}/${c.name}: namespace ${c.ns}, expected ${wantNs}`);
    last = Math.max(last, at);
    lastName = c.name;
    // Data content is opaque to the DTD (it may hold an embedded document).
    if (c.name !== "Data") out.push(...dtdViolations(c, `${path}/${c.name}`));
  }
  return out;
}
