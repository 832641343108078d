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
 * The bytes themselves, string table included, are written by `WbxmlWriter` (writer.ts), which
 * the message encoder (encode-message.ts) shares: this file walks the tree.
 *
 * The input is our own tree, not untrusted bytes; still, what WBXML cannot express (an element
 * with no token, text containing U+0000) is refused with a ProtocolError naming the element path.
 */

import { ProtocolError } from "../errors.js";
import type { Element } from "../model/element.js";
import { DEVINF_WBXML_TYPE, DEVINF_XML_TYPE, devInfTypes } from "./devinf-type.js";
import { SYNCML_1_2, type Vocabulary, vocabularyForRoot } from "./tables.js";
import { lendWriter, returnWriter, type WbxmlWriter } from "./writer.js";

/** Recursion guard for trees built in code (decoded trees are bounded by Limits.maxDepth). */
export const MAX_ENCODE_DEPTH = 256;

export function encodeWbxml(root: Element): Uint8Array {
  const vocab = vocabularyForRoot(root.ns);
  if (!vocab) {
    throw new ProtocolError("WBXML_UNSUPPORTED", `no WBXML document type for namespace ${root.ns}`);
  }
  const w = lendWriter();
  try {
    return new Encoder(vocab, w).document(root);
  } finally {
    returnWriter(w);
  }
}

/** Thrown inside the body pass to start it again, once: see `embedded`. */
const RESTART = Symbol("restart");

/** Walks an element tree, writing each element through a `WbxmlWriter`. */
class Encoder {
  private readonly vocab: Vocabulary;
  private readonly w: WbxmlWriter;
  /**
   * Type elements whose `…devinf+xml` is written as `…devinf+wbxml` (devinf-type.ts); found when
   * the first embedded DevInf is met, undefined before.
   */
  private retype: Set<Element> | undefined;
  private root: Element | undefined;

  constructor(vocab: Vocabulary, w: WbxmlWriter) {
    this.vocab = vocab;
    this.w = w;
  }

  document(root: Element): Uint8Array {
    this.root = root;
    for (;;) {
      this.w.reset();
      try {
        this.element(root, 0);
        break;
      } catch (e) {
        if (e !== RESTART) throw e;
      }
    }
    return this.w.assemble(this.vocab.publicId);
  }

  private element(el: Element, depth: number): void {
    if (depth > MAX_ENCODE_DEPTH) {
      throw new ProtocolError("LIMIT_EXCEEDED", `elements nest deeper than ${MAX_ENCODE_DEPTH}`);
    }
    const packed = this.vocab.tokens.get(el.ns)?.get(el.name);
    if (packed === undefined) {
      throw this.fail(`<${el.name}> in namespace ${el.ns} has no WBXML token in this document`, el);
    }
    const w = this.w;
    const tagAt = w.open(packed);
    const children = el.children;
    const retyped = this.retype?.has(el) === true;
    for (let i = 0; i < children.length; i++) {
      const c = children[i]!;
      if (typeof c === "string") {
        if (retyped) this.text(DEVINF_WBXML_TYPE, el);
        else if (c !== "") this.text(c, el);
      } else if (ArrayBuffer.isView(c) && c instanceof Uint8Array) {
        // isView first: a plain `instanceof` walks an element's prototype chain each time.
        w.opaque(c);
      } else if (c.ns === "devinf" && this.embedded(el)) {
        w.opaque(encodeWbxml(c));
      } else {
        this.element(c, depth + 1);
      }
    }
    w.close(tagAt);
  }

  private text(s: string, el: Element): void {
    if (!this.w.text(s)) throw this.fail("text contains U+0000, which WBXML cannot carry", el);
  }

  /**
   * True for DevInf carried as an embedded document in a SyncML Data (`parent`). The Meta Type
   * announcing it is written before the Data, so when the first such DevInf shows that a Type
   * must change, the body pass starts again with the Types known (rare: one more pass).
   */
  private embedded(parent: Element): boolean {
    if (!(this.vocab === SYNCML_1_2 && parent.ns === "syncml" && parent.name === "Data")) {
      return false;
    }
    if (this.retype === undefined && this.root !== undefined) {
      this.retype = new Set(devInfTypes(this.root, DEVINF_XML_TYPE));
      if (this.retype.size > 0) throw RESTART;
    }
    return true;
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
