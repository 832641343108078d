import { describe, IdentityError } from "./errors.js";
import { parseImei } from "./imei.js";
import { luhnCheckDigit, luhnCheckDigitHex } from "./luhn.js";
import { cryptoRandomInt, draw, type RandomInt } from "./random.js";

/**
 * MEID, 3GPP2 S.R0048 (format) and X.S0008: 56 bits written as 14 hexadecimal digits,
 * RR (2, regional code) + XXXXXX (6, manufacturer code) + ZZZZZZ (6, serial number), optionally
 * followed by a check digit CD that is not part of the MEID.
 *
 * Decimal-only rule. The regional code splits the number space between two administrators:
 * an MEID made only of the digits 0-9 lies in the decimal range of the GSMA (which allocates
 * IMEIs), so its 14 digits are the TAC + serial of an IMEI and its check digit is the IMEI's
 * decimal Luhn digit. Any MEID containing A-F (the hexadecimal range, RR A0-FF, administered by
 * the TIA) takes the Luhn formula in base 16. So `meidCheckDigit("49015420323751")` is `"8"`,
 * the check digit of IMEI 490154203237518, and `meidCheckDigit("AF0123450ABCDE")` is `"C"`.
 *
 * Accepted text: 14 or 15 hex digits, either case, no separators; normalised to upper case.
 * The 18-digit decimal representation of an MEID is not handled here.
 */
export interface MeidParts {
  /** The 14 digits, upper case, without check digit. */
  readonly meid: string;
  readonly regionalCode: string;
  readonly manufacturerCode: string;
  readonly serial: string;
  /** The check digit as given (upper case), when the input had 15 digits. */
  readonly checkDigit: string | undefined;
  /** Only decimal digits: the MEID is also TAC + serial of an IMEI (see the module note). */
  readonly decimalOnly: boolean;
}

const HEX = /^[0-9A-F]+$/;
const DECIMAL = /^[0-9]+$/;

/** Check digit of a 14-digit MEID: decimal Luhn when decimal-only, base-16 Luhn otherwise. */
export function meidCheckDigit(meid: string): string {
  const m = normaliseMeid(meid);
  return DECIMAL.test(m) ? luhnCheckDigit(m) : luhnCheckDigitHex(m);
}

/** Parses an MEID (14 digits, or 15 with a check digit, which must then be right). */
export function parseMeid(meid: string): MeidParts {
  if (typeof meid !== "string") {
    throw new IdentityError("MEID_CHARSET", `MEID must be a string, got ${describe(meid)}`, "meid");
  }
  if (meid.length !== 14 && meid.length !== 15) {
    throw new IdentityError(
      "MEID_LENGTH",
      `MEID must be 14 hex digits (15 with check digit), got ${meid.length} characters`,
      "meid",
    );
  }
  const upper = meid.toUpperCase();
  if (!HEX.test(upper)) {
    throw new IdentityError(
      "MEID_CHARSET",
      `MEID must be hexadecimal digits only, got ${describe(meid)}`,
      "meid",
    );
  }
  const body = upper.slice(0, 14);
  const decimalOnly = DECIMAL.test(body);
  let checkDigit: string | undefined;
  if (upper.length === 15) {
    checkDigit = upper.slice(14);
    const expected = decimalOnly ? luhnCheckDigit(body) : luhnCheckDigitHex(body);
    if (checkDigit !== expected) {
      throw new IdentityError(
        "MEID_CHECK_DIGIT",
        `MEID ${body} has check digit ${checkDigit}, expected ${expected}`,
        "meid",
      );
    }
  }
  return {
    meid: body,
    regionalCode: body.slice(0, 2),
    manufacturerCode: body.slice(2, 8),
    serial: body.slice(8, 14),
    checkDigit,
    decimalOnly,
  };
}

export function isValidMeid(meid: string): boolean {
  try {
    parseMeid(meid);
    return true;
  } catch (err) {
    if (err instanceof IdentityError) return false;
    throw err;
  }
}

/** The canonical form: 14 upper-case hex digits, check digit (verified, then) dropped. */
export function normaliseMeid(meid: string): string {
  return parseMeid(meid).meid;
}

/** The MEID's 7 bytes, big-endian: RR, then manufacturer code, then serial. */
export function meidBytes(meid: string): Uint8Array {
  return Uint8Array.from(Buffer.from(normaliseMeid(meid), "hex"));
}

/** The MEID of a dual-mode device with this IMEI: its 14 digits TAC + serial (decimal-only). */
export function meidFromImei(imei: string): string {
  const { tac, serial } = parseImei(imei);
  return tac + serial;
}

/**
 * The IMEI a decimal-only MEID stands for (the MEID's 14 digits + decimal Luhn check digit);
 * `undefined` for a MEID in the hexadecimal range, which cannot be an IMEI.
 */
export function imeiFromMeid(meid: string): string | undefined {
  const parts = parseMeid(meid);
  return parts.decimalOnly ? parts.meid + luhnCheckDigit(parts.meid) : undefined;
}

/**
 * A random MEID in the hexadecimal range (RR A0-FF), so never decimal-only and never
 * mistakable for an IMEI; manufacturer code and serial uniform over 24 bits each.
 */
export function generateMeid(rng: RandomInt = cryptoRandomInt): string {
  const rr = 0xa0 + draw(rng, 0x60);
  const manufacturer = draw(rng, 0x1000000);
  const serial = draw(rng, 0x1000000);
  return (
    rr.toString(16).padStart(2, "0") +
    manufacturer.toString(16).padStart(6, "0") +
    serial.toString(16).padStart(6, "0")
  ).toUpperCase();
}
