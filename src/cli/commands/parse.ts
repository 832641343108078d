/**
 * Option and argument parsers for commander: a bad value throws InvalidArgumentError, which
 * commander reports with the option's name and main() turns into exit code 2 (CONTRACT.md).
 * They import nothing heavy: every command's definition loads at start-up, its work only when
 * it runs (dynamic imports in the actions), so `--help` and usage errors answer quickly.
 */
import { InvalidArgumentError } from "commander";

function integer(v: string, min: number, max: number, what: string): number {
  if (!/^[0-9]+$/.test(v)) throw new InvalidArgumentError(`${what} must be a whole number`);
  const n = Number(v);
  if (n < min || n > max) throw new InvalidArgumentError(`${what} must be ${min}-${max}`);
  return n;
}

export const parsePort = (v: string): number => integer(v, 0, 65_535, "the port");
export const parseCount = (v: string): number => integer(v, 1, 10_000_000, "the count");
export const parseConcurrency = (v: string): number => integer(v, 1, 4096, "the concurrency");

export function parseRate(v: string): number {
  const n = Number(v);
  if (!/^[0-9.]+$/.test(v) || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new InvalidArgumentError("the rate must be a number from 0 to 1");
  }
  return n;
}

/** The slot sizes DESIGN.md allows (device/validate.ts SLOT_COUNTS; repeated to keep --help light). */
const SLOT_COUNTS = [8, 16, 24] as const;

export function parseSlots(v: string): (typeof SLOT_COUNTS)[number] {
  const n = Number(v);
  if (!(SLOT_COUNTS as readonly number[]).includes(n)) {
    throw new InvalidArgumentError(`slots must be one of ${SLOT_COUNTS.join(", ")}`);
  }
  return n as (typeof SLOT_COUNTS)[number];
}

/** 15 digits. The Luhn check is the inventory's and the TSZ's: a counterfeit may fail it. */
export function parseImei(v: string): string {
  if (!/^[0-9]{15}$/.test(v)) throw new InvalidArgumentError("an IMEI is 15 digits");
  return v;
}

export function parseMeid(v: string): string {
  if (!/^[0-9A-Fa-f]{14,15}$/.test(v)) throw new InvalidArgumentError("a MEID is 14 hex digits");
  return v.toUpperCase();
}

export function parseDate(v: string): string {
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(v);
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
  if (!d || d.toISOString().slice(0, 10) !== v) {
    throw new InvalidArgumentError("a date is YYYY-MM-DD");
  }
  return v;
}

/** Carrier and enterprise ids, as the servers accept them. */
export function parseId(v: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,31}$/.test(v)) {
    throw new InvalidArgumentError("an id is 1-32 lowercase letters, digits and dashes");
  }
  return v;
}

/** `carrier:ID`, `enterprise:ID` or `platform`: an audit log's owner. */
export function parsePart(v: string): string {
  if (v === "platform" || /^(carrier|enterprise):[a-z0-9][a-z0-9-]{0,31}$/.test(v)) return v;
  throw new InvalidArgumentError("a part is carrier:ID, enterprise:ID or platform");
}
