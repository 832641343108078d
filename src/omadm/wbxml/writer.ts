/**
 * A growable byte buffer for the encoder: one Uint8Array doubled when full, so a message costs
 * a handful of allocations instead of one per byte. The encoder lends it a reusable scratch
 * buffer and takes the (possibly grown) buffer back with `buffer`.
 */
import { utf8Length, writeUtf8 } from "./utf8.js";

export class ByteWriter {
  private buf: Uint8Array;
  length = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
  }

  /** The underlying buffer, which may have been replaced by a larger one. */
  get buffer(): Uint8Array {
    return this.buf;
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    const need = this.length + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  u8(b: number): void {
    if (this.length === this.buf.length) this.reserve(1);
    this.buf[this.length++] = b;
  }

  /** Overwrites an already written byte. */
  setByte(at: number, b: number): void {
    this.buf[at] = b;
  }

  /** WAP-192-WBXML §5.1 mb_u_int32: 7-bit groups, most significant first, continuation bit 0x80. */
  mbUint32(v: number): void {
    if (v < 0x80) {
      this.u8(v);
      return;
    }
    this.reserve(5);
    let groups = 1;
    for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) groups++;
    let rest = v;
    for (let i = groups - 1; i >= 0; i--) {
      const g = rest % 128;
      rest = Math.floor(rest / 128);
      this.buf[this.length + i] = i === groups - 1 ? g : g | 0x80;
    }
    this.length += groups;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /**
   * `s` as UTF-8 followed by a NUL: an inline or string-table string (§5.8.4.1, §5.7). Returns
   * false, having written nothing, when `s` contains U+0000, which would end the string early.
   */
  cstring(s: string): boolean {
    const n = s.length;
    this.reserve(n + 1);
    const buf = this.buf;
    let p = this.length;
    // ASCII, the common case, byte by byte; anything else through the platform encoder.
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c === 0) return false;
      if (c >= 0x80) return this.cstringTail(s.slice(i), p);
      buf[p++] = c;
    }
    buf[p++] = 0;
    this.length = p;
    return true;
  }

  private cstringTail(rest: string, p: number): boolean {
    if (rest.indexOf("\u0000") >= 0) return false;
    this.length = p;
    this.reserve(utf8Length(rest) + 1);
    this.length = writeUtf8(this.buf, this.length, rest);
    this.buf[this.length++] = 0;
    return true;
  }

  /**
   * The bytes written, in memory of their own. Message-sized results are carved from a shared
   * slab, as Node's Buffer pool does: allocating a fresh ArrayBuffer per message costs several
   * times more than encoding a small one. The result is a plain Uint8Array view, so code that
   * reaches for `.buffer` must honour `byteOffset` and `byteLength`.
   */
  finish(): Uint8Array {
    const n = this.length;
    if (n > SLAB_SIZE / 4) return this.buf.slice(0, n);
    if (slabUsed + n > SLAB_SIZE) {
      slab = new Uint8Array(SLAB_SIZE);
      slabUsed = 0;
    }
    const out = slab.subarray(slabUsed, slabUsed + n);
    // Keep views 8-byte aligned, as Node's pool does.
    slabUsed += (n + 7) & ~7;
    out.set(this.buf.subarray(0, n));
    return out;
  }
}

const SLAB_SIZE = 16 * 1024;
let slab = new Uint8Array(SLAB_SIZE);
let slabUsed = 0;
