/**
 * Tag token tables of the three WBXML vocabularies OMA DM 1.2 uses, written from the
 * specifications and checked byte for byte against libwbxml (test/omadm/wbxml-interop.test.ts
 * encodes every name below with `xml2wbxml` and compares tokens):
 *
 * - SyncML 1.2 (OMA-TS-SyncML_RepPro-V1_2, §8 "WBXML Definition"): public id 0x1201, code page 0
 *   for SyncML elements, code page 1 for MetInf elements inside Meta.
 * - MetInf 1.2 (OMA-TS-SyncML_MetaInfo-V1_2, "WBXML Definition"): public id 0x1202 for a
 *   stand-alone MetInf document, whose tokens keep code page 1.
 * - DevInf 1.2 (OMA-TS-DS_DevInf-V1_2, "WBXML Definition"): public id 0x1203, its own code page 0.
 *   DevInf does not share SyncML's token space, so inside a SyncML message it travels as an
 *   embedded WBXML document in OPAQUE (see decode.ts / encode.ts).
 */
import type { Namespace } from "../model/element.js";
import { FIRST_TAG_ID, TAG_ID_MASK } from "./tokens.js";

type TokenList = ReadonlyArray<readonly [token: number, name: string]>;

/** SyncML 1.2 code page 0. 0x30 is reserved by RepPro and deliberately absent. */
const SYNCML_PAGE_0: TokenList = [
  [0x05, "Add"],
  [0x06, "Alert"],
  [0x07, "Archive"],
  [0x08, "Atomic"],
  [0x09, "Chal"],
  [0x0a, "Cmd"],
  [0x0b, "CmdID"],
  [0x0c, "CmdRef"],
  [0x0d, "Copy"],
  [0x0e, "Cred"],
  [0x0f, "Data"],
  [0x10, "Delete"],
  [0x11, "Exec"],
  [0x12, "Final"],
  [0x13, "Get"],
  [0x14, "Item"],
  [0x15, "Lang"],
  [0x16, "LocName"],
  [0x17, "LocURI"],
  [0x18, "Map"],
  [0x19, "MapItem"],
  [0x1a, "Meta"],
  [0x1b, "MsgID"],
  [0x1c, "MsgRef"],
  [0x1d, "NoResp"],
  [0x1e, "NoResults"],
  [0x1f, "Put"],
  [0x20, "Replace"],
  [0x21, "RespURI"],
  [0x22, "Results"],
  [0x23, "Search"],
  [0x24, "Sequence"],
  [0x25, "SessionID"],
  [0x26, "SftDel"],
  [0x27, "Source"],
  [0x28, "SourceRef"],
  [0x29, "Status"],
  [0x2a, "Sync"],
  [0x2b, "SyncBody"],
  [0x2c, "SyncHdr"],
  [0x2d, "SyncML"],
  [0x2e, "Target"],
  [0x2f, "TargetRef"],
  [0x31, "VerDTD"],
  [0x32, "VerProto"],
  [0x33, "NumberOfChanges"],
  [0x34, "MoreData"],
  [0x35, "Field"],
  [0x36, "Filter"],
  [0x37, "Record"],
  [0x38, "FilterType"],
  [0x39, "SourceParent"],
  [0x3a, "TargetParent"],
  [0x3b, "Move"],
  [0x3c, "Correlator"],
];

/** MetInf 1.2, code page 1 both inside SyncML 1.2 and in a stand-alone MetInf document. */
const METINF_PAGE_1: TokenList = [
  [0x05, "Anchor"],
  [0x06, "EMI"],
  [0x07, "Format"],
  [0x08, "FreeID"],
  [0x09, "FreeMem"],
  [0x0a, "Last"],
  [0x0b, "Mark"],
  [0x0c, "MaxMsgSize"],
  [0x0d, "Mem"],
  [0x0e, "MetInf"],
  [0x0f, "Next"],
  [0x10, "NextNonce"],
  [0x11, "SharedMem"],
  [0x12, "Size"],
  [0x13, "Type"],
  [0x14, "Version"],
  [0x15, "MaxObjSize"],
  [0x16, "FieldLevel"],
];

/** DevInf 1.2 code page 0. 0x2F is unassigned in DevInf 1.2. */
const DEVINF_PAGE_0: TokenList = [
  [0x05, "CTCap"],
  [0x06, "CTType"],
  [0x07, "DataStore"],
  [0x08, "DataType"],
  [0x09, "DevID"],
  [0x0a, "DevInf"],
  [0x0b, "DevTyp"],
  [0x0c, "DisplayName"],
  [0x0d, "DSMem"],
  [0x0e, "Ext"],
  [0x0f, "FwV"],
  [0x10, "HwV"],
  [0x11, "Man"],
  [0x12, "MaxGUIDSize"],
  [0x13, "MaxID"],
  [0x14, "MaxMem"],
  [0x15, "Mod"],
  [0x16, "OEM"],
  [0x17, "ParamName"],
  [0x18, "PropName"],
  [0x19, "Rx"],
  [0x1a, "Rx-Pref"],
  [0x1b, "SharedMem"],
  [0x1c, "MaxSize"],
  [0x1d, "SourceRef"],
  [0x1e, "SwV"],
  [0x1f, "SyncCap"],
  [0x20, "SyncType"],
  [0x21, "Tx"],
  [0x22, "Tx-Pref"],
  [0x23, "ValEnum"],
  [0x24, "VerCT"],
  [0x25, "VerDTD"],
  [0x26, "XNam"],
  [0x27, "XVal"],
  [0x28, "UTC"],
  [0x29, "SupportNumberOfChanges"],
  [0x2a, "SupportLargeObjs"],
  [0x2b, "Property"],
  [0x2c, "PropParam"],
  [0x2d, "MaxOccur"],
  [0x2e, "NoTruncate"],
  [0x30, "Filter-Rx"],
  [0x31, "FilterCap"],
  [0x32, "FilterKeyword"],
  [0x33, "FieldLevel"],
  [0x34, "SupportHierarchicalSync"],
];

/** One tag code page: the namespace its elements belong to and token id → element name. */
export interface CodePage {
  readonly page: number;
  readonly ns: Namespace;
  /** Indexed by tag identity (token & 0x3F); `undefined` where the page assigns nothing. */
  readonly names: ReadonlyArray<string | undefined>;
}

/** A WBXML document type: its public identifiers and tag code pages. */
export interface Vocabulary {
  /** WBXML well-known public identifier (§5.5, §7.2). */
  readonly publicId: number;
  /** SGML formal public identifier, used when the header carries the id in the string table. */
  readonly formalPublicId: string;
  /** Namespace of the root element of such a document. */
  readonly rootNs: Namespace;
  /** Indexed by code page number. */
  readonly pages: ReadonlyArray<CodePage | undefined>;
  /**
   * Namespace → element name → `page << 8 | tag identity`, for the namespaces this document
   * type can carry inline. A namespace missing here cannot appear in such a document's tokens.
   */
  readonly tokens: ReadonlyMap<Namespace, ReadonlyMap<string, number>>;
}

function codePage(page: number, ns: Namespace, list: TokenList): CodePage {
  const names: Array<string | undefined> = new Array(TAG_ID_MASK + 1).fill(undefined);
  for (const [token, name] of list) {
    if (token < FIRST_TAG_ID || token > TAG_ID_MASK || names[token] !== undefined) {
      throw new Error(`bad WBXML table entry ${name} 0x${token.toString(16)}`);
    }
    names[token] = name;
  }
  // `names` is left unfrozen (ReadonlyArray guards it at compile time): the decoder indexes it
  // for every tag, and V8 indexes a frozen array's elements about a tenth slower.
  return Object.freeze({ page, ns, names });
}

function vocabulary(
  publicId: number,
  formalPublicId: string,
  rootNs: Namespace,
  pageList: readonly CodePage[],
): Vocabulary {
  const pages: Array<CodePage | undefined> = [];
  const tokens = new Map<Namespace, Map<string, number>>();
  for (const cp of pageList) {
    pages[cp.page] = cp;
    let byName = tokens.get(cp.ns);
    if (!byName) {
      byName = new Map();
      tokens.set(cp.ns, byName);
    }
    cp.names.forEach((name, id) => {
      if (name !== undefined) byName.set(name, (cp.page << 8) | id);
    });
  }
  return Object.freeze({
    publicId,
    formalPublicId,
    rootNs,
    pages: Object.freeze(pages),
    tokens,
  });
}

const syncmlPage = codePage(0, "syncml", SYNCML_PAGE_0);
const metinfPage = codePage(1, "metinf", METINF_PAGE_1);
const devinfPage = codePage(0, "devinf", DEVINF_PAGE_0);

export const SYNCML_1_2: Vocabulary = vocabulary(
  0x1201,
  "-//SYNCML//DTD SyncML 1.2//EN",
  "syncml",
  [syncmlPage, metinfPage],
);
export const METINF_1_2: Vocabulary = vocabulary(
  0x1202,
  "-//SYNCML//DTD MetInf 1.2//EN",
  "metinf",
  [metinfPage],
);
export const DEVINF_1_2: Vocabulary = vocabulary(
  0x1203,
  "-//SYNCML//DTD DevInf 1.2//EN",
  "devinf",
  [devinfPage],
);

const VOCABULARIES: readonly Vocabulary[] = [SYNCML_1_2, METINF_1_2, DEVINF_1_2];

export function vocabularyByPublicId(id: number): Vocabulary | undefined {
  return VOCABULARIES.find((v) => v.publicId === id);
}

export function vocabularyByFormalPublicId(fpi: string): Vocabulary | undefined {
  return VOCABULARIES.find((v) => v.formalPublicId === fpi);
}

/** The document type an encoder uses for a tree whose root is in `ns`. */
export function vocabularyForRoot(ns: Namespace): Vocabulary | undefined {
  return VOCABULARIES.find((v) => v.rootNs === ns);
}

/** Every (namespace, name, page, token) the tables define; tests and tools iterate this. */
export function allTags(
  v: Vocabulary,
): Array<{ ns: Namespace; name: string; page: number; id: number }> {
  const out: Array<{ ns: Namespace; name: string; page: number; id: number }> = [];
  for (const cp of v.pages) {
    if (!cp) continue;
    cp.names.forEach((name, id) => {
      if (name !== undefined) out.push({ ns: cp.ns, name, page: cp.page, id });
    });
  }
  return out;
}
