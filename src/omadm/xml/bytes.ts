/**
 * XML bytes → text (XML 1.0 §4.3.3, Appendix F "Autodetection of Character Encodings"): a byte
 * order mark decides first, then the XML declaration's `encoding`, then UTF-8, the default and
 * what DM peers send. Decoding is fatal: bytes that are not valid in the encoding are malformed
 * input, never silently replaced.
 */
import { ProtocolError } from "../errors.js";

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** `encoding="…"` in an XML declaration, read from its ASCII bytes. */
const DECLARED_ENCODING = /^<\?xml\s[^>]*?\bencoding\s*=\s*["']([A-Za-z][A-Za-z0-9._-]*)["']/;

export function xmlTextFromBytes(bytes: Uint8Array): string {
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return decode(bytes, "utf-16be");
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return decode(bytes, "utf-16le");
  const label = declaredEncoding(bytes);
  if (label === undefined) return decode(bytes, "utf-8");
  if (label.startsWith("utf-16") || label.startsWith("utf-32") || label.startsWith("ucs")) {
    // The declaration was legible as ASCII, so the bytes are not what it claims.
    throw new ProtocolError(
      "ENCODING_UNKNOWN",
      `XML declares ${label} but is not encoded in it (no byte order mark)`,
      { offset: 0 },
    );
  }
  return decode(bytes, label);
}

/** The declaration this codec and most peers write: UTF-8, recognised without the regex. */
const COMMON_DECLARATION = new TextEncoder().encode('<?xml version="1.0" encoding="UTF-8"?>');

function startsWithCommonDeclaration(bytes: Uint8Array, at: number): boolean {
  const n = COMMON_DECLARATION.length;
  if (bytes.length - at < n) return false;
  for (let k = 0; k < n; k++) if (bytes[at + k] !== COMMON_DECLARATION[k]) return false;
  return true;
}

function declaredEncoding(bytes: Uint8Array): string | undefined {
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  if (bytes[i] !== 0x3c || bytes[i + 1] !== 0x3f) return undefined; // "<?"
  if (startsWithCommonDeclaration(bytes, i)) return undefined; // UTF-8
  const end = Math.min(bytes.length, i + 256);
  let head = "";
  for (; i < end; i++) {
    head += String.fromCharCode(bytes[i]!);
    if (bytes[i] === 0x3e) break;
  }
  const m = DECLARED_ENCODING.exec(head.slice(head.indexOf("<")));
  if (m === null) return undefined;
  const label = m[1]!.toLowerCase();
  // US-ASCII is a subset of UTF-8; WHATWG would decode "ascii" as windows-1252.
  return label === "utf-8" || label === "utf8" || label === "us-ascii" || label === "ascii"
    ? undefined
    : label;
}

function decode(bytes: Uint8Array, label: string): string {
  let decoder: { decode(input: Uint8Array): string };
  if (label === "utf-8") decoder = UTF8;
  else {
    try {
      decoder = new TextDecoder(label, { fatal: true });
    } catch {
      throw new ProtocolError("ENCODING_UNKNOWN", `unsupported XML encoding ${label}`, {
        offset: 0,
      });
    }
  }
  try {
    return decoder.decode(bytes);
  } catch {
    const at = label === "utf-8" ? firstInvalidUtf8(bytes) : undefined;
    throw new ProtocolError(
      "XML_MALFORMED",
      `bytes are not valid ${label}`,
      at === undefined ? {} : { offset: at },
    );
  }
}

/** Offset of the first byte that breaks UTF-8 (RFC 3629 §4), for the error message only. */
function firstInvalidUtf8(b: Uint8Array): number | undefined {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    let n: number;
    let min: number;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      min = 0x10000;
    } else return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || (d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return undefined;
}
