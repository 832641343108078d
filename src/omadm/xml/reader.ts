/**
 * The XML reader: untrusted SyncML DM text (OMA-TS-DM_RepPro §5, XML 1.0, Namespaces in XML 1.0)
 * to the neutral element tree. A hand-written single-pass scanner (indexOf to jump between
 * markup, charCodeAt inside tags) because DM servers parse a message per request.
 *
 * Security (DESIGN.md, "untrusted input is parsed with limits"): no DTD is ever processed —
 * `<!DOCTYPE` and every other markup declaration is refused with XML_DTD_FORBIDDEN, as is any
 * entity reference besides the five predefined ones — so external entities and entity expansion
 * cannot happen; size, depth and element count are bounded by `Limits` before any allocation
 * they would drive. Every fault is a ProtocolError with line:column and offset; the scanner is
 * iterative, so deep input cannot exhaust the stack.
 *
 * Tolerance (real clients differ from the DTD): XML declaration and processing instructions are
 * skipped, comments dropped wherever they are, CDATA becomes text, whitespace-only text between
 * child elements is dropped while text of leaf elements is kept verbatim. Namespaces resolve
 * through `xmlns` / `xmlns:p`; an element whose namespace is not one of the DM vocabularies
 * inherits its parent's. A literal `]]>` in text and undeclared prefixes on ordinary attributes
 * (which carry nothing in DM) are let pass.
 */

import { DEFAULT_LIMITS, type Limits, ProtocolError } from "../errors.js";
import type { Content, Element, Namespace } from "../model/element.js";
import { findNonXmlChar, isAllSpace, isNameChar, isNameStart, isXmlSpace } from "./chars.js";
import { decodeEntities } from "./entities.js";
import { locate, xmlError } from "./location.js";
import { namespaceForUri } from "./namespaces.js";

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const BANG = 0x21;
const QUESTION = 0x3f;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const COLON = 0x3a;

/** Prefix → vocabulary; `null` for a prefix bound to a URI outside the DM vocabularies. */
type Prefixes = Readonly<Record<string, Namespace | null>>;

/** An open element. Frames are reused by depth, so opening an element allocates only the element. */
interface Frame {
  el: { name: string; ns: Namespace; children: Content[] };
  qname: string;
  /** Namespace of unprefixed descendants (the default namespace in scope). */
  defNs: Namespace;
  prefixes: Prefixes | null;
  /** Character data seen since the last child element, not yet attached. */
  text: string;
  /** The pending text holds CDATA, which is content even when it is all whitespace. */
  keepText: boolean;
  hasChild: boolean;
  start: number;
}

export function parseXml(text: string, limits?: Partial<Limits>): Element {
  const maxBytes = limits?.maxBytes ?? DEFAULT_LIMITS.maxBytes;
  if (text.length > maxBytes) {
    throw new ProtocolError(
      "LIMIT_EXCEEDED",
      `message of ${text.length} characters exceeds the limit of ${maxBytes}`,
      { offset: maxBytes },
    );
  }
  const bad = findNonXmlChar(text);
  if (bad !== -1) {
    const cp = text.charCodeAt(bad).toString(16).toUpperCase().padStart(4, "0");
    throw xmlError("XML_MALFORMED", `character U+${cp} is not allowed in XML`, text, bad);
  }
  const reader = new Reader(
    text,
    limits?.maxDepth ?? DEFAULT_LIMITS.maxDepth,
    limits?.maxElements ?? DEFAULT_LIMITS.maxElements,
  );
  return reader.document();
}

class Reader {
  private readonly src: string;
  private readonly maxDepth: number;
  private readonly maxElements: number;
  /**
   * Next '&', '\r' and (inside a start tag) '<' at or after the scan position, Infinity when
   * there is none: remembered so that searching for them stays linear in the input, however
   * many text segments or attributes there are.
   */
  private nextAmp = -1;
  private nextCr = -1;
  private nextLt = -1;
  private readonly frames: Frame[] = [];
  /** Set by startTag: the tag just read was an empty-element tag. */
  private selfClosed = false;

  constructor(src: string, maxDepth: number, maxElements: number) {
    this.src = src;
    this.maxDepth = maxDepth;
    this.maxElements = maxElements;
  }

  document(): Element {
    const src = this.src;
    let pos = src.charCodeAt(0) === 0xfeff ? 1 : 0; // a BOM left in decoded text
    pos = this.misc(pos, false);
    if (pos >= src.length) {
      throw this.fail(src.length === 0 ? "empty input" : "no root element", pos);
    }
    const c = src.charCodeAt(pos + 1);
    if (c === SLASH) throw this.fail("end tag before any element", pos);
    const { root, end } = this.elements(pos);
    const after = this.misc(end, true);
    if (after < src.length) throw this.fail("content after the root element", after);
    return root;
  }

  /**
   * Skips what may stand outside the root element (§2.1 Misc, §2.8 prolog): whitespace, comments,
   * processing instructions, the XML declaration. Returns the offset of the next '<' that opens an
   * element, or the end of input. Anything else is junk.
   */
  private misc(from: number, afterRoot: boolean): number {
    const src = this.src;
    let pos = from;
    for (;;) {
      while (pos < src.length && isXmlSpace(src.charCodeAt(pos))) pos++;
      if (pos >= src.length) return pos;
      if (src.charCodeAt(pos) !== LT) {
        throw this.fail(
          afterRoot ? "content after the root element" : "text before the root element",
          pos,
        );
      }
      const c = src.charCodeAt(pos + 1);
      if (c === QUESTION) pos = this.processingInstruction(pos);
      else if (c === BANG) {
        if (!src.startsWith("<!--", pos)) throw this.markupDeclaration(pos, false);
        pos = this.comment(pos);
      } else if (afterRoot) throw this.fail("content after the root element", pos);
      else return pos;
    }
  }

  /** Parses the root element and everything in it; `start` is at its '<'. */
  private elements(start: number): { root: Element; end: number } {
    const src = this.src;
    const frames = this.frames;
    let depth = 0;
    let count = 0;
    let root: Element | undefined;
    let pos = start;
    for (;;) {
      // `pos` is at a '<'.
      const c = src.charCodeAt(pos + 1);
      if (c === SLASH) {
        if (depth === 0) throw this.fail("end tag without a matching start tag", pos);
        const f = frames[depth - 1]!;
        pos = this.endTag(pos, f);
        flushAtEnd(f);
        depth--;
      } else if (c === BANG) {
        if (src.startsWith("<!--", pos)) pos = this.comment(pos);
        else if (src.startsWith("<![CDATA[", pos)) {
          const end = src.indexOf("]]>", pos + 9);
          if (end === -1) throw this.fail("unterminated CDATA section", pos);
          addText(frames[depth - 1]!, this.crlf(src.slice(pos + 9, end), pos + 9), true);
          pos = end + 3;
        } else throw this.markupDeclaration(pos, true);
      } else if (c === QUESTION) {
        pos = this.processingInstruction(pos);
      } else {
        if (++count > this.maxElements) {
          throw new ProtocolError(
            "LIMIT_EXCEEDED",
            `more than ${this.maxElements} elements`,
            this.where(pos),
          );
        }
        if (depth >= this.maxDepth) {
          throw new ProtocolError(
            "LIMIT_EXCEEDED",
            `elements nested deeper than ${this.maxDepth}`,
            this.where(pos),
          );
        }
        const parent = depth > 0 ? frames[depth - 1]! : undefined;
        pos = this.startTag(pos, parent, depth);
        const opened = frames[depth]!;
        if (parent === undefined) root = opened.el;
        else {
          flushBeforeChild(parent);
          parent.el.children.push(opened.el);
        }
        // An empty-element tag (`<Final/>`) closes at once.
        if (!this.selfClosed) depth++;
      }
      if (depth === 0) return { root: root!, end: pos };
      // Character data up to the next markup (none at all between most tags on the wire).
      if (src.charCodeAt(pos) === LT) continue;
      const lt = src.indexOf("<", pos);
      if (lt === -1) {
        const open = frames[depth - 1]!;
        const at = this.where(open.start);
        throw this.fail(
          `unexpected end of input: <${open.qname}> opened at line ${at.line}:${at.column} is not closed`,
          src.length,
        );
      }
      if (lt > pos) addText(frames[depth - 1]!, this.charData(pos, lt), false);
      pos = lt;
    }
  }

  /**
   * Reads a start tag at `pos` into `this.frames[depth]` and returns the offset after its '>'.
   * Attributes other than namespace declarations carry nothing in SyncML DM and are checked for
   * well-formedness only.
   */
  private startTag(pos: number, parent: Frame | undefined, depth: number): number {
    const src = this.src;
    let p = pos + 1;
    if (!isNameStart(src.charCodeAt(p))) throw this.fail("invalid element name", p);
    let colon = -1;
    for (p++; ; p++) {
      const ch = src.charCodeAt(p);
      if (!isNameChar(ch)) break;
      if (ch === COLON) {
        if (colon !== -1) throw this.fail("element name with more than one ':'", p);
        colon = p;
      }
    }
    const qname = src.slice(pos + 1, p);
    let defaultUri: string | undefined;
    let declared: Array<[string, string]> | undefined;
    // Duplicate attributes: the first name is kept as is, a set only from the second on (DM
    // elements carry at most an xmlns, so the set is almost never needed).
    let firstAttr: string | undefined;
    let seen: Set<string> | undefined;
    for (;;) {
      const wsStart = p;
      while (isXmlSpace(src.charCodeAt(p))) p++;
      const ch = src.charCodeAt(p);
      if (ch === GT) {
        this.selfClosed = false;
        p++;
        break;
      }
      if (ch === SLASH) {
        if (src.charCodeAt(p + 1) !== GT) throw this.fail("expected '>' after '/'", p + 1);
        this.selfClosed = true;
        p += 2;
        break;
      }
      if (p >= src.length) throw this.fail(`unterminated start tag <${qname}>`, pos);
      if (p === wsStart) throw this.fail("expected whitespace, '>' or '/>' in start tag", p);
      // Attribute (§3.1): Name Eq AttValue.
      if (!isNameStart(ch)) throw this.fail("invalid attribute name", p);
      const nameStart = p;
      for (p++; isNameChar(src.charCodeAt(p)); p++);
      const name = src.slice(nameStart, p);
      while (isXmlSpace(src.charCodeAt(p))) p++;
      if (src.charCodeAt(p) !== EQUALS) throw this.fail(`expected '=' after attribute ${name}`, p);
      p++;
      while (isXmlSpace(src.charCodeAt(p))) p++;
      const quote = src.charCodeAt(p);
      if (quote !== DQUOTE && quote !== SQUOTE) {
        throw this.fail(`value of attribute ${name} must be quoted`, p);
      }
      const close = src.indexOf(quote === DQUOTE ? '"' : "'", p + 1);
      if (close === -1) throw this.fail(`unterminated value of attribute ${name}`, p);
      if (this.nextLt <= p) {
        const lt = src.indexOf("<", p + 1);
        this.nextLt = lt === -1 ? Number.POSITIVE_INFINITY : lt;
      }
      if (this.nextLt < close) throw this.fail("'<' in an attribute value", this.nextLt);
      let value = src.slice(p + 1, close);
      if (value.indexOf("&") !== -1) value = decodeEntities(value, p + 1, src);
      if (firstAttr === undefined) firstAttr = name;
      else {
        if (seen === undefined) seen = new Set([firstAttr]);
        if (seen.has(name)) throw this.fail(`duplicate attribute ${name}`, nameStart);
        seen.add(name);
      }
      if (name === "xmlns") defaultUri = value;
      else if (name.startsWith("xmlns:")) {
        const prefix = name.slice(6);
        if (prefix === "" || prefix.indexOf(":") !== -1 || value === "") {
          throw this.fail(`invalid namespace declaration ${name}`, nameStart);
        }
        if (declared === undefined) declared = [];
        declared.push([prefix, value]);
      }
      p = close + 1;
    }

    // Namespaces in XML 1.0 §6: the declarations on this tag apply to the tag itself.
    const parentNs: Namespace = parent === undefined ? "syncml" : parent.el.ns;
    let defNs: Namespace = parent === undefined ? "syncml" : parent.defNs;
    if (defaultUri !== undefined) defNs = namespaceForUri(defaultUri) ?? parentNs;
    let prefixes: Prefixes | null = parent === undefined ? null : parent.prefixes;
    if (declared !== undefined) {
      const next: Record<string, Namespace | null> = Object.assign(Object.create(null), prefixes);
      for (const [prefix, uri] of declared) next[prefix] = namespaceForUri(uri) ?? null;
      prefixes = next;
    }
    let name = qname;
    let ns = defNs;
    if (colon !== -1) {
      const prefix = qname.slice(0, colon - pos - 1);
      name = qname.slice(colon - pos);
      if (name === "" || prefix === "xmlns")
        throw this.fail(`invalid element name ${qname}`, pos + 1);
      const bound = prefix === "xml" ? null : prefixes?.[prefix];
      if (bound === undefined) throw this.fail(`undeclared namespace prefix ${prefix}`, pos + 1);
      ns = bound ?? parentNs;
    }

    const el = { name, ns, children: [] as Content[] };
    let f = this.frames[depth];
    if (f === undefined) {
      f = { el, qname, defNs, prefixes, text: "", keepText: false, hasChild: false, start: pos };
      this.frames[depth] = f;
    } else {
      f.el = el;
      f.qname = qname;
      f.defNs = defNs;
      f.prefixes = prefixes;
      f.text = "";
      f.keepText = false;
      f.hasChild = false;
      f.start = pos;
    }
    return p;
  }

  /** `</name S? >` closing `f`; returns the offset after '>'. */
  private endTag(pos: number, f: Frame): number {
    const src = this.src;
    const at = pos + 2;
    // Compare against the start tag's name where it stands in the input: cheaper than
    // startsWith on a sliced string, which shows in profiles of small messages.
    const n = f.qname.length;
    let i = 0;
    const from = f.start + 1;
    while (i < n && src.charCodeAt(at + i) === src.charCodeAt(from + i)) i++;
    let p = at + n;
    if (i === n && !isNameChar(src.charCodeAt(p))) {
      while (isXmlSpace(src.charCodeAt(p))) p++;
      if (src.charCodeAt(p) === GT) return p + 1;
      throw this.fail(`expected '>' to close end tag </${f.qname}>`, p);
    }
    let e = at;
    while (isNameChar(src.charCodeAt(e))) e++;
    const found = e > at ? `</${src.slice(at, e)}>` : "a malformed end tag";
    throw this.fail(`mismatched end tag: expected </${f.qname}>, found ${found}`, pos);
  }

  private comment(pos: number): number {
    const end = this.src.indexOf("-->", pos + 4);
    if (end === -1) throw this.fail("unterminated comment", pos);
    return end + 3;
  }

  /** `<?target …?>`, the XML declaration included (§2.6, §2.8): skipped. */
  private processingInstruction(pos: number): number {
    const src = this.src;
    if (!isNameStart(src.charCodeAt(pos + 2))) {
      throw this.fail("invalid processing instruction target", pos + 2);
    }
    const end = src.indexOf("?>", pos + 2);
    if (end === -1) throw this.fail("unterminated processing instruction", pos);
    return end + 2;
  }

  /**
   * `<!` that is neither a comment nor (inside an element) CDATA. Markup declarations — DOCTYPE,
   * ENTITY, ELEMENT, ATTLIST, NOTATION, in any case — are refused outright: a DTD is how entity
   * expansion and external entities get in.
   */
  private markupDeclaration(pos: number, inElement: boolean): ProtocolError {
    const src = this.src;
    let e = pos + 2;
    while (isNameChar(src.charCodeAt(e))) e++;
    const keyword = src.slice(pos + 2, e).toUpperCase();
    if (
      keyword === "DOCTYPE" ||
      keyword === "ENTITY" ||
      keyword === "ELEMENT" ||
      keyword === "ATTLIST" ||
      keyword === "NOTATION"
    ) {
      return xmlError(
        "XML_DTD_FORBIDDEN",
        `<!${keyword}> refused: DTDs and entity declarations are not processed`,
        src,
        pos,
      );
    }
    if (!inElement && src.startsWith("<![CDATA[", pos)) {
      return this.fail("CDATA section outside the root element", pos);
    }
    return this.fail("malformed markup after '<!'", pos);
  }

  /** Character data in [from, to): line ends normalised (§2.11), references decoded (§4.6). */
  private charData(from: number, to: number): string {
    let text = this.crlf(this.src.slice(from, to), from);
    if (this.nextAmp < from) {
      const a = this.src.indexOf("&", from);
      this.nextAmp = a === -1 ? Number.POSITIVE_INFINITY : a;
    }
    if (this.nextAmp < to) text = decodeEntities(text, from, this.src);
    return text;
  }

  /** §2.11: CR LF and lone CR become LF (so a CR survives only as `&#13;`). */
  private crlf(text: string, from: number): string {
    if (this.nextCr < from) {
      const r = this.src.indexOf("\r", from);
      this.nextCr = r === -1 ? Number.POSITIVE_INFINITY : r;
    }
    return this.nextCr < from + text.length ? text.replace(/\r\n?/g, "\n") : text;
  }

  private where(offset: number) {
    return locate(this.src, offset);
  }

  private fail(message: string, offset: number): ProtocolError {
    return xmlError("XML_MALFORMED", message, this.src, offset);
  }
}

function addText(f: Frame, text: string, cdata: boolean): void {
  f.text = f.text === "" ? text : f.text + text;
  if (cdata) f.keepText = true;
}

/** Whitespace-only text before a child element is layout, not content. */
function flushBeforeChild(f: Frame): void {
  if (f.text !== "") {
    if (f.keepText || !isAllSpace(f.text)) f.el.children.push(f.text);
    f.text = "";
    f.keepText = false;
  }
  f.hasChild = true;
}

/** A leaf keeps its text verbatim, whitespace included; after children, whitespace is layout. */
function flushAtEnd(f: Frame): void {
  if (f.text !== "" && (!f.hasChild || f.keepText || !isAllSpace(f.text))) {
    // A leaf's only child: an array of exactly one, rather than the spare room a first push
    // reserves (most elements of a message are leaves).
    if (f.el.children.length === 0) f.el.children = [f.text];
    else f.el.children.push(f.text);
  }
}
