/**
 * SyncHdr and Status construction shared by both engines (OMA-TS-DM_Protocol §2.3 packages,
 * OMA-TS-DM_RepPro §6.1.12 SyncHdr, §6.6.11 Status).
 */
import type {
  Chal,
  Command,
  Cred,
  Item,
  Location,
  Meta,
  Status,
  SyncHdr,
} from "../model/message.js";

export const VER_DTD = "1.2";
export const VER_PROTO = "DM/1.2";

export interface HeaderFields {
  readonly sessionId: string;
  readonly msgId: number;
  readonly target: Location;
  readonly source: Location;
  readonly respUri?: string | undefined;
  readonly cred?: Cred | undefined;
  readonly maxMsgSize?: number | undefined;
  readonly maxObjSize?: number | undefined;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

// The builders below assign optional fields one by one rather than spreading conditional
// objects: they run for every message and every command answered, and spreads of small
// temporary objects were a visible share of a session's time.

export function makeHeader(f: HeaderFields): SyncHdr {
  const hdr: Mutable<SyncHdr> = {
    verDTD: VER_DTD,
    verProto: VER_PROTO,
    sessionId: f.sessionId,
    msgId: String(f.msgId),
    target: f.target,
    source: f.source,
  };
  if (f.respUri) hdr.respUri = f.respUri;
  if (f.cred) hdr.cred = f.cred;
  if (f.maxMsgSize !== undefined || f.maxObjSize !== undefined) {
    const meta: Mutable<Meta> = {};
    if (f.maxMsgSize !== undefined) meta.maxMsgSize = f.maxMsgSize;
    if (f.maxObjSize !== undefined) meta.maxObjSize = f.maxObjSize;
    hdr.meta = meta;
  }
  return hdr;
}

export type StatusDraft = Omit<Status, "cmdId">;

const NO_EXTRA: { chal?: Chal | undefined; cred?: Cred | undefined } = {};

/** Status for the peer's SyncHdr: CmdRef 0, Cmd SyncHdr, refs to the header's Target/Source. */
export function headerStatus(
  hdr: SyncHdr,
  code: number,
  extra: { chal?: Chal | undefined; cred?: Cred | undefined } = NO_EXTRA,
): StatusDraft {
  // Fields in the order the model lists them, as the spread-built drafts had them.
  const st: Partial<Mutable<StatusDraft>> = {
    kind: "Status",
    msgRef: hdr.msgId,
    cmdRef: "0",
    cmd: "SyncHdr",
    targetRefs: [hdr.target.locUri],
    sourceRefs: [hdr.source.locUri],
  };
  if (extra.cred) st.cred = extra.cred;
  if (extra.chal) st.chal = extra.chal;
  st.code = code;
  st.items = [];
  return st as StatusDraft;
}

/** What a command without items refers to: nothing. */
const NO_ITEMS: readonly Item[] = Object.freeze([]);

function refsOf(items: readonly Item[], side: "target" | "source"): string[] {
  const out: string[] = [];
  for (const it of items) {
    const uri = it[side]?.locUri;
    if (uri !== undefined) out.push(uri);
  }
  return out;
}

/** Status for one received command, TargetRef/SourceRef taken from the given items. */
export function commandStatus(
  msgRef: string,
  cmd: Command,
  code: number,
  extra?: { items?: readonly Item[]; refItems?: readonly Item[]; chal?: Chal | undefined },
): StatusDraft {
  const refItems =
    extra?.refItems ?? ("items" in cmd ? cmd.items : "item" in cmd ? [cmd.item] : NO_ITEMS);
  const isAlert = cmd.kind === "Alert";
  const st: Partial<Mutable<StatusDraft>> = {
    kind: "Status",
    msgRef,
    cmdRef: cmd.cmdId,
    cmd: cmd.kind,
    targetRefs: isAlert ? [] : refsOf(refItems, "target"),
    sourceRefs: isAlert ? [] : refsOf(refItems, "source"),
  };
  if (extra?.chal) st.chal = extra.chal;
  st.code = code;
  st.items = extra?.items ?? [];
  return st as StatusDraft;
}

/** Whether the peer expects a Status for this command (not for Status, Results, or NoResp). */
export function wantsStatus(cmd: Command): boolean {
  return cmd.kind !== "Status" && cmd.kind !== "Results" && !cmd.noResp;
}

/** The alert code of an Alert, as a number (NaN when absent or not numeric). */
export function alertCode(cmd: Command): number {
  return cmd.kind === "Alert" ? Number(cmd.data ?? Number.NaN) : Number.NaN;
}

export function alertDraft(
  code: number,
  items: readonly Item[] = [],
): {
  kind: "Alert";
  data: string;
  items: readonly Item[];
} {
  return { kind: "Alert", data: String(code), items };
}
