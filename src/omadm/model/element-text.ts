/**
 * The leaf readings of one tree element: verbatim Item Data, leaf text, and base64 values that
 * WBXML peers may send as opaque bytes. Shared by the element cursor (cursor.ts) and the part
 * readers (bind-read-parts.ts), which is why they live apart from both.
 */
import { trimXmlSpace } from "../xml/chars.js";
import { writeXmlFragment } from "../xml/writer.js";
import { childPath, invalid, type Path } from "./bind-path.js";
import { type Element, isElement } from "./element.js";
import type { ItemData } from "./message.js";

const utf8 = new TextDecoder();

/**
 * Item Data, verbatim: text as is; WBXML opaque bytes as bytes; child elements (an embedded XML
 * document) as their XML text, written in the Data element's namespace context.
 */
export function itemData(el: Element): ItemData {
  const kids = el.children;
  if (kids.length === 0) return "";
  const first = kids[0]!;
  if (kids.length === 1 && (typeof first === "string" || first instanceof Uint8Array)) return first;
  if (kids.every((k) => k instanceof Uint8Array)) return new Uint8Array(Buffer.concat(kids));
  if (kids.some(isElement)) return writeXmlFragment(kids, el.ns);
  let s = "";
  for (const k of kids) s += typeof k === "string" ? k : utf8.decode(k as Uint8Array);
  return s;
}

/** The text of a leaf element: its character data (and opaque bytes as UTF-8), never elements. */
export function leafText(el: Element, up: Path): string {
  const kids = el.children;
  if (kids.length === 1) {
    const only = kids[0]!;
    if (typeof only === "string") return only;
  } else if (kids.length === 0) return "";
  let s = "";
  for (const k of kids) {
    if (typeof k === "string") s += k;
    else if (k instanceof Uint8Array) s += utf8.decode(k);
    else
      throw invalid(`${el.name} holds element ${k.name} where text is expected`, childPath(up, el));
  }
  return s;
}

/**
 * A base64 value (Cred Data, NextNonce). WBXML peers sometimes send it as opaque data: bytes that
 * already spell base64 are taken as that text; raw bytes (a nonce or digest) are base64-encoded,
 * which is what the XML form of the same value would carry.
 */
export function base64Text(el: Element, up: Path): string {
  const kids = el.children;
  if (kids.length === 1 && kids[0] instanceof Uint8Array) return base64FromBytes(kids[0]);
  return trimXmlSpace(leafText(el, up));
}

/** Base64 text carried as opaque bytes: the text they spell, or their base64 encoding. */
export function base64FromBytes(bytes: Uint8Array): string {
  const raw = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return isBase64Alphabet(bytes) ? raw.toString("latin1") : raw.toString("base64");
}

function isBase64Alphabet(bytes: Uint8Array): boolean {
  for (const b of bytes) {
    const ok =
      (b >= 0x41 && b <= 0x5a) ||
      (b >= 0x61 && b <= 0x7a) ||
      (b >= 0x30 && b <= 0x39) ||
      b === 0x2b ||
      b === 0x2f ||
      b === 0x3d;
    if (!ok) return false;
  }
  return bytes.length > 0;
}
