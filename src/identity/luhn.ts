import { IdentityError } from "./errors.js";

/**
 * The Luhn formula (ISO/IEC 7812-1 Annex B), generalised to any radix as 3GPP2 S.R0048 uses
 * it for MEIDs: starting from the rightmost payload digit, every second digit is doubled and
 * the doubled value's digits (in that radix) are summed; the check digit brings the total to
 * a multiple of the radix.
 */
function luhnCheckValue(digits: string, radix: 10 | 16): number {
  const pattern = radix === 10 ? /^[0-9]+$/ : /^[0-9A-Fa-f]+$/;
  if (typeof digits !== "string" || !pattern.test(digits)) {
    throw new IdentityError(
      "LUHN_INPUT",
      `Luhn input must be one or more ${radix === 10 ? "decimal" : "hexadecimal"} digits`,
    );
  }
  let sum = 0;
  let double = true; // the rightmost payload digit sits next to the check digit: doubled
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = Number.parseInt(digits[i]!, radix);
    if (double) {
      d *= 2;
      // A two-digit doubled value is at most "1x" in the radix: its digit sum is d - (radix - 1).
      if (d >= radix) d -= radix - 1;
    }
    sum += d;
    double = !double;
  }
  return (radix - (sum % radix)) % radix;
}

/**
 * Decimal Luhn check digit of `digits` (the 14 digits TAC + serial for an IMEI, 3GPP TS 23.003
 * §6.2.1 and Annex B). Returns one character "0".."9".
 */
export function luhnCheckDigit(digits: string): string {
  return String(luhnCheckValue(digits, 10));
}

/** Base-16 Luhn check digit (3GPP2 S.R0048, MEID check digit), one upper-case character "0".."F". */
export function luhnCheckDigitHex(digits: string): string {
  return luhnCheckValue(digits, 16).toString(16).toUpperCase();
}

/** Whether a decimal string's last digit is the Luhn check digit of the rest. */
export function isLuhnValid(digits: string): boolean {
  if (typeof digits !== "string" || digits.length < 2 || !/^[0-9]+$/.test(digits)) return false;
  return luhnCheckDigit(digits.slice(0, -1)) === digits.slice(-1);
}
