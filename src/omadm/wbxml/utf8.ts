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
