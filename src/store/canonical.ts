/**
 * Canonical JSON, the byte form the audit chain hashes and JSON columns store: object keys
 * sorted by UTF-16 code units, no insignificant whitespace, numbers and strings as
 * ECMAScript's JSON.stringify writes them (the serialisation rules of RFC 8785, JCS, for the
 * integers and strings audit details hold). Only plain data is accepted: no undefined inside
 * arrays, no NaN/Infinity, no class instances (a Buffer would otherwise leak as an object).
 */
import { createHash } from "node:crypto";
import { types } from "node:util";
import { StoreError } from "./errors.js";
import type { JsonValue } from "./types.js";

const MAX_DEPTH = 32;

export function canonicalJson(value: unknown, field = "value"): string {
  // Most values (parsed from canonical text, changed, written back; audit details built in
  // order) are canonical as they stand: then JSON.stringify writes the same bytes, in one native
  // pass instead of a string per member.
  if (writesCanonically(value, 0)) return JSON.stringify(value);
  const path: (string | number)[] = [];
  try {
    return encode(value, path);
  } catch (err) {
    if (err instanceof Unfit) throw bad(field + pathText(path), err.message);
    throw err;
  }
}

/**
 * What makes a value unfit, thrown from where it was met; `path` then still holds the keys
 * down to it. The path is kept as a stack of keys rather than strings built at every level,
 * which cost most of what encoding a DM session's state allocated.
 */
class Unfit extends Error {}

function pathText(path: readonly (string | number)[]): string {
  return path.map((k) => (typeof k === "number" ? `[${k}]` : `.${k}`)).join("");
}

function encode(value: unknown, path: (string | number)[]): string {
  if (path.length > MAX_DEPTH) throw new Unfit(`nests deeper than ${MAX_DEPTH}`);
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "string":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new Unfit("is not a finite number");
      return JSON.stringify(value);
    case "object":
      break;
    default:
      throw new Unfit(`holds a ${typeof value}, which is not JSON`);
  }
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ",";
      path.push(i);
      out += encode(value[i], path);
      path.pop();
    }
    return `${out}]`;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw new Unfit("is not a plain object");
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  // Most objects arrive in order (parsed from canonical text, changed, written back).
  if (!inOrder(keys)) sortKeys(keys);
  let out = "{";
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    if (out.length > 1) out += ",";
    path.push(k);
    out += `${JSON.stringify(k)}:${encode(v, path)}`;
    path.pop();
  }
  return `${out}}`;
}

/**
 * Whether JSON.stringify writes `value` exactly as `encode` would: plain data within MAX_DEPTH,
 * finite numbers, no undefined in arrays, no member JSON.stringify would convert (a toJSON
 * method) or drop silently where `encode` refuses (a function, a symbol), and every object's
 * keys already in order. False sends the value to `encode`, which sorts, or says what is unfit.
 * Members are read twice, here and by JSON.stringify: this takes the store's values to be data
 * (parsed JSON, literals), not getters that answer otherwise the second time.
 */
function writesCanonically(value: unknown, depth: number): boolean {
  if (depth > MAX_DEPTH) return false;
  if (value === null) return true;
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value);
    case "object":
      break;
    default:
      return false;
  }
  // What JSON.stringify writes otherwise than its members, whatever the prototype says: a boxed
  // primitive (as the primitive), raw JSON (as its text, where JSON.rawJSON exists); and a proxy,
  // which could answer the second read (JSON.stringify's) otherwise than this one.
  if (types.isProxy(value) || types.isBoxedPrimitive(value) || isRawJson(value)) return false;
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (v === undefined || !writesCanonically(v, depth + 1)) return false;
    }
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (!inOrder(keys)) return false;
  for (const k of keys) {
    const v = obj[k];
    // Left out by both.
    if (v === undefined) continue;
    if (!writesCanonically(v, depth + 1)) return false;
  }
  return true;
}

const jsonIsRaw = (JSON as { isRawJSON?: (v: unknown) => boolean }).isRawJSON;
function isRawJson(value: object): boolean {
  return jsonIsRaw?.(value) === true;
}

/** Whether `keys` are sorted by UTF-16 code units already, as `sort()` would leave them. */
function inOrder(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) return false;
  return true;
}

/** Longest key list sorted by hand; longer ones go to `Array.prototype.sort`. */
const SHORT_KEYS = 32;

/**
 * Sorts `keys` in place by UTF-16 code units, as `sort()` does. V8's sort copies the array
 * into a work array first: for the short key lists of our objects, that copy was a thirtieth of
 * everything a busy carrier's main thread allocated. Insertion sort allocates nothing.
 */
function sortKeys(keys: string[]): void {
  if (keys.length > SHORT_KEYS) {
    keys.sort();
    return;
  }
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > k) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = k;
  }
}

function bad(where: string, why: string): StoreError {
  return new StoreError("ARGUMENT_INVALID", `${where} ${why}`, { field: where });
}

export function parseJson(text: string): JsonValue {
  return JSON.parse(text) as JsonValue;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
