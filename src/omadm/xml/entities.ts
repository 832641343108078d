/**
 * Reference decoding for character data and attribute values (XML 1.0 §4.1, §4.6). Only the five
 * predefined entities and numeric character references exist here: the reader refuses DTDs, so
 * any other `&name;` could only be an attempt at entity expansion (XXE, "billion laughs") and is
 * refused as such.
 */
import { isNameChar, isNameStart, isXmlChar } from "./chars.js";
import { xmlError } from "./location.js";

/**
 * Decodes the references in `raw`, which starts at `rawOffset` of `src` (for error locations).
 * Callers only call this when `raw` contains '&'.
 */
export function decodeEntities(raw: string, rawOffset: number, src: string): string {
  let out = "";
  let last = 0;
  let amp = raw.indexOf("&");
  while (amp !== -1) {
    out += raw.slice(last, amp);
    const semi = raw.indexOf(";", amp + 1);
    if (semi === -1) {
      throw xmlError(
        "XML_MALFORMED",
        "'&' must start a reference such as &amp; or &#38;",
        src,
        rawOffset + amp,
      );
    }
    out += resolve(raw.slice(amp + 1, semi), rawOffset + amp, src);
    last = semi + 1;
    amp = raw.indexOf("&", last);
  }
  return out + raw.slice(last);
}

function resolve(name: string, at: number, src: string): string {
  switch (name) {
    case "lt":
      return "<";
    case "gt":
      return ">";
    case "amp":
      return "&";
    case "quot":
      return '"';
    case "apos":
      return "'";
  }
  if (name.charCodeAt(0) === 0x23 /* # */) return charRef(name, at, src);
  if (isName(name)) {
    throw xmlError(
      "XML_DTD_FORBIDDEN",
      `entity reference &${name}; refused: only the five predefined entities exist without a DTD`,
      src,
      at,
    );
  }
  throw xmlError("XML_MALFORMED", "'&' must start a reference such as &amp; or &#38;", src, at);
}

/** `#123` or `#x7B` (lower-case x only, §4.1 CharRef). */
function charRef(name: string, at: number, src: string): string {
  const hex = name.charCodeAt(1) === 0x78; /* x */
  const digits = name.slice(hex ? 2 : 1);
  let cp = 0;
  let ok = digits.length > 0 && digits.length <= 8;
  for (let i = 0; ok && i < digits.length; i++) {
    const d = digitValue(digits.charCodeAt(i), hex);
    if (d < 0) ok = false;
    else cp = cp * (hex ? 16 : 10) + d;
  }
  if (!ok) throw xmlError("XML_MALFORMED", `malformed character reference &${name};`, src, at);
  if (!isXmlChar(cp)) {
    throw xmlError(
      "XML_MALFORMED",
      `character reference &${name}; names a character XML 1.0 does not allow`,
      src,
      at,
    );
  }
  return String.fromCodePoint(cp);
}

function digitValue(c: number, hex: boolean): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (!hex) return -1;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

function isName(s: string): boolean {
  if (!isNameStart(s.charCodeAt(0))) return false;
  for (let i = 1; i < s.length; i++) if (!isNameChar(s.charCodeAt(i))) return false;
  return true;
}
