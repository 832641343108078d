/**
 * WBXML → typed message, without the element tree: the binding (model/bind-read.ts) reads
 * through a cursor whose elements come token by token straight from the bytes. This is the hot path of every WBXML
 * message; `decodeWbxml` + `toMessage` remain the reference, and for any input this path accepts
 * it returns the message they return (test/omadm/wbxml-direct.test.ts holds the two to that).
 *
 * It reads only what DM messages are made of: WBXML 1.1–1.3 of SyncML 1.2 by its public id,
 * UTF-8, tags without attributes, inline and table strings, opaque data and page switches, and
 * the root's END as the last byte. At anything else — and at any fault or limit, which it checks
 * as the tree decoder does — it gives up (throws `GIVE_UP`, or whatever error met it first), and
 * the caller decodes through the tree, which yields the message or the error with its byte
 * offset or path: what this decoder finds wrong is never what is reported.
 * Among what it leaves to the tree: embedded DevInf, Data holding elements, text mixed with
 * opaque data, character entities, literal tags, processing instructions.
 */
import type { Limits } from "../errors.js";
import { readMessage } from "../model/bind-read.js";
import { type CursorSource, ElementCursor } from "../model/cursor.js";
import type { Namespace } from "../model/element.js";
import { base64FromBytes } from "../model/element-text.js";
import type { ItemData, SyncMLMessage } from "../model/message.js";
import { trimXmlSpace } from "../xml/chars.js";
import { looksLikeDevInf, resolveLimits } from "./decode.js";
import { WbxmlReader } from "./reader.js";
import { SYNCML_1_2 } from "./tables.js";
import {
  CHARSET_UTF8,
  END,
  FIRST_TAG_ID,
  OPAQUE,
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

/** Thrown where this path stops; the caller then decodes through the element tree. */
export const GIVE_UP: unique symbol = Symbol("decode through the element tree");

/** Decodes a WBXML SyncML message directly, or throws `GIVE_UP` (or a ProtocolError). */
export function decodeMessageWbxml(bytes: Uint8Array, limits?: Partial<Limits>): SyncMLMessage {
  const lim = resolveLimits(limits);
  if (bytes.length > lim.maxBytes) throw GIVE_UP;
  const src = new TokenSource(bytes, lim);
  if (src.nextName() !== "SyncML" || src.ns !== "syncml") throw GIVE_UP;
  const message = readMessage(new ElementCursor(undefined, src));
  src.finish();
  return message;
}

/**
 * Strings of the string table already decoded, by offset, for offsets below `TABLE_CACHE`:
 * valid where `tableCacheGen` holds the current message's generation. Kept from message to
 * message (a table made per message costs more than decoding a few strings again).
 */
const TABLE_CACHE = 256;
const tableCache: string[] = new Array<string>(TABLE_CACHE).fill("");
const tableCacheGen = new Int32Array(TABLE_CACHE);
let generations = 0;

/** Opaque bytes read as text, as bind-read-parts.ts does (not fatal: the tree path is not). */
const utf8 = new TextDecoder();

/** Elements for the binding's cursor, token by token. */
class TokenSource implements CursorSource {
  /** Namespace of the element `nextName` named. */
  ns: Namespace = "syncml";
  private readonly bytes: Uint8Array;
  private pos = 0;
  /** Elements entered and not yet left. */
  private depth = 0;
  /** The current child has content that nothing has read yet. */
  private pending = false;
  /** An element without content was entered: the next `next` leaves it. */
  private emptyEntered = false;
  private names: ReadonlyArray<string | undefined>;
  private pageNs: Namespace;
  private readonly maxDepth: number;
  private elements: number;
  private textBytes: number;
  private tableStart = 0;
  private tableEnd = 0;
  /** This message's generation in the table cache. */
  private readonly generation: number;

  constructor(bytes: Uint8Array, limits: Limits) {
    if (++generations === 0x7fffffff) {
      tableCacheGen.fill(0);
      generations = 1;
    }
    this.generation = generations;
    this.bytes = bytes;
    this.maxDepth = limits.maxDepth;
    this.elements = limits.maxElements;
    this.textBytes = limits.maxBytes;
    const page0 = SYNCML_1_2.pages[0]!;
    this.names = page0.names;
    this.pageNs = page0.ns;
    this.header();
  }

  /** §5.3: version, the SyncML 1.2 public id 0x1201 (A4 01), UTF-8 (6A), the string table. */
  private header(): void {
    const b = this.bytes;
    if (!(b[0]! >= WBXML_1_1 && b[0]! <= WBXML_1_3 && b[1] === 0xa4 && b[2] === 0x01)) {
      throw GIVE_UP;
    }
    if (b[3] !== CHARSET_UTF8) throw GIVE_UP;
    this.pos = 4;
    const length = this.mbUint32();
    if (length > b.length - this.pos) throw GIVE_UP;
    this.tableStart = this.pos;
    this.tableEnd = this.pos + length;
    if (length > 0 && b[this.tableEnd - 1] !== 0) throw GIVE_UP;
    this.pos = this.tableEnd;
  }

  /** After the message: its root's END was the last byte. */
  finish(): void {
    if (this.depth !== 0 || this.pending || this.pos !== this.bytes.length) throw GIVE_UP;
  }

  nextName(): string | undefined {
    if (this.emptyEntered) {
      this.emptyEntered = false;
      return undefined;
    }
    if (this.pending) this.skip();
    const bytes = this.bytes;
    for (;;) {
      if (this.pos >= bytes.length) throw GIVE_UP;
      const token = bytes[this.pos++]!;
      if ((token & TAG_ID_MASK) >= FIRST_TAG_ID) {
        const name = this.tag(token, this.depth);
        this.pending = (token & TAG_CONTENT) !== 0;
        return name;
      }
      if (token === END) {
        if (this.depth === 0) throw GIVE_UP;
        this.depth--;
        return undefined;
      }
      if (token !== SWITCH_PAGE) throw GIVE_UP;
      this.switchPage();
    }
  }

  enter(): void {
    if (this.pending) {
      this.pending = false;
      this.depth++;
    } else {
      this.emptyEntered = true;
    }
  }

  text(): string {
    const c = this.content();
    return typeof c === "string" ? c : utf8.decode(c);
  }

  data(): ItemData {
    return this.content();
  }

  base64(): string {
    const c = this.content();
    return typeof c === "string" ? trimXmlSpace(c) : base64FromBytes(c);
  }

  /**
   * A tag token below `open` open elements: its name and namespace, charged against the element
   * count and checked against the depth, as the tree decoder does.
   */
  private tag(token: number, open: number): string {
    const name = this.names[token & TAG_ID_MASK];
    if (name === undefined || (token & TAG_ATTRIBUTES) !== 0) throw GIVE_UP;
    if (--this.elements < 0 || open + 1 > this.maxDepth) throw GIVE_UP;
    this.ns = this.pageNs;
    return name;
  }

  /**
   * The current child's content through its END: text (adjacent pieces joined), or one opaque
   * piece. Elements inside, or text and opaque data mixed, are left to the tree path.
   */
  private content(): string | Uint8Array {
    if (!this.pending) return "";
    this.pending = false;
    const bytes = this.bytes;
    // Most leaves hold one string: STR_I, the bytes, NUL, END; or STR_T, an index, END.
    const token = bytes[this.pos];
    if (token === STR_I || token === STR_T) {
      this.pos++;
      const s = token === STR_I ? this.inline() : this.tableRef();
      if (bytes[this.pos] === END) {
        this.pos++;
        return s;
      }
      return this.moreContent(s);
    }
    return this.moreContent("");
  }

  /** The rest of `content`, after text `text`. */
  private moreContent(text: string): string | Uint8Array {
    const bytes = this.bytes;
    let opaque: Uint8Array | undefined;
    for (;;) {
      if (this.pos >= bytes.length) throw GIVE_UP;
      const token = bytes[this.pos++]!;
      if (token === END) {
        if (opaque === undefined) return text;
        if (text !== "") throw GIVE_UP;
        return opaque;
      }
      if (token === STR_I || token === STR_T) {
        const s = token === STR_I ? this.inline() : this.tableRef();
        text = text === "" ? s : text + s;
      } else if (token === OPAQUE) {
        if (opaque !== undefined || text !== "") throw GIVE_UP;
        opaque = this.opaque();
      } else if (token === SWITCH_PAGE) {
        this.switchPage();
      } else {
        throw GIVE_UP;
      }
    }
  }

  /** Passes over the rest of the current child, checking it as the tree decoder would. */
  private skip(): void {
    this.pending = false;
    const bytes = this.bytes;
    let open = 1;
    while (open > 0) {
      if (this.pos >= bytes.length) throw GIVE_UP;
      const token = bytes[this.pos++]!;
      if ((token & TAG_ID_MASK) >= FIRST_TAG_ID) {
        this.tag(token, this.depth + open);
        if (token & TAG_CONTENT) open++;
      } else if (token === END) {
        open--;
      } else if (token === STR_I) {
        this.inline();
      } else if (token === STR_T) {
        this.tableRef();
      } else if (token === OPAQUE) {
        this.opaque();
      } else if (token === SWITCH_PAGE) {
        this.switchPage();
      } else {
        throw GIVE_UP;
      }
    }
  }

  private switchPage(): void {
    const cp = SYNCML_1_2.pages[this.bytes[this.pos++]!];
    if (cp === undefined) throw GIVE_UP;
    this.names = cp.names;
    this.pageNs = cp.ns;
  }

  /** STR_I's string, after the token. */
  private inline(): string {
    const s = this.cstring(this.pos, this.bytes.length);
    this.spend(s.length);
    return s;
  }

  /** STR_T's string, after the token. */
  private tableRef(): string {
    const index = this.mbUint32();
    const size = this.tableEnd - this.tableStart;
    if (index >= size) throw GIVE_UP;
    let s: string | undefined;
    if (index < TABLE_CACHE && tableCacheGen[index] === this.generation) {
      s = tableCache[index]!;
    } else {
      const pos = this.pos;
      s = this.cstring(this.tableStart + index, this.tableEnd);
      this.pos = pos;
      if (index < TABLE_CACHE) {
        tableCache[index] = s;
        tableCacheGen[index] = this.generation;
      }
    }
    this.spend(s.length);
    return s;
  }

  /** An mb_u_int32 (§5.1) at the position, moving past it; one byte for most. */
  private mbUint32(): number {
    const bytes = this.bytes;
    const b = bytes[this.pos];
    if (b !== undefined && b < 0x80) {
      this.pos++;
      return b;
    }
    const r = new WbxmlReader(bytes, 0);
    r.pos = this.pos;
    const value = r.mbUint32("a number");
    this.pos = r.pos;
    return value;
  }

  /** The NUL-terminated UTF-8 string at `from`, its NUL searched below `limit`; moves past it. */
  private cstring(from: number, limit: number): string {
    const bytes = this.bytes;
    let i = from;
    let high = 0;
    let hash = 0;
    for (; i < limit; i++) {
      const b = bytes[i]!;
      if (b === 0) break;
      high |= b;
      hash = (Math.imul(hash, 31) + b) | 0;
    }
    if (i >= limit) throw GIVE_UP;
    const s = high < 0x80 ? asciiString(bytes, from, i, hash) : decodeUtf8(bytes, from, i, high);
    if (s === undefined) throw GIVE_UP;
    this.pos = i + 1;
    return s;
  }

  /** OPAQUE's bytes, copied (the message never aliases the caller's buffer), after the token. */
  private opaque(): Uint8Array {
    const length = this.mbUint32();
    if (length > this.bytes.length - this.pos) throw GIVE_UP;
    this.spend(length);
    const start = this.pos;
    this.pos = start + length;
    const bytes = new Uint8Array(this.bytes.subarray(start, this.pos));
    // Embedded DevInf: the tree decoder expands it.
    if (looksLikeDevInf(bytes)) throw GIVE_UP;
    return bytes;
  }

  /** Charges decoded characters or opaque bytes against the size limit, as the tree path does. */
  private spend(n: number): void {
    this.textBytes -= n;
    if (this.textBytes < 0) throw GIVE_UP;
  }
}
