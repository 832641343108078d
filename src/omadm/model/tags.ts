/**
 * The elements the binding writes, by number. The writing half of the binding names each element
 * it emits by one of these; a sink turns the number into what its output needs (an element name
 * and namespace for the tree, a tag token for WBXML) by indexing an array, not by a name lookup.
 */
import type { Namespace } from "./element.js";

/** [name, namespace] of each tag number, in number order. */
const TAGS = [
  ["SyncML", "syncml"],
  ["SyncHdr", "syncml"],
  ["SyncBody", "syncml"],
  ["VerDTD", "syncml"],
  ["VerProto", "syncml"],
  ["SessionID", "syncml"],
  ["MsgID", "syncml"],
  ["Target", "syncml"],
  ["Source", "syncml"],
  ["RespURI", "syncml"],
  ["NoResp", "syncml"],
  ["Cred", "syncml"],
  ["Meta", "syncml"],
  ["Final", "syncml"],
  ["CmdID", "syncml"],
  ["Lang", "syncml"],
  ["Data", "syncml"],
  ["Correlator", "syncml"],
  ["Item", "syncml"],
  ["Chal", "syncml"],
  ["MsgRef", "syncml"],
  ["CmdRef", "syncml"],
  ["Cmd", "syncml"],
  ["TargetRef", "syncml"],
  ["SourceRef", "syncml"],
  ["LocURI", "syncml"],
  ["LocName", "syncml"],
  ["MoreData", "syncml"],
  ["Add", "syncml"],
  ["Copy", "syncml"],
  ["Delete", "syncml"],
  ["Replace", "syncml"],
  ["Get", "syncml"],
  ["Alert", "syncml"],
  ["Exec", "syncml"],
  ["Atomic", "syncml"],
  ["Sequence", "syncml"],
  ["Status", "syncml"],
  ["Results", "syncml"],
  ["Format", "metinf"],
  ["Type", "metinf"],
  ["Mark", "metinf"],
  ["Size", "metinf"],
  ["Version", "metinf"],
  ["NextNonce", "metinf"],
  ["MaxMsgSize", "metinf"],
  ["MaxObjSize", "metinf"],
  ["EMI", "metinf"],
] as const satisfies ReadonlyArray<readonly [string, Namespace]>;

type TagName = (typeof TAGS)[number][0];

/** Tag number by element name: `Tag.CmdID`. */
export const Tag: Readonly<Record<TagName, number>> = Object.freeze(
  Object.fromEntries(TAGS.map(([name], i) => [name, i])) as Record<TagName, number>,
);

/** Element name of each tag number. */
export const TAG_NAMES: readonly string[] = TAGS.map(([name]) => name);
/** Namespace of each tag number. */
export const TAG_NS: readonly Namespace[] = TAGS.map(([, ns]) => ns);
