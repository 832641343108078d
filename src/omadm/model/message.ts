/**
 * Typed SyncML DM 1.2 messages (OMA-TS-DM_RepPro-V1_2 §5–6, OMA-TS-SyncML_MetInf).
 * Plain readonly data: codecs build it, engines read it, nothing mutates it after construction.
 * Field order in each interface follows the DTD order the writer emits.
 */

/** MetInf (syncml:metinf) content of a Meta element; DTD order. */
export interface Meta {
  readonly format?: string;
  readonly type?: string;
  readonly mark?: string;
  readonly size?: number;
  readonly version?: string;
  /** Base64 text exactly as carried; decode with `Buffer.from(x, "base64")`. */
  readonly nextNonce?: string;
  readonly maxMsgSize?: number;
  readonly maxObjSize?: number;
  readonly emi?: readonly string[];
}

export interface Location {
  readonly locUri: string;
  readonly locName?: string;
}

export interface Cred {
  readonly meta?: Meta;
  readonly data: string;
}

export interface Chal {
  readonly meta: Meta;
}

/**
 * Item data: text, or bytes where WBXML carried opaque data. The XML writer emits bytes as
 * base64 text, which is how binary DM node values travel in XML (Format b64).
 */
export type ItemData = string | Uint8Array;

export interface Item {
  readonly target?: Location;
  readonly source?: Location;
  readonly meta?: Meta;
  readonly data?: ItemData;
  /** Large Object: more chunks of this item follow (OMA-TS-DM_Protocol, Large Object Handling). */
  readonly moreData?: boolean;
}

export interface SyncHdr {
  readonly verDTD: string;
  readonly verProto: string;
  readonly sessionId: string;
  readonly msgId: string;
  readonly target: Location;
  readonly source: Location;
  readonly respUri?: string;
  readonly noResp?: boolean;
  readonly cred?: Cred;
  readonly meta?: Meta;
}

interface CommandBase {
  readonly cmdId: string;
  readonly noResp?: boolean;
}

/** Add, Copy, Delete, Replace: the tree-changing commands with the same shape. */
export interface ItemCommand extends CommandBase {
  readonly kind: "Add" | "Copy" | "Delete" | "Replace";
  readonly cred?: Cred;
  readonly meta?: Meta;
  readonly items: readonly Item[];
}

export interface Get extends CommandBase {
  readonly kind: "Get";
  readonly lang?: string;
  readonly cred?: Cred;
  readonly meta?: Meta;
  readonly items: readonly Item[];
}

export interface Alert extends CommandBase {
  readonly kind: "Alert";
  readonly cred?: Cred;
  /** The alert code, e.g. 1200 server-initiated, 1201 client-initiated, 1222 more messages. */
  readonly data?: string;
  readonly correlator?: string;
  readonly items: readonly Item[];
}

export interface Exec extends CommandBase {
  readonly kind: "Exec";
  readonly cred?: Cred;
  readonly meta?: Meta;
  readonly correlator?: string;
  readonly item: Item;
}

/** Atomic and Sequence hold nested commands; Atomic is all-or-nothing. */
export interface Container extends CommandBase {
  readonly kind: "Atomic" | "Sequence";
  readonly meta?: Meta;
  readonly commands: readonly Command[];
}

export interface Status {
  readonly kind: "Status";
  readonly cmdId: string;
  readonly msgRef: string;
  /** "0" for the status of the SyncHdr. */
  readonly cmdRef: string;
  readonly cmd: string;
  readonly targetRefs: readonly string[];
  readonly sourceRefs: readonly string[];
  readonly cred?: Cred;
  readonly chal?: Chal;
  /** The status code as a number (200, 212, 401, …). */
  readonly code: number;
  readonly items: readonly Item[];
}

export interface Results {
  readonly kind: "Results";
  readonly cmdId: string;
  readonly msgRef?: string;
  readonly cmdRef: string;
  readonly meta?: Meta;
  readonly targetRef?: string;
  readonly sourceRef?: string;
  readonly items: readonly Item[];
}

export type Command = ItemCommand | Get | Alert | Exec | Container | Status | Results;
export type CommandKind = Command["kind"];

export interface SyncBody {
  readonly commands: readonly Command[];
  /** `<Final/>`: the last message of a package. */
  readonly final: boolean;
}

export interface SyncMLMessage {
  readonly header: SyncHdr;
  readonly body: SyncBody;
}

/** The wire encodings of a DM message. */
export type Encoding = "xml" | "wbxml";
