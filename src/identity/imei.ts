import { describe, IdentityError } from "./errors.js";
import { luhnCheckDigit } from "./luhn.js";

/**
 * IMEI and IMEISV, 3GPP TS 23.003 §6.2.
 *
 * IMEI (§6.2.1): 15 decimal digits = TAC (8, Type Allocation Code) + SNR (6, serial number)
 * + CD (1, Luhn check digit over the 14 digits before it, Annex B).
 * IMEISV (§6.2.2): 16 decimal digits = TAC (8) + SNR (6) + SVN (2, software version number);
 * it has no check digit. SVN 99 is reserved for future use by the spec; it is not refused here.
 *
 * Input is strict: ASCII digits only, no spaces or separators.
 */
export interface ImeiParts {
  /** The IMEI as given (15 digits). */
  readonly imei: string;
  readonly tac: string;
  readonly serial: string;
  readonly checkDigit: string;
}

export interface ImeisvParts {
  readonly imeisv: string;
  readonly tac: string;
  readonly serial: string;
  readonly svn: string;
}

const DIGITS = /^[0-9]+$/;

function checkTac(tac: string): void {
  if (typeof tac !== "string" || tac.length !== 8 || !DIGITS.test(tac)) {
    throw new IdentityError(
      "TAC_INVALID",
      `TAC must be 8 decimal digits, got ${describe(tac)}`,
      "tac",
    );
  }
}

function serialDigits(serial: string | number): string {
  if (typeof serial === "number") {
    if (Number.isInteger(serial) && serial >= 0 && serial <= 999_999) {
      return String(serial).padStart(6, "0");
    }
  } else if (typeof serial === "string" && serial.length === 6 && DIGITS.test(serial)) {
    return serial;
  }
  throw new IdentityError(
    "SERIAL_INVALID",
    `serial must be 6 decimal digits or an integer 0..999999, got ${describe(String(serial))}`,
    "serial",
  );
}

function svnDigits(svn: string | number): string {
  if (typeof svn === "number") {
    if (Number.isInteger(svn) && svn >= 0 && svn <= 99) return String(svn).padStart(2, "0");
  } else if (typeof svn === "string" && svn.length === 2 && DIGITS.test(svn)) {
    return svn;
  }
  throw new IdentityError(
    "SVN_INVALID",
    `software version number must be 2 decimal digits or an integer 0..99, got ${describe(String(svn))}`,
    "svn",
  );
}

/** Checks that `value` is a string of exactly `length` ASCII digits; length is reported first. */
function requireDigits(
  value: string,
  length: number,
  label: "IMEI" | "IMEISV",
  field: "imei" | "imeisv",
): void {
  const lengthCode = label === "IMEI" ? "IMEI_LENGTH" : "IMEISV_LENGTH";
  const charsetCode = label === "IMEI" ? "IMEI_CHARSET" : "IMEISV_CHARSET";
  if (typeof value !== "string") {
    throw new IdentityError(
      charsetCode,
      `${label} must be a string, got ${describe(value)}`,
      field,
    );
  }
  if (value.length !== length) {
    throw new IdentityError(
      lengthCode,
      `${label} must be ${length} digits, got ${value.length} characters`,
      field,
    );
  }
  if (!DIGITS.test(value)) {
    throw new IdentityError(
      charsetCode,
      `${label} must be decimal digits only, got ${describe(value)}`,
      field,
    );
  }
}

/** Splits and validates an IMEI; throws an {@link IdentityError} naming the first fault. */
export function parseImei(imei: string): ImeiParts {
  requireDigits(imei, 15, "IMEI", "imei");
  const expected = luhnCheckDigit(imei.slice(0, 14));
  const checkDigit = imei.slice(14);
  if (checkDigit !== expected) {
    throw new IdentityError(
      "IMEI_CHECK_DIGIT",
      `IMEI ${imei} has check digit ${checkDigit}, the Luhn check digit is ${expected}`,
      "imei",
    );
  }
  return { imei, tac: imei.slice(0, 8), serial: imei.slice(8, 14), checkDigit };
}

export function isValidImei(imei: string): boolean {
  try {
    parseImei(imei);
    return true;
  } catch (err) {
    if (err instanceof IdentityError) return false;
    throw err;
  }
}

/** Builds the 15-digit IMEI from a TAC and a serial, appending the Luhn check digit. */
export function makeImei(tac: string, serial: string | number): string {
  checkTac(tac);
  const body = tac + serialDigits(serial);
  return body + luhnCheckDigit(body);
}

/** Splits and validates an IMEISV (16 digits, no check digit). */
export function parseImeisv(imeisv: string): ImeisvParts {
  requireDigits(imeisv, 16, "IMEISV", "imeisv");
  return {
    imeisv,
    tac: imeisv.slice(0, 8),
    serial: imeisv.slice(8, 14),
    svn: imeisv.slice(14),
  };
}

export function isValidImeisv(imeisv: string): boolean {
  try {
    parseImeisv(imeisv);
    return true;
  } catch (err) {
    if (err instanceof IdentityError) return false;
    throw err;
  }
}

/** IMEI → IMEISV: drops the check digit and appends the software version number. */
export function imeiToImeisv(imei: string, svn: string | number): string {
  const { tac, serial } = parseImei(imei);
  return tac + serial + svnDigits(svn);
}

/** IMEISV → IMEI: drops the SVN and appends the Luhn check digit of TAC + serial. */
export function imeisvToImei(imeisv: string): string {
  const { tac, serial } = parseImeisv(imeisv);
  return makeImei(tac, serial);
}
