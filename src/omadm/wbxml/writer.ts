/**
 * The bytes of a WBXML 1.2 document (WAP-192-WBXML §5), written element by element: what both
 * encoders share, the tree walker (encode.ts) and the message writer (encode-message.ts), so
 * the two write the same bytes for the same elements by construction.
 *
 * Tags are given as `page << 8 | tag identity` (tables.ts). SWITCH_PAGE is written whenever a tag
 * lives on another code page than the last. An element is written with the content bit; if
 * nothing is written before it closes, the bit is cleared again and no END follows: an empty tag
 * (§5.8.2). Strings of four or more characters that occur more than once go into the string
 * table (§5.7, string-table.ts) and are written as STR_T references; every other string inline.
 *
 * One pass writes the body with every string inline into a reused scratch buffer, noting where
 * each string of table length went; `assemble` then lays out the table from those notes and
 * writes the result, sized exactly, once: header, table, and the body with each repeated
 * string's inline form replaced by its STR_T reference. Every string is hashed once.
 */
import { StringTable } from "./string-table.js";
import {
  CHARSET_UTF8,
  END,
  OPAQUE,
  STR_I,
  STR_T,
  SWITCH_PAGE,
  TAG_CONTENT,
  WBXML_1_2,
} from "./tokens.js";
import { utf8Length, writeUtf8 } from "./utf8.js";

/** Shorter strings cost about as much as an inline string as a table reference. */
const MIN_TABLE_STRING = 4;
/** Ints per note of a table-length string: STR_I position, end after its NUL, entry. */
const NOTE = 3;

export class WbxmlWriter {
  private readonly table: StringTable;
  /** The body, every string inline; `length` bytes of it are written. */
  body: Uint8Array;
  private length = 0;
  /** `NOTE` ints per string of table length, in document order; `noted` of them are used. */
  notes: Int32Array;
  private noted = 0;
  private page = 0;
  /** Where the tags of the elements open through `push` are, innermost last. */
  private stack = new Int32Array(64);
  private depth = 0;

  constructor(bodySize: number, notes: number, tableCapacity: number) {
    this.body = new Uint8Array(bodySize);
    this.notes = new Int32Array(notes * NOTE);
    this.table = new StringTable(tableCapacity);
  }

  /** Forgets what was written: a new document. */
  reset(): void {
    this.table.reset();
    this.length = 0;
    this.noted = 0;
    this.page = 0;
    this.depth = 0;
  }

  /** Starts element `packed` (with the content bit); returns where its tag is, for `close`. */
  open(packed: number): number {
    const buf = this.room(3);
    let p = this.length;
    const page = packed >> 8;
    if (page !== this.page) {
      buf[p++] = SWITCH_PAGE;
      buf[p++] = page;
      this.page = page;
    }
    buf[p] = (packed & 0xff) | TAG_CONTENT;
    this.length = p + 1;
    return p;
  }

  /** `open`, keeping the tag's place for `pop`; false past `maxDepth` open elements. */
  push(packed: number, maxDepth: number): boolean {
    const d = this.depth;
    if (d >= maxDepth) return false;
    if (d === this.stack.length) {
      const grown = new Int32Array(d * 2);
      grown.set(this.stack);
      this.stack = grown;
    }
    this.stack[d] = this.open(packed);
    this.depth = d + 1;
    return true;
  }

  /** `close` of the element opened by the last `push`. */
  pop(): void {
    this.close(this.stack[--this.depth]!);
  }

  /** Element `packed` holding the text `s`, not empty: false, as `text`, for U+0000. */
  leaf(packed: number, s: string): boolean {
    this.open(packed);
    if (!this.text(s)) return false;
    this.room(1)[this.length++] = END;
    return true;
  }

  /** Ends the element whose tag is at `tagAt`: END, or an empty tag if it got no content. */
  close(tagAt: number): void {
    if (this.length === tagAt + 1) {
      this.body[tagAt]! &= ~TAG_CONTENT;
    } else {
      this.room(1)[this.length++] = END;
    }
  }

  /**
   * STR_I, `s` as UTF-8, NUL; noted for the string table when long enough. False, with nothing
   * usable written, when `s` contains U+0000: NUL terminates WBXML strings (§5.8.4.1).
   */
  text(s: string): boolean {
    const n = s.length;
    let buf = this.room(n + 2);
    const at = this.length;
    let p = at;
    buf[p++] = STR_I;
    // ASCII, the common case, byte by byte; anything else through the platform encoder.
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80 || c === 0) {
        if (s.indexOf("\u0000", i) >= 0) return false;
        const rest = s.slice(i);
        this.length = p;
        buf = this.room(utf8Length(rest) + 1);
        p = writeUtf8(buf, p, rest);
        break;
      }
      buf[p++] = c;
    }
    buf[p++] = 0;
    this.length = p;
    if (n >= MIN_TABLE_STRING) {
      if (this.noted * NOTE === this.notes.length) {
        const grown = new Int32Array(this.notes.length * 2);
        grown.set(this.notes);
        this.notes = grown;
      }
      const k = this.noted++ * NOTE;
      this.notes[k] = at;
      this.notes[k + 1] = p;
      this.notes[k + 2] = this.table.count(s);
    }
    return true;
  }

  /** OPAQUE, the length, the bytes (§5.8.4.6). */
  opaque(bytes: Uint8Array): void {
    const buf = this.room(bytes.length + 6);
    buf[this.length] = OPAQUE;
    const p = writeMb(buf, this.length + 1, bytes.length);
    buf.set(bytes, p);
    this.length = p + bytes.length;
  }

  /** The body buffer, grown if needed to take `n` more bytes. */
  private room(n: number): Uint8Array {
    const need = this.length + n;
    if (need <= this.body.length) return this.body;
    let size = this.body.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.body.subarray(0, this.length));
    this.body = next;
    return next;
  }

  /**
   * §5.7: the strings of table length that occur at least twice, each NUL-terminated, in order
   * of first occurrence; then the whole document, of public id `publicId`, in memory of its own.
   */
  assemble(publicId: number): Uint8Array {
    const table = this.table;
    const notes = this.notes;
    const body = this.body;
    const noteEnd = this.noted * NOTE;
    let tableSize = 0;
    /** Bytes the body shrinks by when repeated strings become references. */
    let saved = 0;
    for (let k = 0; k < noteEnd; k += NOTE) {
      const entry = notes[k + 2]!;
      if (table.countAt(entry) < 2) continue;
      let offset = table.offsetAt(entry);
      if (offset < 0) {
        offset = tableSize;
        table.setOffset(entry, offset);
        // The string's bytes and its NUL, as written inline after STR_I.
        tableSize += notes[k + 1]! - notes[k]! - 1;
      }
      saved += notes[k + 1]! - notes[k]! - 1 - mbLength(offset);
    }
    const size =
      1 +
      mbLength(publicId) +
      mbLength(CHARSET_UTF8) +
      mbLength(tableSize) +
      tableSize +
      this.length -
      saved;
    const out = allocate(size);
    // §5.3 header: version, public id, charset, string table.
    out[0] = WBXML_1_2;
    let p = writeMb(out, 1, publicId);
    p = writeMb(out, p, CHARSET_UTF8);
    p = writeMb(out, p, tableSize);
    const tableAt = p;
    if (tableSize > 0) {
      // A string's first occurrence is the one whose offset is where the table has got to.
      for (let k = 0; k < noteEnd; k += NOTE) {
        const entry = notes[k + 2]!;
        if (table.countAt(entry) >= 2 && table.offsetAt(entry) === p - tableAt) {
          p = copy(body, notes[k]! + 1, notes[k + 1]!, out, p);
        }
      }
    }
    let from = 0;
    if (tableSize > 0) {
      for (let k = 0; k < noteEnd; k += NOTE) {
        const entry = notes[k + 2]!;
        if (table.countAt(entry) < 2) continue;
        p = copy(body, from, notes[k]!, out, p);
        out[p++] = STR_T;
        p = writeMb(out, p, table.offsetAt(entry));
        from = notes[k + 1]!;
      }
    }
    p = copy(body, from, this.length, out, p);
    return out;
  }
}

/** Scratch reused across calls, so a message allocates little beyond its result. */
let pooled: WbxmlWriter | undefined = new WbxmlWriter(8192, 64, 512);
/** A scratch buffer grown past this is not kept after the call. */
const MAX_KEPT_SCRATCH = 1 << 20;

/**
 * A writer for one document, reset. A document encoded while another holds the pooled writer
 * (DevInf embedded in a message) gets a small one of its own.
 */
export function lendWriter(): WbxmlWriter {
  const w = pooled ?? new WbxmlWriter(1024, 16, 64);
  pooled = undefined;
  w.reset();
  return w;
}

/** Gives a lent writer back, without what grew for an exceptionally large message. */
export function returnWriter(w: WbxmlWriter): void {
  if (w.body.length > MAX_KEPT_SCRATCH) w.body = new Uint8Array(8192);
  if (w.notes.length * 4 > MAX_KEPT_SCRATCH) w.notes = new Int32Array(64 * NOTE);
  pooled = w;
}

/** Bytes of `v` as a WAP-192-WBXML §5.1 mb_u_int32. */
function mbLength(v: number): number {
  if (v < 0x80) return 1;
  let n = 1;
  for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) n++;
  return n;
}

/** Writes `v` as an mb_u_int32 (7-bit groups, most significant first) at `p`; returns the end. */
function writeMb(buf: Uint8Array, p: number, v: number): number {
  if (v < 0x80) {
    buf[p] = v;
    return p + 1;
  }
  const groups = mbLength(v);
  let rest = v;
  for (let i = groups - 1; i >= 0; i--) {
    const g = rest % 128;
    rest = Math.floor(rest / 128);
    buf[p + i] = i === groups - 1 ? g : g | 0x80;
  }
  return p + groups;
}

/** Copies `src[from, to)` to `dst` at `p`; returns the end. Short runs skip the view a set needs. */
function copy(src: Uint8Array, from: number, to: number, dst: Uint8Array, p: number): number {
  const n = to - from;
  if (n < 64) {
    for (let i = from; i < to; i++) dst[p++] = src[i]!;
    return p;
  }
  dst.set(src.subarray(from, to), p);
  return p + n;
}

/**
 * Memory for a result of `n` bytes. Message-sized results are carved from a shared slab, as
 * Node's Buffer pool does: allocating a fresh ArrayBuffer per message costs several times more
 * than encoding a small one. The result is a plain Uint8Array view, so code that reaches for
 * `.buffer` must honour `byteOffset` and `byteLength`.
 */
function allocate(n: number): Uint8Array {
  if (n > SLAB_SIZE / 4) return new Uint8Array(n);
  if (slabUsed + n > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + n);
  // Keep views 8-byte aligned, as Node's pool does.
  slabUsed += (n + 7) & ~7;
  return out;
}

const SLAB_SIZE = 16 * 1024;
let slab = new Uint8Array(SLAB_SIZE);
let slabUsed = 0;
