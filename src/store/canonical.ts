/**
 * Canonical JSON, the byte form the audit chain hashes and JSON columns store: object keys
 * sorted by UTF-16 code units, no insignificant whitespace, numbers and strings as
 * ECMAScript's JSON.stringify writes them (the serialisation rules of RFC 8785, JCS, for the
 * integers and strings audit details hold). Only plain data is accepted: no undefined inside
 * arrays, no NaN/Infinity, no class instances (a Buffer would otherwise leak as an object).
 */
import { createHash } from "node:crypto";
import { StoreError } from "./errors.js";
import type { JsonValue } from "./types.js";

const MAX_DEPTH = 32;

export function canonicalJson(value: unknown, field = "value"): string {
  return encode(value, field, 0);
}

function encode(value: unknown, where: string, depth: number): string {
  if (depth > MAX_DEPTH) throw bad(where, `nests deeper than ${MAX_DEPTH}`);
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
    case "string":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw bad(where, "is not a finite number");
      return JSON.stringify(value);
    case "object":
      break;
    default:
      throw bad(where, `holds a ${typeof value}, which is not JSON`);
  }
  if (Array.isArray(value)) {
    return `[${value.map((v, i) => encode(v, `${where}[${i}]`, depth + 1)).join(",")}]`;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw bad(where, "is not a plain object");
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${encode(obj[k], `${where}.${k}`, depth + 1)}`).join(",")}}`;
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
