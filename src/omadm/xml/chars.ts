/**
 * Character classes of XML 1.0 (Fifth Edition) §2.2–§2.3, as the reader's hot loop needs them:
 * ASCII through a lookup table, the rest through the exact ranges (rare in DM messages).
 */

/** Bit 1: may start a Name; bit 2: may continue one (XML 1.0 §2.3 NameStartChar / NameChar). */
const ASCII_NAME = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const letter = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
  if (letter || c === 0x5f /* _ */ || c === 0x3a /* : */) ASCII_NAME[c] = 3;
  else if ((c >= 0x30 && c <= 0x39) || c === 0x2d /* - */ || c === 0x2e /* . */) ASCII_NAME[c] = 2;
}

function isNameStartNonAscii(c: number): boolean {
  return (
    (c >= 0xc0 && c <= 0xd6) ||
    (c >= 0xd8 && c <= 0xf6) ||
    (c >= 0xf8 && c <= 0x2ff) ||
    (c >= 0x370 && c <= 0x37d) ||
    (c >= 0x37f && c <= 0x1fff) ||
    c === 0x200c ||
    c === 0x200d ||
    (c >= 0x2070 && c <= 0x218f) ||
    (c >= 0x2c00 && c <= 0x2fef) ||
    (c >= 0x3001 && c <= 0xd7ff) ||
    (c >= 0xf900 && c <= 0xfdcf) ||
    (c >= 0xfdf0 && c <= 0xfffd) ||
    // Supplementary planes arrive as surrogate pairs; the input was checked for lone halves.
    (c >= 0xd800 && c <= 0xdfff)
  );
}

/** `c` is a UTF-16 unit (NaN past the end, which is never a name character). */
export function isNameStart(c: number): boolean {
  return c < 128 ? (ASCII_NAME[c]! & 1) !== 0 : isNameStartNonAscii(c);
}

export function isNameChar(c: number): boolean {
  if (c < 128) return ASCII_NAME[c]! !== 0;
  return (
    isNameStartNonAscii(c) ||
    c === 0xb7 ||
    (c >= 0x300 && c <= 0x36f) ||
    c === 0x203f ||
    c === 0x2040
  );
}

/** XML whitespace (§2.3 S): space, tab, LF, CR; nothing else, unlike String.prototype.trim. */
export function isXmlSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

export function isAllSpace(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!isXmlSpace(s.charCodeAt(i))) return false;
  return true;
}

/** Trims XML whitespace only; returns `s` itself when there is none (the common case). */
export function trimXmlSpace(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isXmlSpace(s.charCodeAt(start))) start++;
  while (end > start && isXmlSpace(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/**
 * Code points outside XML 1.0 §2.2 Char: C0 controls other than TAB, LF, CR; U+FFFE, U+FFFF;
 * and (with the `u` flag, which pairs surrogates first) unpaired surrogate halves. One scan of
 * the whole input up front is cheaper than a test on every character in the scanner.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching the forbidden controls is the point
export const NON_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|\p{Cs}/u;

/**
 * The same characters as NON_XML_CHAR, but with every surrogate half a candidate: without the
 * `u` flag the engine scans UTF-16 units, which is markedly faster, and the rare surrogate it
 * stops at is then checked for its partner by hand.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching the forbidden controls is the point
const NON_XML_UNIT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/g;

/** Offset of the first character NON_XML_CHAR would match, or -1 when the text is all Char. */
export function findNonXmlChar(text: string): number {
  NON_XML_UNIT.lastIndex = 0;
  for (;;) {
    const m = NON_XML_UNIT.exec(text);
    if (m === null) return -1;
    const i = m.index;
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) return i; // a control, U+FFFE/FFFF, or a lone low half
    const d = text.charCodeAt(i + 1);
    if (!(d >= 0xdc00 && d <= 0xdfff)) return i; // a high half without its low half
    NON_XML_UNIT.lastIndex = i + 2;
  }
}

/** §2.2 Char for a single code point, e.g. the target of a character reference. */
export function isXmlChar(cp: number): boolean {
  return (
    cp === 0x09 ||
    cp === 0x0a ||
    cp === 0x0d ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}
