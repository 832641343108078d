/**
 * The parts commands are made of, read from the element tree: Item (with its verbatim Data),
 * Target/Source, Cred, Chal, Meta with its MetInf content, and leaf values (trimmed text,
 * decimal counts, base64 text). OMA-TS-DM_RepPro-V1_2 §6, OMA-TS-SyncML_MetInf-V1_2.
 */
import { trimXmlSpace } from "../xml/chars.js";
import { writeXmlFragment } from "../xml/writer.js";
import { childPath, invalid, type Path } from "./bind-path.js";
import { type Element, isElement } from "./element.js";
import type { Chal, Cred, Item, ItemData, Location, Meta } from "./message.js";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const utf8 = new TextDecoder();

/** Item: (Target?, Source?, Meta?, Data?, MoreData?). */
export function readItem(el: Element, up: Path): Item {
  const path = childPath(up, el, true);
  let target: Location | undefined;
  let source: Location | undefined;
  let meta: Meta | undefined;
  let data: ItemData | undefined;
  let moreData = false;
  for (const c of el.children) {
    if (!isElement(c)) continue;
    switch (c.name) {
      case "Target":
        if (target !== undefined) throw duplicate(c, path);
        target = readLocation(c, path);
        break;
      case "Source":
        if (source !== undefined) throw duplicate(c, path);
        source = readLocation(c, path);
        break;
      case "Meta":
        if (meta !== undefined) throw duplicate(c, path);
        meta = readMeta(c, path);
        break;
      case "Data":
        if (data !== undefined) throw duplicate(c, path);
        data = itemData(c);
        break;
      case "MoreData":
        moreData = true;
        break;
    }
  }
  const item: Mutable<Item> = {};
  if (target !== undefined) item.target = target;
  if (source !== undefined) item.source = source;
  if (meta !== undefined) item.meta = meta;
  if (data !== undefined) item.data = data;
  if (moreData) item.moreData = true;
  return item;
}

/**
 * Item Data, verbatim: text as is; WBXML opaque bytes as bytes; child elements (an embedded XML
 * document) as their XML text, written in the Data element's namespace context.
 */
function itemData(el: Element): ItemData {
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

/** Target / Source: (LocURI, LocName?). */
export function readLocation(el: Element, up: Path): Location {
  const path = childPath(up, el);
  let locUri: string | undefined;
  let locName: string | undefined;
  for (const c of el.children) {
    if (!isElement(c)) continue;
    if (c.name === "LocURI") {
      if (locUri !== undefined) throw duplicate(c, path);
      locUri = value(c, path);
    } else if (c.name === "LocName") {
      if (locName !== undefined) throw duplicate(c, path);
      locName = value(c, path);
    }
  }
  if (locUri === undefined) throw missing("LocURI", path);
  return locName === undefined ? { locUri } : { locUri, locName };
}

/** Cred: (Meta?, Data). The Data is a credential (b64 for basic and md5, DM_Security §5.3). */
export function readCred(el: Element, up: Path): Cred {
  const path = childPath(up, el);
  let meta: Meta | undefined;
  let data: string | undefined;
  for (const c of el.children) {
    if (!isElement(c)) continue;
    if (c.name === "Meta") {
      if (meta !== undefined) throw duplicate(c, path);
      meta = readMeta(c, path);
    } else if (c.name === "Data") {
      if (data !== undefined) throw duplicate(c, path);
      data = base64Text(c, path);
    }
  }
  if (data === undefined) throw missing("Data", path);
  return meta === undefined ? { data } : { meta, data };
}

/** Chal: (Meta). */
export function readChal(el: Element, up: Path): Chal {
  const path = childPath(up, el);
  for (const c of el.children) {
    if (isElement(c) && c.name === "Meta") return { meta: readMeta(c, path) };
  }
  throw missing("Meta", path);
}

/**
 * Meta holds MetInf elements (Format?, Type?, Mark?, Size?, Anchor?, Version?, NextNonce?,
 * MaxMsgSize?, MaxObjSize?, EMI*, Mem?). They are matched by name whatever their namespace:
 * many clients omit `xmlns='syncml:metinf'`. Anchor and Mem are DS notions, not used in DM.
 */
export function readMeta(el: Element, up: Path): Meta {
  const meta: Mutable<Meta> = {};
  readMetInf(el, childPath(up, el), meta);
  return meta;
}

/** Adds `el`'s MetInf content to `meta`; EMI values go to `meta.emi`, made at the first one. */
function readMetInf(el: Element, path: Path, meta: Mutable<Meta>): void {
  for (const c of el.children) {
    if (!isElement(c)) continue;
    switch (c.name) {
      case "Format":
        if (meta.format !== undefined) throw duplicate(c, path);
        meta.format = value(c, path);
        break;
      case "Type":
        if (meta.type !== undefined) throw duplicate(c, path);
        meta.type = value(c, path);
        break;
      case "Mark":
        if (meta.mark !== undefined) throw duplicate(c, path);
        meta.mark = value(c, path);
        break;
      case "Size":
        if (meta.size !== undefined) throw duplicate(c, path);
        meta.size = count(c, path);
        break;
      case "Version":
        if (meta.version !== undefined) throw duplicate(c, path);
        meta.version = value(c, path);
        break;
      case "NextNonce":
        if (meta.nextNonce !== undefined) throw duplicate(c, path);
        meta.nextNonce = base64Text(c, path);
        break;
      case "MaxMsgSize":
        if (meta.maxMsgSize !== undefined) throw duplicate(c, path);
        meta.maxMsgSize = count(c, path);
        break;
      case "MaxObjSize":
        if (meta.maxObjSize !== undefined) throw duplicate(c, path);
        meta.maxObjSize = count(c, path);
        break;
      case "EMI": {
        const v = value(c, path);
        if (meta.emi === undefined) meta.emi = [v];
        else (meta.emi as string[]).push(v);
        break;
      }
      case "MetInf":
        // A few implementations wrap the MetInf elements in that DTD's root element; accept it.
        readMetInf(c, childPath(path, c), meta);
        break;
    }
  }
}

/** The text of a leaf element: its character data (and opaque bytes as UTF-8), never elements. */
function text(el: Element, up: Path): string {
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

/** A leaf value with surrounding XML whitespace removed (CmdID, LocURI, Meta values…). */
export function value(el: Element, up: Path): string {
  return trimXmlSpace(text(el, up));
}

/** A non-negative decimal count (Size, MaxMsgSize, MaxObjSize, a Status code). */
export function count(el: Element, up: Path): number {
  const s = value(el, up);
  let ok = s.length > 0 && s.length <= 15;
  // Summed while checked: at most 15 digits stay exact in a double, as Number(s) would give.
  let n = 0;
  for (let i = 0; ok && i < s.length; i++) {
    const c = s.charCodeAt(i);
    ok = c >= 0x30 && c <= 0x39;
    n = n * 10 + (c - 0x30);
  }
  if (!ok)
    throw invalid(
      `${el.name} must be a decimal number, not "${s.slice(0, 40)}"`,
      childPath(up, el),
    );
  return n;
}

/**
 * A base64 value (Cred Data, NextNonce). WBXML peers sometimes send it as opaque data: bytes that
 * already spell base64 are taken as that text; raw bytes (a nonce or digest) are base64-encoded,
 * which is what the XML form of the same value would carry.
 */
function base64Text(el: Element, up: Path): string {
  const kids = el.children;
  if (kids.length === 1 && kids[0] instanceof Uint8Array) {
    const bytes = kids[0];
    const raw = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return isBase64Alphabet(bytes) ? raw.toString("latin1") : raw.toString("base64");
  }
  return value(el, up);
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

export function missing(name: string, path: Path) {
  return invalid(`${path.el.name} lacks the required ${name}`, path);
}

export function duplicate(el: Element, path: Path) {
  return invalid(`${path.el.name} has more than one ${el.name}`, path);
}
