/**
 * The encoder's string table (WAP-192-WBXML §5.7): which strings of a message repeat, and the
 * byte offset each repeated one gets. Strings fresh from a decoder have no cached hash, and a
 * Map or Set would hash every one in full; this table keys on the length and four sampled
 * characters instead and compares whole strings only when those agree. Its slot arrays are
 * reused from message to message (a generation number marks which slots are live), because
 * allocating typed arrays per message costs more than the encoding itself.
 */
export class StringTable {
  /** Slot → index into `strings`, valid where `gens[slot] === gen`. */
  private slots: Int32Array;
  private gens: Int32Array;
  /** Starts above the zero-filled `gens`, so a new table is empty. */
  private gen = 1;
  private mask: number;
  private readonly strings: string[] = [];
  private readonly counts: number[] = [];
  /** Byte offset in the table, or -1 for a string written inline. */
  private readonly offsets: number[] = [];

  constructor(capacity = 512) {
    this.slots = new Int32Array(capacity);
    this.gens = new Int32Array(capacity);
    this.mask = capacity - 1;
  }

  /** Forgets the previous message. */
  reset(): void {
    if (++this.gen === 0x7fffffff) {
      this.gens.fill(0);
      this.gen = 1;
    }
    this.strings.length = 0;
    this.counts.length = 0;
    this.offsets.length = 0;
  }

  /** Counts one occurrence of `s`. */
  count(s: string): void {
    const i = this.find(s, true);
    this.counts[i]! += 1;
  }

  /**
   * Gives each string that occurred at least twice, and that `accept`s, its offset in a table
   * holding them in order of first occurrence. Returns them in that order, and the table's size
   * in bytes (each string plus its NUL).
   */
  layout(
    byteLength: (s: string) => number,
    accept: (s: string) => boolean,
  ): { strings: string[]; size: number } {
    const out: string[] = [];
    let offset = 0;
    for (let i = 0; i < this.strings.length; i++) {
      const s = this.strings[i]!;
      if (this.counts[i]! >= 2 && accept(s)) {
        this.offsets[i] = offset;
        offset += byteLength(s) + 1;
        out.push(s);
      } else {
        this.offsets[i] = -1;
      }
    }
    return { strings: out, size: offset };
  }

  /** The table offset of `s`, or -1 when `s` is written inline. */
  offsetOf(s: string): number {
    const i = this.find(s, false);
    return i < 0 ? -1 : this.offsets[i]!;
  }

  private find(s: string, insert: boolean): number {
    const n = s.length;
    let h = n;
    if (n > 0) {
      h = (h * 31 + s.charCodeAt(0)) | 0;
      h = (h * 31 + s.charCodeAt(n - 1)) | 0;
      h = (h * 31 + s.charCodeAt(n >> 1)) | 0;
      h = (h * 31 + s.charCodeAt(n >> 2)) | 0;
    }
    h ^= h >>> 9;
    let slot = h & this.mask;
    for (;;) {
      if (this.gens[slot] !== this.gen) {
        if (!insert) return -1;
        const i = this.strings.length;
        this.strings.push(s);
        this.counts.push(0);
        this.offsets.push(-1);
        this.gens[slot] = this.gen;
        this.slots[slot] = i;
        // Keep the load at most one half, so probes stay short.
        if (this.strings.length * 2 > this.slots.length) this.grow();
        return i;
      }
      const i = this.slots[slot]!;
      if (this.strings[i] === s) return i;
      slot = (slot + 1) & this.mask;
    }
  }

  private grow(): void {
    const capacity = this.slots.length * 2;
    const strings = this.strings.slice();
    const counts = this.counts.slice();
    const offsets = this.offsets.slice();
    this.slots = new Int32Array(capacity);
    this.gens = new Int32Array(capacity);
    this.mask = capacity - 1;
    this.gen = 1;
    this.strings.length = 0;
    this.counts.length = 0;
    this.offsets.length = 0;
    for (let k = 0; k < strings.length; k++) {
      const i = this.find(strings[k]!, true);
      this.counts[i] = counts[k]!;
      this.offsets[i] = offsets[k]!;
    }
  }
}
