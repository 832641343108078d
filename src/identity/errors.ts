/**
 * The one error type the identity rules throw. Callers switch on `code`, never on message
 * text; `field` names the identifier that was wrong. Messages never echo more than the
 * offending identifier's length, so an oversized input cannot flood a log.
 */
export type IdentityErrorCode =
  /** Input to a Luhn computation is empty or not made of digits of its radix. */
  | "LUHN_INPUT"
  /** IMEI is not 15 characters long. */
  | "IMEI_LENGTH"
  /** IMEI contains a character other than an ASCII decimal digit. */
  | "IMEI_CHARSET"
  /** IMEI's 15th digit is not the Luhn check digit of the first 14. */
  | "IMEI_CHECK_DIGIT"
  /** IMEISV is not 16 characters long. */
  | "IMEISV_LENGTH"
  /** IMEISV contains a character other than an ASCII decimal digit. */
  | "IMEISV_CHARSET"
  /** Type Allocation Code is not 8 decimal digits. */
  | "TAC_INVALID"
  /** Serial number is not 6 decimal digits (or an integer 0..999999). */
  | "SERIAL_INVALID"
  /** Software version number is not 2 decimal digits (or an integer 0..99). */
  | "SVN_INVALID"
  /** MEID is neither 14 nor 15 characters long. */
  | "MEID_LENGTH"
  /** MEID contains a character other than a hexadecimal digit. */
  | "MEID_CHARSET"
  /** MEID's 15th digit is not its check digit. */
  | "MEID_CHECK_DIGIT"
  /** ESN is not 8 hexadecimal digits (optionally after `0x`). */
  | "ESN_INVALID"
  /** The device model is not in the TAC table. */
  | "MODEL_UNKNOWN"
  /** An injected random source returned something other than an integer in range. */
  | "RANDOM_INVALID";

export type IdentityField = "imei" | "imeisv" | "tac" | "serial" | "svn" | "meid" | "esn" | "model";

export class IdentityError extends Error {
  override readonly name = "IdentityError";
  readonly code: IdentityErrorCode;
  readonly field: IdentityField | undefined;

  constructor(code: IdentityErrorCode, message: string, field?: IdentityField) {
    super(message);
    this.code = code;
    this.field = field;
  }
}

/** A short, safe description of a value for an error message (never the whole of a huge input). */
export function describe(value: unknown): string {
  if (typeof value !== "string") return `a ${value === null ? "null" : typeof value}`;
  if (value.length > 32) return `a ${value.length}-character string`;
  return JSON.stringify(value);
}
