/**
 * The parts commands are made of, read through an element cursor (cursor.ts): Item (with its
 * verbatim Data), Target/Source, Cred, Chal, Meta with its MetInf content, and leaf values
 * (trimmed text, decimal counts, base64 text). OMA-TS-DM_RepPro-V1_2 §6,
 * OMA-TS-SyncML_MetInf-V1_2. The leaf readings of a tree element are in element-text.ts.
 */
import { trimXmlSpace } from "../xml/chars.js";
import { invalid, type Path } from "./bind-path.js";
import type { ElementCursor } from "./cursor.js";
import type { Chal, Cred, Item, ItemData, Location, Meta } from "./message.js";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Item: (Target?, Source?, Meta?, Data?, MoreData?). */
export function readItem(cur: ElementCursor, up: Path): Item {
  const path = cur.enter(up, true);
  let target: Location | undefined;
  let source: Location | undefined;
  let meta: Meta | undefined;
  let data: ItemData | undefined;
  let moreData = false;
  while (cur.next()) {
    switch (cur.name) {
      case "Target":
        if (target !== undefined) throw duplicate(cur, path);
        target = readLocation(cur, path);
        break;
      case "Source":
        if (source !== undefined) throw duplicate(cur, path);
        source = readLocation(cur, path);
        break;
      case "Meta":
        if (meta !== undefined) throw duplicate(cur, path);
        meta = readMeta(cur, path);
        break;
      case "Data":
        if (data !== undefined) throw duplicate(cur, path);
        data = cur.data();
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

/** Target / Source: (LocURI, LocName?). */
export function readLocation(cur: ElementCursor, up: Path): Location {
  const path = cur.enter(up);
  let locUri: string | undefined;
  let locName: string | undefined;
  while (cur.next()) {
    const name = cur.name;
    if (name === "LocURI") {
      if (locUri !== undefined) throw duplicate(cur, path);
      locUri = value(cur, path);
    } else if (name === "LocName") {
      if (locName !== undefined) throw duplicate(cur, path);
      locName = value(cur, path);
    }
  }
  if (locUri === undefined) throw missing("LocURI", path);
  return locName === undefined ? { locUri } : { locUri, locName };
}

/** Cred: (Meta?, Data). The Data is a credential (b64 for basic and md5, DM_Security §5.3). */
export function readCred(cur: ElementCursor, up: Path): Cred {
  const path = cur.enter(up);
  let meta: Meta | undefined;
  let data: string | undefined;
  while (cur.next()) {
    const name = cur.name;
    if (name === "Meta") {
      if (meta !== undefined) throw duplicate(cur, path);
      meta = readMeta(cur, path);
    } else if (name === "Data") {
      if (data !== undefined) throw duplicate(cur, path);
      data = cur.base64(path);
    }
  }
  if (data === undefined) throw missing("Data", path);
  return meta === undefined ? { data } : { meta, data };
}

/** Chal: (Meta); the first Meta counts, what follows it is passed over. */
export function readChal(cur: ElementCursor, up: Path): Chal {
  const path = cur.enter(up);
  while (cur.next()) {
    if (cur.name === "Meta") {
      const chal = { meta: readMeta(cur, path) };
      while (cur.next());
      return chal;
    }
  }
  throw missing("Meta", path);
}

/**
 * Meta holds MetInf elements (Format?, Type?, Mark?, Size?, Anchor?, Version?, NextNonce?,
 * MaxMsgSize?, MaxObjSize?, EMI*, Mem?). They are matched by name whatever their namespace:
 * many clients omit `xmlns='syncml:metinf'`. Anchor and Mem are DS notions, not used in DM.
 */
export function readMeta(cur: ElementCursor, up: Path): Meta {
  const meta: Mutable<Meta> = {};
  readMetInf(cur, cur.enter(up), meta);
  return meta;
}

/**
 * Adds the entered element's MetInf content to `meta`; EMI values go to `meta.emi`, made at the
 * first one.
 */
function readMetInf(cur: ElementCursor, path: Path, meta: Mutable<Meta>): void {
  while (cur.next()) {
    switch (cur.name) {
      case "Format":
        if (meta.format !== undefined) throw duplicate(cur, path);
        meta.format = value(cur, path);
        break;
      case "Type":
        if (meta.type !== undefined) throw duplicate(cur, path);
        meta.type = value(cur, path);
        break;
      case "Mark":
        if (meta.mark !== undefined) throw duplicate(cur, path);
        meta.mark = value(cur, path);
        break;
      case "Size":
        if (meta.size !== undefined) throw duplicate(cur, path);
        meta.size = count(cur, path);
        break;
      case "Version":
        if (meta.version !== undefined) throw duplicate(cur, path);
        meta.version = value(cur, path);
        break;
      case "NextNonce":
        if (meta.nextNonce !== undefined) throw duplicate(cur, path);
        meta.nextNonce = cur.base64(path);
        break;
      case "MaxMsgSize":
        if (meta.maxMsgSize !== undefined) throw duplicate(cur, path);
        meta.maxMsgSize = count(cur, path);
        break;
      case "MaxObjSize":
        if (meta.maxObjSize !== undefined) throw duplicate(cur, path);
        meta.maxObjSize = count(cur, path);
        break;
      case "EMI": {
        const v = value(cur, path);
        if (meta.emi === undefined) meta.emi = [v];
        else (meta.emi as string[]).push(v);
        break;
      }
      case "MetInf":
        // A few implementations wrap the MetInf elements in that DTD's root element; accept it.
        readMetInf(cur, cur.enter(path), meta);
        break;
    }
  }
}

/** A leaf value with surrounding XML whitespace removed (CmdID, LocURI, Meta values…). */
export function value(cur: ElementCursor, up: Path): string {
  return trimXmlSpace(cur.text(up));
}

/** A non-negative decimal count (Size, MaxMsgSize, MaxObjSize, a Status code). */
export function count(cur: ElementCursor, up: Path): number {
  const s = value(cur, up);
  let ok = s.length > 0 && s.length <= 15;
  // Summed while checked: at most 15 digits stay exact in a double, as Number(s) would give.
  let n = 0;
  for (let i = 0; ok && i < s.length; i++) {
    const c = s.charCodeAt(i);
    ok = c >= 0x30 && c <= 0x39;
    n = n * 10 + (c - 0x30);
  }
  if (!ok)
    throw invalid(`${cur.name} must be a decimal number, not "${s.slice(0, 40)}"`, cur.here(up));
  return n;
}

export function missing(name: string, path: Path) {
  return invalid(`${path.el.name} lacks the required ${name}`, path);
}

/** The cursor's current child is a second one of its kind. */
export function duplicate(cur: ElementCursor, path: Path) {
  return invalid(`${path.el.name} has more than one ${cur.name}`, path);
}
