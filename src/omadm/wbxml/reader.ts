/**
 * A bounds-checked cursor over untrusted WBXML bytes. Every read checks what is left before it
 * touches the buffer, and every fault becomes a ProtocolError carrying the byte offset of the
 * token that caused it, so a field engineer can find it in a capture.
 */
import { ProtocolError, type ProtocolErrorCode } from "../errors.js";
import { MB_U_INT32_MAX_BYTES } from "./tokens.js";

export class WbxmlReader {
  readonly bytes: Uint8Array;
  /** Offset of `bytes[0]` in the outermost message, for documents embedded in OPAQUE. */
  readonly base: number;
  pos = 0;

  constructor(bytes: Uint8Array, base: number) {
    this.bytes = bytes;
    this.base = base;
  }

  /** An error at `at`, an offset within `bytes`, reported as an offset in the whole message. */
  error(code: ProtocolErrorCode, message: string, at: number): ProtocolError {
    return new ProtocolError(code, message, { offset: this.base + at });
  }

  malformed(message: string, at: number): ProtocolError {
    return this.error("WBXML_MALFORMED", message, at);
  }

  u8(what: string): number {
    if (this.pos >= this.bytes.length) {
      throw this.malformed(`input ends where ${what} was expected`, this.pos);
    }
    return this.bytes[this.pos++]!;
  }

  /**
   * WAP-192-WBXML §5.1: mb_u_int32, big-endian 7-bit groups with the high bit set on every byte
   * but the last. At most five bytes and 32 bits; longer forms are refused rather than read on.
   */
  mbUint32(what: string): number {
    const start = this.pos;
    const bytes = this.bytes;
    let value = 0;
    for (let i = 0; i < MB_U_INT32_MAX_BYTES; i++) {
      if (this.pos >= bytes.length) {
        throw this.malformed(`input ends inside the mb_u_int32 ${what}`, start);
      }
      const b = bytes[this.pos++]!;
      // Multiplication, not shifts: JavaScript bit operators are signed 32-bit.
      value = value * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) {
        if (value > 0xffffffff) throw this.malformed(`mb_u_int32 ${what} exceeds 32 bits`, start);
        return value;
      }
    }
    throw this.malformed(`mb_u_int32 ${what} is longer than ${MB_U_INT32_MAX_BYTES} bytes`, start);
  }

  /** Checks that `n` more bytes exist (before anything is allocated for them). */
  need(n: number, what: string, at: number): void {
    if (n > this.bytes.length - this.pos) {
      throw this.malformed(
        `${what} declares ${n} bytes but only ${this.bytes.length - this.pos} remain`,
        at,
      );
    }
  }

  /** Position of the NUL ending the string that starts at `from`, searching below `limit`. */
  nulBefore(from: number, limit: number): number {
    const i = this.bytes.indexOf(0, from);
    return i < 0 || i >= limit ? -1 : i;
  }
}
