/**
 * The encoder's string table (WAP-192-WBXML §5.7): which strings of a message repeat, and the
 * byte offset each repeated one gets (the encoder assigns them as it lays the table out).
 * Strings fresh from a decoder have no cached hash, and a Map or Set would hash every one in
 * full; this table keys on the length and four sampled characters instead and compares whole
 * strings only when those agree. All its arrays are reused from message to message (a
 * generation number marks which slots are live, a size how many entries are), because
 * allocating them per message costs more than the encoding itself.
 */
export class StringTable {
  /** Slot → entry, valid where `gens[slot] === gen`. */
  private slots: Int32Array;
  private gens: Int32Array;
  /** Starts above the zero-filled `gens`, so a new table is empty. */
  private gen = 1;
  private mask: number;
  /** Entries `[0, size)` are this message's; the arrays are only ever overwritten, not cut. */
  private size = 0;
  private readonly strings: string[] = [];
  private counts: Int32Array;
  /** Byte offset in the table, or -1 while the string has none. */
  private offsets: Int32Array;

  constructor(capacity = 512) {
    this.slots = new Int32Array(capacity);
    this.gens = new Int32Array(capacity);
    this.mask = capacity - 1;
    // The load stays at most one half, so at most capacity / 2 entries.
    this.counts = new Int32Array(capacity >> 1);
    this.offsets = new Int32Array(capacity >> 1);
  }

  /** Forgets the previous message. */
  reset(): void {
    if (++this.gen === 0x7fffffff) {
      this.gens.fill(0);
      this.gen = 1;
    }
    // Let go of the previous message's strings only where it had many.
    if (this.strings.length > 1024) this.strings.length = 0;
    this.size = 0;
  }

  /** Counts one occurrence of `s`; returns its entry, for `countAt` / `offsetAt`. */
  count(s: string): number {
    const i = this.find(s);
    this.counts[i]! += 1;
    return i;
  }

  /** How often entry `i` occurred. */
  countAt(i: number): number {
    return this.counts[i]!;
  }

  /** The byte offset given to entry `i` in the table, or -1 while it has none. */
  offsetAt(i: number): number {
    return this.offsets[i]!;
  }

  setOffset(i: number, offset: number): void {
    this.offsets[i] = offset;
  }

  private find(s: string): number {
    let slot = sampleHash(s) & this.mask;
    for (;;) {
      if (this.gens[slot] !== this.gen) {
        // Keep the load at most one half, so probes stay short (and entries fit `counts`).
        if ((this.size + 1) * 2 > this.slots.length) {
          this.grow();
          return this.find(s);
        }
        const i = this.size++;
        this.strings[i] = s;
        this.counts[i] = 0;
        this.offsets[i] = -1;
        this.gens[slot] = this.gen;
        this.slots[slot] = i;
        return i;
      }
      const i = this.slots[slot]!;
      if (this.strings[i] === s) return i;
      slot = (slot + 1) & this.mask;
    }
  }

  /** Doubles the slots, keeping every entry's number, count and offset. */
  private grow(): void {
    const capacity = this.slots.length * 2;
    this.slots = new Int32Array(capacity);
    this.gens = new Int32Array(capacity);
    this.mask = capacity - 1;
    this.gen = 1;
    const counts = new Int32Array(capacity >> 1);
    counts.set(this.counts.subarray(0, this.size));
    this.counts = counts;
    const offsets = new Int32Array(capacity >> 1);
    offsets.set(this.offsets.subarray(0, this.size));
    this.offsets = offsets;
    for (let i = 0; i < this.size; i++) {
      let slot = sampleHash(this.strings[i]!) & this.mask;
      while (this.gens[slot] === this.gen) slot = (slot + 1) & this.mask;
      this.gens[slot] = this.gen;
      this.slots[slot] = i;
    }
  }
}

/** The length and four sampled characters: cheap, and enough to tell a message's strings apart. */
function sampleHash(s: string): number {
  const n = s.length;
  let h = n;
  if (n > 0) {
    h = (h * 31 + s.charCodeAt(0)) | 0;
    h = (h * 31 + s.charCodeAt(n - 1)) | 0;
    h = (h * 31 + s.charCodeAt(n >> 1)) | 0;
    h = (h * 31 + s.charCodeAt(n >> 2)) | 0;
  }
  return h ^ (h >>> 9);
}
