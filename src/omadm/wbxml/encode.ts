/**
 * Neutral element tree → WBXML 1.2 (WAP-192-WBXML §5; OMA-TS-SyncML_RepPro-V1_2 §8), UTF-8.
 *
 * - The public id follows the root's namespace: SyncML 1.2 0x1201, MetInf 1.2 0x1202, DevInf 1.2
 *   0x1203. SWITCH_PAGE is written whenever the next tag lives on another code page (MetInf
 *   elements inside a SyncML Meta are page 1).
 * - Strings of four or more characters that occur more than once go into the string table
 *   (§5.7, string-table.ts) and are written as STR_T references; every other string is written
 *   inline (STR_I).
 * - Uint8Array children are written as OPAQUE (§5.8.4.6).
 * - A DevInf element inside a SyncML `Data` is written as a complete DevInf 1.2 WBXML document in
 *   OPAQUE, which is how DevInf travels inside SyncML (the SyncML token space has no DevInf
 *   page); decode.ts turns it back into the element. The Meta Type announcing it is written as
 *   `application/vnd.syncml-devinf+wbxml` where the tree says `…+xml` (devinf-type.ts).
 * - Empty string children are dropped; an element without other children is written as an
 *   empty tag (no content bit).
 *
 * The input is our own tree, not untrusted bytes; still, what WBXML cannot express (an element
 * with no token, text containing U+0000) is refused with a ProtocolError naming the element path.
 */

import { ProtocolError } from "../errors.js";
import type { Element, Namespace } from "../model/element.js";
import { DEVINF_WBXML_TYPE, DEVINF_XML_TYPE, devInfTypes } from "./devinf-type.js";
import { StringTable } from "./string-table.js";
import { SYNCML_1_2, type Vocabulary, vocabularyForRoot } from "./tables.js";
import {
  CHARSET_UTF8,
  END,
  OPAQUE,
  STR_I,
  STR_T,
  SWITCH_PAGE,
  TAG_CONTENT,
  WBXML_1_2,
} from "./tokens.js";
import { utf8Length } from "./utf8.js";
import { ByteWriter } from "./writer.js";

/** Shorter strings cost about as much as an inline string as a table reference. */
const MIN_TABLE_STRING = 4;
/** Recursion guard for trees built in code (decoded trees are bounded by Limits.maxDepth). */
const MAX_ENCODE_DEPTH = 256;

/**
 * One scratch buffer and one string table reused across calls, so a message allocates little
 * beyond its result. An embedded DevInf document is encoded while the outer message holds
 * them, so it gets its own.
 */
let scratch: Uint8Array | undefined = new Uint8Array(8192);
let strings: StringTable | undefined = new StringTable();
/** A scratch buffer grown past this is not kept after the call. */
const MAX_KEPT_SCRATCH = 1 << 20;

export function encodeWbxml(root: Element): Uint8Array {
  const vocab = vocabularyForRoot(root.ns);
  if (!vocab) {
    throw new ProtocolError("WBXML_UNSUPPORTED", `no WBXML document type for namespace ${root.ns}`);
  }
  const lentBuffer = scratch;
  const lentTable = strings;
  scratch = undefined;
  strings = undefined;
  const w = new ByteWriter(lentBuffer ?? new Uint8Array(1024));
  const table = lentTable ?? new StringTable(64);
  table.reset();
  try {
    new Encoder(vocab, w, table).document(root);
    return w.finish();
  } finally {
    if (lentBuffer) scratch = w.buffer.length <= MAX_KEPT_SCRATCH ? w.buffer : lentBuffer;
    if (lentTable) strings = lentTable;
  }
}

class Encoder {
  private readonly vocab: Vocabulary;
  private readonly w: ByteWriter;
  /** Name → `page << 8 | token` per namespace; undefined where this document type has none. */
  private readonly syncml: ReadonlyMap<string, number> | undefined;
  private readonly metinf: ReadonlyMap<string, number> | undefined;
  private readonly devinf: ReadonlyMap<string, number> | undefined;
  private readonly table: StringTable;
  /** Whether any string went into the table (if not, no lookups are needed). */
  private tableUsed = false;
  private page = 0;
  /** Set by the counting pass when the tree holds DevInf to embed. */
  private embedsDevInf = false;
  /** Type elements whose `…devinf+xml` is written as `…devinf+wbxml` (devinf-type.ts). */
  private retype: Set<Element> | undefined;
  private root: Element | undefined;

  constructor(vocab: Vocabulary, w: ByteWriter, table: StringTable) {
    this.vocab = vocab;
    this.w = w;
    this.table = table;
    this.syncml = vocab.tokens.get("syncml");
    this.metinf = vocab.tokens.get("metinf");
    this.devinf = vocab.tokens.get("devinf");
  }

  document(root: Element): void {
    const w = this.w;
    this.root = root;
    this.countStrings(root, 0);
    if (this.embedsDevInf) {
      // Count what will be written, not what the tree says (rare: a second pass is fine).
      this.retype = new Set(devInfTypes(root, DEVINF_XML_TYPE));
      if (this.retype.size > 0) {
        this.table.reset();
        this.countStrings(root, 0);
      }
    }
    // §5.7: the repeated strings, each NUL-terminated, in order of first occurrence. Text with
    // U+0000 stays out, so that text() refuses it with its path.
    const table = this.table.layout(utf8Length, (s) => s.indexOf("\u0000") < 0);
    // §5.3 header: version, public id, charset, string table.
    w.u8(WBXML_1_2);
    w.mbUint32(this.vocab.publicId);
    w.mbUint32(CHARSET_UTF8);
    w.mbUint32(table.size);
    for (const s of table.strings) w.cstring(s);
    this.tableUsed = table.strings.length > 0;
    this.element(root);
  }

  /** Pass 1: counts the strings the body will write (embedded DevInf has its own table). */
  private countStrings(el: Element, depth: number): void {
    if (depth > MAX_ENCODE_DEPTH) {
      throw new ProtocolError("LIMIT_EXCEEDED", `elements nest deeper than ${MAX_ENCODE_DEPTH}`);
    }
    const children = el.children;
    for (let i = 0; i < children.length; i++) {
      const c = children[i]!;
      if (typeof c === "string") {
        const str = this.retype?.has(el) ? DEVINF_WBXML_TYPE : c;
        if (str.length >= MIN_TABLE_STRING) this.table.count(str);
      } else if (!(c instanceof Uint8Array)) {
        if (this.embedded(el, c)) this.embedsDevInf = true;
        else this.countStrings(c, depth + 1);
      }
    }
  }

  private element(el: Element): void {
    const w = this.w;
    const ns: Namespace = el.ns;
    const names = ns === "syncml" ? this.syncml : ns === "metinf" ? this.metinf : this.devinf;
    const packed = names?.get(el.name);
    if (packed === undefined) {
      throw this.fail(`<${el.name}> in namespace ${el.ns} has no WBXML token in this document`, el);
    }
    const page = packed >> 8;
    if (page !== this.page) {
      w.u8(SWITCH_PAGE);
      w.u8(page);
      this.page = page;
    }
    // Written with the content bit; if no child writes anything (no children, or only empty
    // strings) the bit is cleared again and no END follows: an empty tag (§5.8.2).
    const tagAt = w.length;
    w.u8((packed & 0xff) | TAG_CONTENT);
    const children = el.children;
    for (let i = 0; i < children.length; i++) {
      const c = children[i]!;
      if (typeof c === "string") {
        if (this.retype?.has(el)) this.text(DEVINF_WBXML_TYPE, el);
        else if (c !== "") this.text(c, el);
      } else if (c instanceof Uint8Array) {
        w.u8(OPAQUE);
        w.mbUint32(c.length);
        w.bytes(c);
      } else if (this.embedded(el, c)) {
        const doc = encodeWbxml(c);
        w.u8(OPAQUE);
        w.mbUint32(doc.length);
        w.bytes(doc);
      } else {
        this.element(c);
      }
    }
    if (w.length === tagAt + 1) w.setByte(tagAt, packed & 0xff);
    else w.u8(END);
  }

  private text(s: string, el: Element): void {
    const w = this.w;
    const offset = this.tableUsed && s.length >= MIN_TABLE_STRING ? this.table.offsetOf(s) : -1;
    if (offset >= 0) {
      w.u8(STR_T);
      w.mbUint32(offset);
      return;
    }
    w.u8(STR_I);
    // NUL terminates WBXML strings (§5.8.4.1), so text containing U+0000 has no encoding.
    if (!w.cstring(s)) throw this.fail("text contains U+0000, which WBXML cannot carry", el);
  }

  /** True for DevInf carried as an embedded document in a SyncML Data. */
  private embedded(parent: Element, child: Element): boolean {
    return (
      child.ns === "devinf" &&
      this.vocab === SYNCML_1_2 &&
      parent.ns === "syncml" &&
      parent.name === "Data"
    );
  }

  /** An error naming the path to `at`, found by searching from the root (errors are rare). */
  private fail(message: string, at: Element): ProtocolError {
    const path = this.root ? pathTo(this.root, at) : undefined;
    return new ProtocolError(
      "WBXML_UNSUPPORTED",
      message,
      path ? { path: path.map((e) => e.name).join("/") } : undefined,
    );
  }
}

function pathTo(from: Element, target: Element): Element[] | undefined {
  if (from === target) return [from];
  for (const c of from.children) {
    if (typeof c === "string" || c instanceof Uint8Array) continue;
    const below = pathTo(c, target);
    if (below) return [from, ...below];
  }
  return undefined;
}
