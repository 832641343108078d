/**
 * Argument checks shared by the repositories. The store is the last line before the database,
 * so it refuses what no caller should send (wrong types, unbounded sizes, values outside an
 * enumeration) with `ARGUMENT_INVALID`, or `ROW_INVALID` plus the row's index during imports.
 * Identity rules (Luhn, TAC) belong to `identity` and its callers, not here.
 */
import { StoreError } from "./errors.js";
import type { Clock } from "./types.js";

/** Identifiers: printable ASCII without spaces (IMEI, MEID, ESN, kid, nonce, ids, part names). */
const ID = /^[\x21-\x7e]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to refuse them
const CONTROL = /[\x00-\x1f\x7f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to refuse them
const CONTROL_BUT_NEWLINES = /[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function fail(field: string, why: string, index: number | undefined): never {
  if (index === undefined) {
    throw new StoreError("ARGUMENT_INVALID", `${field} ${why}`, { field });
  }
  throw new StoreError("ROW_INVALID", `row ${index}: ${field} ${why}`, { field, index });
}

/** An identifier: 1..max printable ASCII characters, no spaces. */
export function id(value: unknown, field: string, max = 64, index?: number): string {
  if (typeof value !== "string") return fail(field, "must be a string", index);
  if (value.length === 0 || value.length > max) {
    return fail(field, `must be 1 to ${max} characters`, index);
  }
  if (!ID.test(value)) return fail(field, "must be printable ASCII without spaces", index);
  return value;
}

export function optId(value: unknown, field: string, max = 64, index?: number): string | null {
  return value === undefined || value === null ? null : id(value, field, max, index);
}

/** Free text: 1..max characters without control characters (or with newlines, for PEM). */
export function text(
  value: unknown,
  field: string,
  max: number,
  index?: number,
  newlines = false,
): string {
  if (typeof value !== "string") return fail(field, "must be a string", index);
  if (value.length === 0 || value.length > max) {
    return fail(field, `must be 1 to ${max} characters`, index);
  }
  if ((newlines ? CONTROL_BUT_NEWLINES : CONTROL).test(value)) {
    return fail(field, "must not contain control characters", index);
  }
  return value;
}

export function optText(
  value: unknown,
  field: string,
  max: number,
  index?: number,
  newlines = false,
): string | null {
  return value === undefined || value === null ? null : text(value, field, max, index, newlines);
}

export function oneOf<T extends string>(
  value: unknown,
  field: string,
  allowed: readonly T[],
  index?: number,
): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    return fail(field, `must be one of ${allowed.join(", ")}`, index);
  }
  return value as T;
}

/** A calendar date `YYYY-MM-DD`. */
export function optDate(value: unknown, field: string, index?: number): string | null {
  if (value === undefined || value === null) return null;
  const m = typeof value === "string" ? DATE.exec(value) : null;
  if (!m) return fail(field, "must be a date YYYY-MM-DD", index);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d) {
    return fail(field, "is not a calendar date", index);
  }
  return value as string;
}

/** A non-negative safe integer (times, versions, durations, sequence numbers). */
export function count(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    return fail(field, "must be a non-negative integer", undefined);
  }
  return value;
}

/** `now` if given, else the clock; both must be integral milliseconds. */
export function timeOf(now: number | undefined, clock: Clock): number {
  return count(now === undefined ? clock() : now, "now");
}

export function part(value: unknown): string {
  return id(value, "part", 128);
}

const MAX_PAGE = 10_000;

export function limitOf(limit: unknown, fallback = 100): number {
  if (limit === undefined) return fallback;
  const n = count(limit, "limit");
  if (n < 1 || n > MAX_PAGE) fail("limit", `must be 1 to ${MAX_PAGE}`, undefined);
  return n;
}

export function list(value: unknown, field: string, max: number, itemMax: number): string[] {
  if (!Array.isArray(value)) return fail(field, "must be an array of strings", undefined);
  if (value.length > max) return fail(field, `must hold at most ${max} items`, undefined);
  return value.map((v, i) => id(v, `${field}[${i}]`, itemMax));
}
