import { createHash } from "node:crypto";
import { describe, IdentityError } from "./errors.js";
import { meidBytes } from "./meid.js";

/**
 * ESN (TIA-EIA-95 / 3GPP2 X.S0008): 32 bits, an 8-bit manufacturer code followed by a 24-bit
 * serial number, written as 8 hexadecimal digits. Manufacturer code 0x80 is reserved for
 * pseudo-ESNs.
 *
 * Pseudo-ESN (3GPP2 S.R0048): 0x80 followed by the 24 least significant bits of SHA-1 over the
 * MEID's 7 bytes. The bytes are the 56-bit MEID big-endian, i.e. its 14 hex digits taken two at
 * a time: MEID FF000001123456 hashes the bytes FF 00 00 01 12 34 56 (RR FF, manufacturer 000001,
 * serial 123456) and gives pESN 800737E1. A check digit is never hashed. (The shared vector
 * table prints that MEID as "FF00000112345 6"; the separated 6 is the last digit of the serial,
 * not a check digit: the check digit of FF000001123456 is F, and hashing the ASCII text or only
 * the first 13 digits does not give 0737E1.)
 *
 * Accepted text: 8 hex digits, either case, optionally after "0x"; normalised to upper case.
 */
export interface EsnParts {
  /** 8 upper-case hex digits. */
  readonly esn: string;
  readonly value: number;
  readonly manufacturerCode: number;
  readonly serial: number;
}

export const PSEUDO_ESN_MANUFACTURER_CODE = 0x80;

const ESN_TEXT = /^(?:0[xX])?([0-9A-Fa-f]{8})$/;

export function parseEsn(esn: string): EsnParts {
  const match = typeof esn === "string" && esn.length <= 10 ? ESN_TEXT.exec(esn) : null;
  if (!match) {
    throw new IdentityError(
      "ESN_INVALID",
      `ESN must be 8 hexadecimal digits (optionally after 0x), got ${describe(esn)}`,
      "esn",
    );
  }
  const hex = match[1]!.toUpperCase();
  const value = Number.parseInt(hex, 16);
  return { esn: hex, value, manufacturerCode: value >>> 24, serial: value & 0xffffff };
}

export function isValidEsn(esn: string): boolean {
  try {
    parseEsn(esn);
    return true;
  } catch (err) {
    if (err instanceof IdentityError) return false;
    throw err;
  }
}

/** Canonical text of an ESN: 8 upper-case hex digits. */
export function normaliseEsn(esn: string): string {
  return parseEsn(esn).esn;
}

/** Canonical text of a 32-bit ESN value. */
export function formatEsn(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new IdentityError("ESN_INVALID", `ESN must be a 32-bit unsigned integer`, "esn");
  }
  return value.toString(16).padStart(8, "0").toUpperCase();
}

/** The pseudo-ESN of an MEID (14 or 15 digits), as 8 upper-case hex digits. */
export function pseudoEsn(meid: string): string {
  const digest = createHash("sha1").update(meidBytes(meid)).digest();
  const low24 = digest.readUIntBE(digest.length - 3, 3);
  return formatEsn(((PSEUDO_ESN_MANUFACTURER_CODE << 24) >>> 0) + low24);
}

/** Whether a well-formed ESN carries the pseudo-ESN manufacturer code 0x80; false if malformed. */
export function isPseudoEsn(esn: string): boolean {
  return isValidEsn(esn) && parseEsn(esn).manufacturerCode === PSEUDO_ESN_MANUFACTURER_CODE;
}
