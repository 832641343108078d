/**
 * Neutral element tree → WBXML 1.2 (WAP-192-WBXML §5; OMA-TS-SyncML_RepPro-V1_2 §8), UTF-8.
 *
 * - The public id follows the root's namespace: SyncML 1.2 0x1201, MetInf 1.2 0x1202, DevInf 1.2
 *   0x1203. SWITCH_PAGE is written whenever the next tag lives on another code page (MetInf
 *   elements inside a SyncML Meta are page 1).
 * - Strings of four or more characters that occur more than once go into the string table
 *   (§5.7, string-table.ts) and are written as STR_T references; every other string is written
 *   inline (STR_I).
 * - Uint8Array children are written as OPAQUE (§5.8.4.6).
 * - A DevInf element inside a SyncML `Data` is written as a complete DevInf 1.2 WBXML document in
 *   OPAQUE, which is how DevInf travels inside SyncML (the SyncML token space has no DevInf
 *   page); decode.ts turns it back into the element. The Meta Type announcing it is written as
 *   `application/vnd.syncml-devinf+wbxml` where the tree says `…+xml` (devinf-type.ts).
 * - Empty string children are dropped; an element without other children is written as an
 *   empty tag (no content bit).
 *
 * One pass over the tree writes the body with every string inline into a reused scratch buffer,
 * noting where each string of table length went; the table is then laid out from those notes,
 * and the result, sized exactly, is written once: header, table, and the body with each
 * repeated string's inline form replaced by its STR_T reference. Every string is hashed once.
 *
 * The input is our own tree, not untrusted bytes; still, what WBXML cannot express (an element
 * with no token, text containing U+0000) is refused with a ProtocolError naming the element path.
 */

import { ProtocolError } from "../errors.js";
import type { Element } from "../model/element.js";
import { DEVINF_WBXML_TYPE, DEVINF_XML_TYPE, devInfTypes } from "./devinf-type.js";
import { StringTable } from "./string-table.js";
import { SYNCML_1_2, type TagIndex, type Vocabulary, vocabularyForRoot } from "./tables.js";
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
/** Recursion guard for trees built in code (decoded trees are bounded by Limits.maxDepth). */
const MAX_ENCODE_DEPTH = 256;
/** Ints per note of a table-length string: STR_I position, end after its NUL, entry. */
const NOTE = 3;

/**
 * Scratch reused across calls, so a message allocates little beyond its result: the body
 * buffer, the string table and the notes of where strings went. An embedded DevInf document is
 * encoded while the outer message holds them, so it gets its own.
 */
interface Scratch {
  body: Uint8Array;
  notes: Int32Array;
  readonly table: StringTable;
}

let pooled: Scratch | undefined = {
  body: new Uint8Array(8192),
  notes: new Int32Array(64 * NOTE),
  table: new StringTable(),
};
/** A scratch buffer grown past this is not kept after the call. */
const MAX_KEPT_SCRATCH = 1 << 20;

export function encodeWbxml(root: Element): Uint8Array {
  const vocab = vocabularyForRoot(root.ns);
  if (!vocab) {
    throw new ProtocolError("WBXML_UNSUPPORTED", `no WBXML document type for namespace ${root.ns}`);
  }
  const lent = pooled;
  pooled = undefined;
  const scratch = lent ?? {
    body: new Uint8Array(1024),
    notes: new Int32Array(16 * NOTE),
    table: new StringTable(64),
  };
  const enc = new Encoder(vocab, scratch);
  try {
    return enc.document(root);
  } finally {
    if (lent) {
      // Keep what grew, unless it grew for an exceptionally large message.
      if (enc.body.length <= MAX_KEPT_SCRATCH) lent.body = enc.body;
      if (enc.notes.length * 4 <= MAX_KEPT_SCRATCH) lent.notes = enc.notes;
      pooled = lent;
    }
  }
}

/** Thrown inside the body pass to start it again, once: see `embedded`. */
const RESTART = Symbol("restart");

class Encoder {
  private readonly vocab: Vocabulary;
  private readonly syncml: TagIndex | undefined;
  private readonly metinf: TagIndex | undefined;
  private readonly devinf: TagIndex | undefined;
  private readonly table: StringTable;
  /** The body, every string inline; `length` bytes of it are written. */
  body: Uint8Array;
  private length = 0;
  /** `NOTE` ints per string of table length, in document order; `noted` of them are used. */
  notes: Int32Array;
  private noted = 0;
  private page = 0;
  /**
   * Type elements whose `…devinf+xml` is written as `…devinf+wbxml` (devinf-type.ts); found when
   * the first embedded DevInf is met, undefined before.
   */
  private retype: Set<Element> | undefined;
  private root: Element | undefined;

  constructor(vocab: Vocabulary, scratch: Scratch) {
    this.vocab = vocab;
    this.syncml = vocab.tagIndex.get("syncml");
    this.metinf = vocab.tagIndex.get("metinf");
    this.devinf = vocab.tagIndex.get("devinf");
    this.table = scratch.table;
    this.body = scratch.body;
    this.notes = scratch.notes;
  }

  document(root: Element): Uint8Array {
    this.root = root;
    for (;;) {
      this.table.reset();
      this.length = 0;
      this.noted = 0;
      this.page = 0;
      try {
        this.element(root, 0);
        break;
      } catch (e) {
        if (e !== RESTART) throw e;
      }
    }
    return this.assemble();
  }

  /**
   * §5.7: the strings of table length that occur at least twice, each NUL-terminated, in order
   * of first occurrence; then the whole document in memory of its own.
   */
  private assemble(): Uint8Array {
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
    const publicId = this.vocab.publicId;
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

  private element(el: Element, depth: number): void {
    if (depth > MAX_ENCODE_DEPTH) {
      throw new ProtocolError("LIMIT_EXCEEDED", `elements nest deeper than ${MAX_ENCODE_DEPTH}`);
    }
    const ns = el.ns;
    const index = ns === "syncml" ? this.syncml : ns === "metinf" ? this.metinf : this.devinf;
    const packed = index === undefined ? -1 : index.get(el.name);
    if (packed < 0) {
      throw this.fail(`<${el.name}> in namespace ${el.ns} has no WBXML token in this document`, el);
    }
    const page = packed >> 8;
    let buf = this.room(3);
    let p = this.length;
    if (page !== this.page) {
      buf[p++] = SWITCH_PAGE;
      buf[p++] = page;
      this.page = page;
    }
    // Written with the content bit; if no child writes anything (no children, or only empty
    // strings) the bit is cleared again and no END follows: an empty tag (§5.8.2).
    const tagAt = p;
    buf[p++] = (packed & 0xff) | TAG_CONTENT;
    this.length = p;
    const children = el.children;
    const retyped = this.retype?.has(el) === true;
    for (let i = 0; i < children.length; i++) {
      const c = children[i]!;
      if (typeof c === "string") {
        if (retyped) this.text(DEVINF_WBXML_TYPE, el);
        else if (c !== "") this.text(c, el);
      } else if (ArrayBuffer.isView(c) && c instanceof Uint8Array) {
        // isView first: a plain `instanceof` walks an element's prototype chain each time.
        this.opaque(c);
      } else if (c.ns === "devinf" && this.embedded(el)) {
        this.opaque(encodeWbxml(c));
      } else {
        this.element(c, depth + 1);
      }
    }
    if (this.length === tagAt + 1) {
      this.body[tagAt] = packed & 0xff;
    } else {
      buf = this.room(1);
      buf[this.length++] = END;
    }
  }

  /** STR_I, `s` as UTF-8, NUL; noted for the string table when long enough. */
  private text(s: string, el: Element): void {
    const n = s.length;
    let buf = this.room(n + 2);
    const at = this.length;
    let p = at;
    buf[p++] = STR_I;
    // ASCII, the common case, byte by byte; anything else through the platform encoder.
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80 || c === 0) {
        // NUL terminates WBXML strings (§5.8.4.1), so text containing U+0000 has no encoding.
        if (s.indexOf("\u0000", i) >= 0) {
          throw this.fail("text contains U+0000, which WBXML cannot carry", el);
        }
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
  }

  private opaque(bytes: Uint8Array): void {
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
   * True for DevInf carried as an embedded document in a SyncML Data (`parent`). The Meta Type
   * announcing it is written before the Data, so when the first such DevInf shows that a Type
   * must change, the body pass starts again with the Types known (rare: one more pass).
   */
  private embedded(parent: Element): boolean {
    if (!(this.vocab === SYNCML_1_2 && parent.ns === "syncml" && parent.name === "Data")) {
      return false;
    }
    if (this.retype === undefined && this.root !== undefined) {
      this.retype = new Set(devInfTypes(this.root, DEVINF_XML_TYPE));
      if (this.retype.size > 0) throw RESTART;
    }
    return true;
  }

  /** An error naming the path to `at`, found by searching from the root (errors are rare). */
  private fail(message: string, at: Element): ProtocolError {
    const path = this.root ? pathTo(this.root, at) : undefined;
    return new ProtocolError(
      "WBXML_UNSUPPORTED",
      message,
      path ? { path: path.map((e) => e.name).join("/") } : undefined,
    );
  }
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

function pathTo(from: Element, target: Element): Element[] | undefined {
  if (from === target) return [from];
  for (const c of from.children) {
    if (typeof c === "string" || c instanceof Uint8Array) continue;
    const below = pathTo(c, target);
    if (below) return [from, ...below];
  }
  return undefined;
}
