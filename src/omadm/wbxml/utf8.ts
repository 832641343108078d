/**
 * UTF-8 conversion for WBXML strings (charset 106, WAP-192-WBXML §5.6). Protocol strings are
 * short and almost always ASCII (LocURIs, codes, MIME types), so both directions take an ASCII
 * path and use the platform codec only for other text.
 */

/** `fatal`: malformed UTF-8 in untrusted input is an error, never silently replaced. */
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/**
 * Node's native latin1 slice (what `Buffer#toString("latin1")` calls after its argument checks).
 * It accepts any Uint8Array, so no Buffer view of the input is needed; without it (not Node),
 * the TextDecoder does the job.
 */
type Latin1Slicer = (this: Uint8Array, start: number, end: number) => string;
const latin1Slice: Latin1Slicer | undefined = (
  globalThis as { Buffer?: { prototype: { latin1Slice?: Latin1Slicer } } }
).Buffer?.prototype.latin1Slice;

/**
 * Decodes `bytes[start, end)`. `high` is the bitwise OR of those bytes, which the caller has
 * computed while looking for the NUL terminator: below 0x80 the run is ASCII and latin1 slicing
 * gives the same string without validation. `undefined` when the bytes are not valid UTF-8.
 */
export function decodeUtf8(
  bytes: Uint8Array,
  start: number,
  end: number,
  high: number,
): string | undefined {
  if (high < 0x80) return ascii(bytes, start, end);
  try {
    return decoder.decode(bytes.subarray(start, end));
  } catch {
    return undefined;
  }
}

/**
 * ASCII strings recently decoded, by a hash of their bytes: one slot each, a newcomer evicts
 * whatever held its slot. DM messages repeat the same short strings (LocURIs, MIME types,
 * formats, server URLs) in every message of every session; returning the string already made
 * saves creating it (a native call for all but the shortest) and the garbage, and gives the
 * layers above one string object per value, which compares by identity. Direct-mapped, so
 * crafted collisions cost misses, never longer searches; the length cap bounds what it holds.
 */
const INTERN_SLOTS = 1024;
const INTERN_MAX_LENGTH = 64;
const interned: string[] = new Array<string>(INTERN_SLOTS).fill("");
/**
 * The bytes of each interned string, `INTERN_MAX_LENGTH` per slot: comparing bytes with bytes
 * is several times faster than reading the string back with `charCodeAt`.
 */
const internedBytes = new Uint8Array(INTERN_SLOTS * INTERN_MAX_LENGTH);

/**
 * ASCII bytes `b[s, e)` as a string. `hash` is the caller's `h = imul(h, 31) + byte | 0` over
 * the same bytes, computed while it looked for the NUL terminator.
 */
export function asciiString(b: Uint8Array, s: number, e: number, hash: number): string {
  const n = e - s;
  if (n > INTERN_MAX_LENGTH) return ascii(b, s, e);
  const slot = (hash ^ (hash >>> 13) ^ n) & (INTERN_SLOTS - 1);
  const known = interned[slot]!;
  const at = slot * INTERN_MAX_LENGTH;
  if (known.length === n) {
    let i = 0;
    while (i < n && internedBytes[at + i] === b[s + i]) i++;
    if (i === n) return known;
  }
  const str = ascii(b, s, e);
  interned[slot] = str;
  for (let i = 0; i < n; i++) internedBytes[at + i] = b[s + i]!;
  return str;
}

const fcc = String.fromCharCode;

/**
 * ASCII bytes as a string. Most protocol strings are a few characters ("1", "200", "chr",
 * "DM/1.2"); for those a fixed-arity `String.fromCharCode` is about three times faster than a
 * native slice call, which wins for longer ones.
 */
function ascii(b: Uint8Array, s: number, e: number): string {
  switch (e - s) {
    case 0:
      return "";
    case 1:
      return fcc(b[s]!);
    case 2:
      return fcc(b[s]!, b[s + 1]!);
    case 3:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!);
    case 4:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!);
    case 5:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!);
    case 6:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!);
    case 7:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!);
    case 8:
      return fcc(
        b[s]!,
        b[s + 1]!,
        b[s + 2]!,
        b[s + 3]!,
        b[s + 4]!,
        b[s + 5]!,
        b[s + 6]!,
        b[s + 7]!,
      );
    default:
      return latin1Slice ? latin1Slice.call(b, s, e) : decoder.decode(b.subarray(s, e));
  }
}

/** Number of bytes `s` takes in UTF-8 (a lone surrogate counts 3, as TextEncoder writes U+FFFD). */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      n += 1;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        // A surrogate pair: two UTF-16 units, four UTF-8 bytes.
        n += 2;
        i++;
      } else {
        n += 2;
      }
    } else {
      n += 2;
    }
  }
  return n;
}

/**
 * Writes `s` as UTF-8 into `buf` at `at`; the caller guarantees `utf8Length(s)` bytes of room.
 * Returns the position after the last byte written.
 */
export function writeUtf8(buf: Uint8Array, at: number, s: string): number {
  return at + encoder.encodeInto(s, buf.subarray(at)).written;
}
