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

export function makeHeader(f: HeaderFields): SyncHdr {
  const meta: Meta | undefined =
    f.maxMsgSize !== undefined || f.maxObjSize !== undefined
      ? {
          ...(f.maxMsgSize !== undefined ? { maxMsgSize: f.maxMsgSize } : {}),
          ...(f.maxObjSize !== undefined ? { maxObjSize: f.maxObjSize } : {}),
        }
      : undefined;
  return {
    verDTD: VER_DTD,
    verProto: VER_PROTO,
    sessionId: f.sessionId,
    msgId: String(f.msgId),
    target: f.target,
    source: f.source,
    ...(f.respUri ? { respUri: f.respUri } : {}),
    ...(f.cred ? { cred: f.cred } : {}),
    ...(meta ? { meta } : {}),
  };
}

export type StatusDraft = Omit<Status, "cmdId">;

/** Status for the peer's SyncHdr: CmdRef 0, Cmd SyncHdr, refs to the header's Target/Source. */
export function headerStatus(
  hdr: SyncHdr,
  code: number,
  extra: { chal?: Chal | undefined; cred?: Cred | undefined } = {},
): StatusDraft {
  return {
    kind: "Status",
    msgRef: hdr.msgId,
    cmdRef: "0",
    cmd: "SyncHdr",
    targetRefs: [hdr.target.locUri],
    sourceRefs: [hdr.source.locUri],
    ...(extra.cred ? { cred: extra.cred } : {}),
    ...(extra.chal ? { chal: extra.chal } : {}),
    code,
    items: [],
  };
}

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
  extra: { items?: readonly Item[]; refItems?: readonly Item[]; chal?: Chal | undefined } = {},
): StatusDraft {
  const refItems = extra.refItems ?? ("items" in cmd ? cmd.items : "item" in cmd ? [cmd.item] : []);
  const isAlert = cmd.kind === "Alert";
  return {
    kind: "Status",
    msgRef,
    cmdRef: cmd.cmdId,
    cmd: cmd.kind,
    targetRefs: isAlert ? [] : refsOf(refItems, "target"),
    sourceRefs: isAlert ? [] : refsOf(refItems, "source"),
    ...(extra.chal ? { chal: extra.chal } : {}),
    code,
    items: extra.items ?? [],
  };
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
