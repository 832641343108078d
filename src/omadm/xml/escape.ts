/**
 * Character data and attribute values for the writer (XML 1.0 §2.4, §3.1). One scan finds what
 * needs attention; strings that need none — nearly all DM values — are returned as they are.
 */
import { ProtocolError } from "../errors.js";

/** Nothing to escape. */
const PLAIN = 0;
const NEEDS_ESCAPE = 1;
const HAS_LT = 2;
const HAS_GT = 4;
/** Both '<' and '>': looks like markup (an XML document carried in Data). */
const MARKUP = HAS_LT | HAS_GT;
/** CR or "]]>", which a CDATA section cannot carry faithfully. */
const NO_CDATA = 8;

/**
 * Character data: '&', '<', '>' escaped, CR as `&#13;` so the receiver's end-of-line
 * normalisation (§2.11) keeps it. Text that looks like markup (typically an XML document carried
 * in Data, such as DevInf or a DDF) goes in a CDATA section instead, so it stays readable on the
 * wire, unless CDATA cannot carry it.
 */
export function textContent(s: string): string {
  const flags = scan(s, false);
  if (flags === PLAIN) return s;
  if ((flags & (MARKUP | NO_CDATA)) === MARKUP) return `<![CDATA[${s}]]>`;
  return withReferences(s, false);
}

/** A double-quoted attribute value: also '"' escaped. */
export function attributeValue(s: string): string {
  return scan(s, true) === PLAIN ? s : withReferences(s, true);
}

function withReferences(s: string, attr: boolean): string {
  let out = "";
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    let ref: string;
    switch (s.charCodeAt(i)) {
      case 0x26:
        ref = "&amp;";
        break;
      case 0x3c:
        ref = "&lt;";
        break;
      case 0x3e:
        ref = "&gt;";
        break;
      case 0x0d:
        ref = "&#13;";
        break;
      case 0x22:
        if (!attr) continue;
        ref = "&quot;";
        break;
      default:
        continue;
    }
    out += s.slice(last, i) + ref;
    last = i + 1;
  }
  return out + s.slice(last);
}

/** One pass over `s`: what needs escaping, whether CDATA fits, and that XML can carry it all. */
function scan(s: string, attr: boolean): number {
  let flags = PLAIN;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x3e) {
      if (c === 0x3c) flags |= NEEDS_ESCAPE | HAS_LT;
      else if (c === 0x26) flags |= NEEDS_ESCAPE;
      else if (c === 0x3e) {
        flags |= NEEDS_ESCAPE | HAS_GT;
        if (i >= 2 && s.charCodeAt(i - 1) === 0x5d && s.charCodeAt(i - 2) === 0x5d) {
          flags |= NO_CDATA;
        }
      } else if (c === 0x0d) flags |= NEEDS_ESCAPE | NO_CDATA;
      else if (c === 0x22 && attr) flags |= NEEDS_ESCAPE;
      else if (c < 0x20 && c !== 0x09 && c !== 0x0a) unrepresentable(c);
    } else if (c >= 0xd800) {
      if (c <= 0xdbff) {
        const d = s.charCodeAt(i + 1);
        if (!(d >= 0xdc00 && d <= 0xdfff)) unrepresentable(c);
        i++;
      } else if (c <= 0xdfff || c === 0xfffe || c === 0xffff) unrepresentable(c);
    }
  }
  return flags;
}

/**
 * XML 1.0 §2.2 has no way, not even a character reference, to carry most C0 controls or
 * unpaired surrogates. A DM value holding them must travel as b64 (OMA-TS-DM_TND Format).
 */
function unrepresentable(c: number): never {
  const hex = c.toString(16).toUpperCase().padStart(4, "0");
  throw new ProtocolError(
    "SYNCML_INVALID",
    `character U+${hex} cannot be written in XML 1.0; send such a value as b64`,
  );
}
