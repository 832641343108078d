/**
 * WBXML → neutral element tree (WAP-192-WBXML 1.3 §5, as OMA-TS-SyncML_RepPro-V1_2 §8 and
 * OMA-TS-DM_RepPro-V1_2 use it). Accepts WBXML 1.1–1.3 documents of SyncML 1.2 (0x1201),
 * MetInf 1.2 (0x1202) and DevInf 1.2 (0x1203), UTF-8 only.
 *
 * Choices for input the SyncML vocabularies never produce:
 * - attributes (SyncML defines none) and processing instructions are parsed and dropped;
 * - EXT_* extension tokens have no meaning in these vocabularies: WBXML_UNSUPPORTED;
 * - literal tags (LITERAL*, a string-table name) are accepted when the name is one of the
 *   vocabulary's elements, and refused otherwise;
 * - adjacent STR_I / STR_T / ENTITY pieces become one string child; OPAQUE becomes a Uint8Array
 *   child (a copy, so the tree never aliases the caller's buffer);
 * - embedded DevInf: real clients send DevInf inside SyncML as a complete WBXML DevInf 1.2
 *   document in OPAQUE (a SyncML document has no DevInf code page; libwbxml does the same).
 *   OPAQUE directly inside a SyncML `Data` whose bytes start with a DevInf 1.2 header and parse
 *   completely as one becomes the nested DevInf element; bytes that do not parse stay bytes,
 *   so binary node values are never mistaken for markup. Limits still apply across both. The
 *   Meta Type announcing it, `application/vnd.syncml-devinf+wbxml`, becomes `…+xml` in the tree
 *   (devinf-type.ts), which is what the tree now holds.
 *
 * Limits (errors.ts): the message size, the nesting depth and the element count; and, against
 * string-table amplification (one table entry referenced many times), the decoded characters
 * and opaque bytes together may not exceed `maxBytes` either.
 */

import { DEFAULT_LIMITS, type Limits, ProtocolError } from "../errors.js";
import { type Content, childrenOf, type Element, type Namespace } from "../model/element.js";
import { DEVINF_WBXML_TYPE, DEVINF_XML_TYPE, devInfTypes } from "./devinf-type.js";
import { WbxmlReader } from "./reader.js";
import {
  DEVINF_1_2,
  SYNCML_1_2,
  type Vocabulary,
  vocabularyByFormalPublicId,
  vocabularyByPublicId,
} from "./tables.js";
import {
  CHARSET_UTF8,
  END,
  ENTITY,
  EXT_I_0,
  EXT_I_2,
  EXT_T_0,
  EXT_T_2,
  FIRST_TAG_ID,
  LITERAL,
  LITERAL_A,
  LITERAL_AC,
  LITERAL_C,
  OPAQUE,
  PI,
  STR_I,
  STR_T,
  SWITCH_PAGE,
  TAG_ATTRIBUTES,
  TAG_CONTENT,
  TAG_ID_MASK,
  WBXML_1_1,
  WBXML_1_3,
} from "./tokens.js";
import { asciiString, decodeUtf8 } from "./utf8.js";

/** What is left of the limits, shared by a message and the documents embedded in it. */
interface Budget {
  elements: number;
  textBytes: number;
}

/**
 * The decoder's working stacks: children waiting for their element's END, and the name,
 * namespace and first child of each open element. They only grow, and are reused from message
 * to message; a document embedded in OPAQUE is decoded while its container holds them, so it
 * gets its own.
 */
interface Stacks {
  readonly content: Content[];
  readonly openNames: string[];
  readonly openNs: Namespace[];
  readonly openStarts: number[];
}

function newStacks(): Stacks {
  return { content: [], openNames: [], openNs: [], openStarts: [] };
}

let pooledStacks: Stacks | undefined = newStacks();
/** Stacks grown past this (a message of very many elements) are not kept after the call. */
const MAX_KEPT_STACK = 4096;

/**
 * Decodes one WBXML document. Throws ProtocolError only: WBXML_MALFORMED or WBXML_UNSUPPORTED
 * with the byte offset, or LIMIT_EXCEEDED.
 */
export function decodeWbxml(bytes: Uint8Array, limits?: Partial<Limits>): Element {
  if (!(bytes instanceof Uint8Array)) {
    throw new ProtocolError("WBXML_MALFORMED", "WBXML input must be bytes", { offset: 0 });
  }
  const lim = resolveLimits(limits);
  if (bytes.length > lim.maxBytes) {
    throw new ProtocolError(
      "LIMIT_EXCEEDED",
      `WBXML message of ${bytes.length} bytes exceeds the limit of ${lim.maxBytes}`,
      { offset: lim.maxBytes },
    );
  }
  const budget: Budget = { elements: lim.maxElements, textBytes: lim.maxBytes };
  const lent = pooledStacks;
  pooledStacks = undefined;
  const stacks = lent ?? newStacks();
  const decoder = new Decoder(new WbxmlReader(bytes, 0), lim.maxDepth, 0, budget, stacks);
  let root: Element;
  try {
    root = decoder.document();
  } finally {
    if (lent) {
      const c = stacks.content;
      // Let go of this message's content, so that the pool does not keep its tree alive.
      if (c.length > MAX_KEPT_STACK || stacks.openNames.length > MAX_KEPT_STACK) {
        pooledStacks = newStacks();
      } else {
        c.fill("");
        pooledStacks = lent;
      }
    }
  }
  if (decoder.embeddedDevInf) {
    // The tree holds DevInf as an element, so the Type announcing it names the XML form.
    for (const type of devInfTypes(root, DEVINF_WBXML_TYPE)) {
      type.children.splice(0, type.children.length, DEVINF_XML_TYPE);
    }
  }
  return root;
}

class Decoder {
  private readonly r: WbxmlReader;
  private readonly maxDepth: number;
  /** Depth of the element an embedded document sits in (0 for the message itself). */
  private readonly depthBase: number;
  private readonly budget: Budget;
  private vocab: Vocabulary = SYNCML_1_2;
  private tableStart = 0;
  private tableEnd = 0;
  private tableCache: Map<number, string> | undefined;
  private readonly stacks: Stacks;
  /** Set when an OPAQUE was decoded as an embedded DevInf document. */
  embeddedDevInf = false;

  constructor(r: WbxmlReader, maxDepth: number, depthBase: number, budget: Budget, stacks: Stacks) {
    this.r = r;
    this.maxDepth = maxDepth;
    this.depthBase = depthBase;
    this.budget = budget;
    this.stacks = stacks;
  }

  /** §5.3: start = version publicid charset strtbl body. */
  document(): Element {
    const r = this.r;
    const version = r.u8("the WBXML version");
    // WBXML 1.0 has no charset field; SyncML requires 1.1 or later.
    if (version < WBXML_1_1 || version > WBXML_1_3) {
      throw r.error(
        "WBXML_UNSUPPORTED",
        `WBXML version byte 0x${hex(version)} (supported: 1.1–1.3)`,
        0,
      );
    }
    const publicIdAt = r.pos;
    const publicId = r.mbUint32("public identifier");
    // §5.5: public id 0 means "the identifier is a string, at this string-table index".
    const fpiIndex = publicId === 0 ? r.mbUint32("public identifier string index") : -1;
    const charsetAt = r.pos;
    const charset = r.mbUint32("charset");
    if (charset !== CHARSET_UTF8) {
      throw r.error(
        "WBXML_UNSUPPORTED",
        `charset MIBenum ${charset} (only UTF-8, 106, is supported)`,
        charsetAt,
      );
    }
    const tableAt = r.pos;
    const tableLength = r.mbUint32("string table length");
    r.need(tableLength, "the string table", tableAt);
    this.tableStart = r.pos;
    this.tableEnd = r.pos + tableLength;
    r.pos = this.tableEnd;
    // §5.7: every string in the table is NUL-terminated, so the table's last byte is NUL.
    if (tableLength > 0 && r.bytes[this.tableEnd - 1] !== 0) {
      throw r.malformed("the string table does not end with a NUL terminator", this.tableEnd - 1);
    }
    const vocab =
      fpiIndex >= 0
        ? vocabularyByFormalPublicId(this.tableString(fpiIndex, publicIdAt))
        : vocabularyByPublicId(publicId);
    if (!vocab) {
      const id =
        fpiIndex >= 0 ? `"${this.tableString(fpiIndex, publicIdAt)}"` : `0x${hex(publicId)}`;
      throw r.error(
        "WBXML_UNSUPPORTED",
        `public identifier ${id} (supported: SyncML, MetInf and DevInf 1.2)`,
        publicIdAt,
      );
    }
    this.vocab = vocab;
    return this.body();
  }

  /**
   * §5.3: body = *pi element *pi; element = stag [1*attribute END] [*content END].
   * One loop with its state in locals (position, open elements, pending text): this is the hot
   * path of every WBXML message, and helpers are called only for the rarer tokens.
   *
   * An element with content is built at its END, not at its start tag: its children wait on one
   * shared content stack and leave it as an array of exactly their number. Growing a fresh
   * array per element, child by child, allocated several times the memory the tree keeps.
   */
  private body(): Element {
    const r = this.r;
    const bytes = r.bytes;
    const end = bytes.length;
    const { content, openNames, openNs, openStarts } = this.stacks;
    const budget = this.budget;
    /** How many elements may be open at once, below the depth an embedded document sits at. */
    const maxOpen = this.maxDepth - this.depthBase;
    const pages = this.vocab.pages;
    let pos = r.pos;
    // The current tag code page (§5.8.1), resolved once per SWITCH_PAGE.
    let names = pages[0]?.names ?? NO_NAMES;
    let pageNs: Namespace = pages[0]?.ns ?? this.vocab.rootNs;
    let page = 0;
    let root: Element | undefined;
    /** Open elements (with content, not yet ENDed); their frames are `open*[0, depth)`. */
    let depth = 0;
    /** Top of `content`: the children of open element k are `content[openStarts[k], sp)`. */
    let sp = 0;
    /** Character data not yet pushed: adjacent string pieces become one child. */
    let text = "";
    while (pos < end) {
      const at = pos;
      const token = bytes[pos++]!;
      const id = token & TAG_ID_MASK;
      let name: string | undefined;
      let ns = pageNs;
      if (id >= FIRST_TAG_ID) {
        // A tag token: every global token has a tag identity below 0x05.
        name = names[id];
        if (name === undefined) {
          // Also where a MetInf 1.2 document uses a tag before switching to its page 1.
          throw r.malformed(`unknown tag token 0x${hex(token)} on code page ${page}`, at);
        }
      } else if (id === LITERAL) {
        // LITERAL, LITERAL_C, LITERAL_A, LITERAL_AC: the same flag bits as a tag token.
        r.pos = pos;
        const index = r.mbUint32("literal tag name index");
        pos = r.pos;
        const found = this.literal(this.tableString(index, at), page, at);
        name = found.name;
        ns = found.ns;
      }
      if (name !== undefined) {
        if (depth === 0 && root !== undefined) {
          throw r.malformed(`a second root element <${name}>`, at);
        }
        if (--budget.elements < 0) {
          throw r.error("LIMIT_EXCEEDED", "the message has more elements than allowed", at);
        }
        if (depth + 1 > maxOpen) {
          throw r.error("LIMIT_EXCEEDED", `elements nest deeper than ${this.maxDepth}`, at);
        }
        if (token & TAG_ATTRIBUTES) {
          r.pos = pos;
          this.skipAttributes();
          pos = r.pos;
        }
        if (text !== "") {
          content[sp++] = text;
          text = "";
        }
        if (token & TAG_CONTENT) {
          // Most elements are leaves holding one inline string: <LocURI>…</LocURI> is
          // tag, STR_I, the bytes, NUL, END. Those are built here at once; anything else
          // (or anything wrong, which the general path reports) takes the general path.
          if (bytes[pos] === STR_I) {
            let i = pos + 1;
            let high = 0;
            let hash = 0;
            while (i < end) {
              const b = bytes[i]!;
              if (b === 0) break;
              high |= b;
              hash = (Math.imul(hash, 31) + b) | 0;
              i++;
            }
            if (i + 1 < end && bytes[i + 1] === END) {
              const str =
                high < 0x80
                  ? asciiString(bytes, pos + 1, i, hash)
                  : decodeUtf8(bytes, pos + 1, i, high);
              if (str !== undefined) {
                budget.textBytes -= str.length;
                if (budget.textBytes < 0) throw this.overspent(pos);
                const el: Element = { name, ns, children: str === "" ? [] : [str] };
                if (depth === 0) root = el;
                else content[sp++] = el;
                pos = i + 2;
                continue;
              }
            }
          } else if (bytes[pos] === STR_T && bytes[pos + 1]! < 0x80 && bytes[pos + 2] === END) {
            // The same with a one-byte string-table reference.
            const str = this.tableString(bytes[pos + 1]!, pos);
            const el: Element = { name, ns, children: str === "" ? [] : [str] };
            if (depth === 0) root = el;
            else content[sp++] = el;
            pos += 3;
            continue;
          }
          openNames[depth] = name;
          openNs[depth] = ns;
          openStarts[depth] = sp;
          depth++;
        } else {
          const el: Element = { name, ns, children: [] };
          if (depth === 0) root = el;
          else content[sp++] = el;
        }
        continue;
      }
      switch (token) {
        case END: {
          if (depth === 0) throw r.malformed("END without an open element", at);
          if (text !== "") {
            content[sp++] = text;
            text = "";
          }
          depth--;
          const start = openStarts[depth]!;
          const children = childrenOf(content, start, sp);
          sp = start;
          const el: Element = { name: openNames[depth]!, ns: openNs[depth]!, children };
          if (depth === 0) root = el;
          else content[sp++] = el;
          break;
        }
        case STR_I: {
          if (depth === 0) throw this.outside(root, at, "STR_I");
          let i = pos;
          let high = 0;
          let hash = 0;
          while (i < end) {
            const b = bytes[i]!;
            if (b === 0) break;
            high |= b;
            hash = (Math.imul(hash, 31) + b) | 0;
            i++;
          }
          if (i === end) throw r.malformed("inline string has no NUL terminator", at);
          const str =
            high < 0x80 ? asciiString(bytes, pos, i, hash) : decodeUtf8(bytes, pos, i, high);
          if (str === undefined) throw r.malformed("inline string is not valid UTF-8", at);
          budget.textBytes -= str.length;
          if (budget.textBytes < 0) throw this.overspent(at);
          text = text === "" ? str : text + str;
          pos = i + 1;
          break;
        }
        case STR_T: {
          if (depth === 0) throw this.outside(root, at, "STR_T");
          let index: number;
          if (pos < end && bytes[pos]! < 0x80) {
            // A one-byte mb_u_int32, as every offset into a table below 128 bytes is.
            index = bytes[pos++]!;
          } else {
            r.pos = pos;
            index = r.mbUint32("string table index");
            pos = r.pos;
          }
          const str = this.tableString(index, at);
          text = text === "" ? str : text + str;
          break;
        }
        case SWITCH_PAGE: {
          if (pos >= end)
            throw r.malformed("input ends where a code page number was expected", pos);
          page = bytes[pos++]!;
          const cp = pages[page];
          if (cp === undefined) {
            throw r.malformed(
              `SWITCH_PAGE to code page ${page}, which this document type lacks`,
              at,
            );
          }
          names = cp.names;
          pageNs = cp.ns;
          break;
        }
        case OPAQUE: {
          if (depth === 0) throw this.outside(root, at, "OPAQUE");
          r.pos = pos;
          const length = r.mbUint32("opaque length");
          r.need(length, "OPAQUE", at);
          this.spend(length, at);
          const start = r.pos;
          pos = start + length;
          if (text !== "") {
            content[sp++] = text;
            text = "";
          }
          content[sp++] = this.opaque(
            openNames[depth - 1]!,
            openNs[depth - 1]!,
            depth,
            start,
            length,
          );
          break;
        }
        case ENTITY: {
          if (depth === 0) throw this.outside(root, at, "ENTITY");
          r.pos = pos;
          const cp = r.mbUint32("character entity");
          pos = r.pos;
          // A Unicode scalar value that XML allows as a character (XML 1.0 §2.2 Char).
          if (
            cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff) ||
            cp === 0xfffe ||
            cp === 0xffff ||
            (cp < 0x20 && cp !== 0x09 && cp !== 0x0a && cp !== 0x0d)
          ) {
            throw r.malformed(`character entity U+${hex(cp)} is not an XML character`, at);
          }
          this.spend(cp > 0xffff ? 2 : 1, at);
          text += String.fromCodePoint(cp);
          break;
        }
        case PI:
          // §5.8.4.4: PI = attrStart *attrValue END; nothing in SyncML uses them.
          r.pos = pos;
          this.skipAttributes();
          pos = r.pos;
          break;
        default:
          // What is left of the global tokens: EXT_I_*, EXT_T_*, EXT_*.
          throw r.error(
            "WBXML_UNSUPPORTED",
            `extension token 0x${hex(token)} has no meaning in SyncML, MetInf or DevInf`,
            at,
          );
      }
    }
    r.pos = pos;
    if (depth > 0) {
      throw r.malformed(`input ends before the END of <${openNames[depth - 1]}>`, pos);
    }
    if (!root) throw r.malformed("the document has no root element", pos);
    return root;
  }

  /**
   * §5.8.3 / §5.8.4.4: skips an attribute list (or a PI) up to its END. Every token consumes at
   * least one byte, so this ends within the input.
   */
  private skipAttributes(): void {
    const r = this.r;
    for (;;) {
      const at = r.pos;
      const token = r.u8("an attribute token or END");
      switch (token) {
        case END:
          return;
        case SWITCH_PAGE:
          r.u8("an attribute code page number");
          break;
        case ENTITY:
        case EXT_T_0:
        case EXT_T_0 + 1:
        case EXT_T_2:
          r.mbUint32("attribute value");
          break;
        case STR_T:
        case LITERAL: {
          const index = r.mbUint32("string table index");
          if (index >= this.tableEnd - this.tableStart) {
            throw r.malformed(`string table index ${index} is out of range`, at);
          }
          break;
        }
        case STR_I:
        case EXT_I_0:
        case EXT_I_0 + 1:
        case EXT_I_2: {
          const nul = r.nulBefore(r.pos, r.bytes.length);
          if (nul < 0) throw r.malformed("inline string has no NUL terminator", at);
          r.pos = nul + 1;
          break;
        }
        case OPAQUE: {
          const length = r.mbUint32("opaque length");
          r.need(length, "OPAQUE", at);
          r.pos += length;
          break;
        }
        case PI:
        case LITERAL_C:
        case LITERAL_A:
        case LITERAL_AC:
          throw r.malformed(`token 0x${hex(token)} is not allowed in an attribute list`, at);
        default:
          // ATTRSTART (< 0x80) or ATTRVALUE (>= 0x80) of some attribute code page, or a
          // single-byte extension: nothing follows it.
          break;
      }
    }
  }

  /** The element a literal tag names: the vocabulary's own, current code page first. */
  private literal(name: string, page: number, at: number): { name: string; ns: Namespace } {
    const current = this.vocab.pages[page];
    if (current?.names.includes(name)) return { name, ns: current.ns };
    for (const cp of this.vocab.pages) {
      if (cp?.names.includes(name)) return { name, ns: cp.ns };
    }
    throw this.r.malformed(`literal tag <${name}> is not an element of this document type`, at);
  }

  /** §5.7: the NUL-terminated string at byte `index` of the string table. */
  private tableString(index: number, at: number): string {
    const r = this.r;
    if (index >= this.tableEnd - this.tableStart) {
      throw r.malformed(
        `string table index ${index} is out of range (the table has ${this.tableEnd - this.tableStart} bytes)`,
        at,
      );
    }
    let cache = this.tableCache;
    let s = cache?.get(index);
    if (s === undefined) {
      // The table ends with NUL (checked in document()), so the search stops inside it.
      s = this.cstring(this.tableStart + index, this.tableEnd, at, `string table entry ${index}`);
      if (!cache) {
        cache = new Map();
        this.tableCache = cache;
      }
      cache.set(index, s);
    }
    // Charged on every reference: this is where a small table could amplify into much text.
    this.spend(s.length, at);
    return s;
  }

  /** §5.7: the NUL-terminated UTF-8 string at `from`, its NUL searched below `limit`. */
  private cstring(from: number, limit: number, at: number, what: string): string {
    const bytes = this.r.bytes;
    let i = from;
    let high = 0;
    let hash = 0;
    while (i < limit) {
      const b = bytes[i]!;
      if (b === 0) break;
      high |= b;
      hash = (Math.imul(hash, 31) + b) | 0;
      i++;
    }
    if (i >= limit) throw this.r.malformed(`${what} has no NUL terminator`, at);
    const s = high < 0x80 ? asciiString(bytes, from, i, hash) : decodeUtf8(bytes, from, i, high);
    if (s === undefined) throw this.r.malformed(`${what} is not valid UTF-8`, at);
    return s;
  }

  /** OPAQUE content: bytes, or the embedded DevInf document a SyncML Data carries. */
  private opaque(
    parentName: string,
    parentNs: Namespace,
    depth: number,
    start: number,
    length: number,
  ): Uint8Array | Element {
    // A plain Uint8Array copy (Buffer#slice would share the caller's memory).
    const bytes = new Uint8Array(this.r.bytes.subarray(start, start + length));
    if (
      this.vocab === SYNCML_1_2 &&
      parentNs === "syncml" &&
      parentName === "Data" &&
      looksLikeDevInf(bytes)
    ) {
      const saved = { ...this.budget };
      try {
        const nested = new Decoder(
          new WbxmlReader(bytes, this.r.base + start),
          this.maxDepth,
          this.depthBase + depth,
          this.budget,
          newStacks(),
        );
        const devinf = nested.document();
        this.embeddedDevInf = true;
        return devinf;
      } catch (e) {
        // A limit breach inside well-formed DevInf is a real breach; anything else means the
        // bytes were data after all.
        if (e instanceof ProtocolError && e.code === "LIMIT_EXCEEDED") throw e;
        this.budget.elements = saved.elements;
        this.budget.textBytes = saved.textBytes;
      }
    }
    return bytes;
  }

  /** Character data or opaque outside the root element. */
  private outside(root: Element | undefined, at: number, what: string): ProtocolError {
    return this.r.malformed(
      `${what} ${root ? "after the root element" : "before the root element"}`,
      at,
    );
  }

  /** Charges decoded characters (UTF-16 units) or opaque bytes against the amplification budget. */
  private spend(n: number, at: number): void {
    this.budget.textBytes -= n;
    if (this.budget.textBytes < 0) throw this.overspent(at);
  }

  private overspent(at: number): ProtocolError {
    return this.r.error("LIMIT_EXCEEDED", "decoded text exceeds the message size limit", at);
  }
}

/**
 * The caller's limits over the defaults. A limit given as anything but a number (an `undefined`
 * from an unset option, say) keeps its default rather than switching the check off.
 */
export function resolveLimits(limits: Partial<Limits> | undefined): Limits {
  if (!limits) return DEFAULT_LIMITS;
  const pick = (v: number | undefined, d: number): number =>
    typeof v === "number" && !Number.isNaN(v) ? v : d;
  return {
    maxBytes: pick(limits.maxBytes, DEFAULT_LIMITS.maxBytes),
    maxDepth: pick(limits.maxDepth, DEFAULT_LIMITS.maxDepth),
    maxElements: pick(limits.maxElements, DEFAULT_LIMITS.maxElements),
  };
}

/** A WBXML 1.1–1.3 header naming DevInf 1.2 by its well-known public id (0x1203 = A4 03). */
export function looksLikeDevInf(b: Uint8Array): boolean {
  return (
    b.length >= 4 &&
    b[0]! >= WBXML_1_1 &&
    b[0]! <= WBXML_1_3 &&
    b[1] === 0x80 + (DEVINF_1_2.publicId >> 7) &&
    b[2] === (DEVINF_1_2.publicId & 0x7f)
  );
}

/** Tag names of a code page the document type lacks: every token is unknown. */
const NO_NAMES: ReadonlyArray<string | undefined> = [];

function hex(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, "0");
}
