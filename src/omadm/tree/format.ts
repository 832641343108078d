/**
 * Leaf node values and their Format property (OMA-TS-DM_TND §8.3.7.2, OMA-TS-SyncML_MetInf
 * "Format"). A leaf holds text, or bytes for Format `bin`. The value a server sends must match
 * the format it names in the same command; a mismatch is (400) Bad request, a format this tree
 * does not know is (415) Unsupported media type or format.
 *
 * `b64` stays a format of its own (TND: "the value b64 is used as the node Format property"
 * when the native value is base64 text), kept as its base64 text with white space removed.
 * `bin` holds bytes; through WBXML they arrive as opaque data, through XML a server sends them
 * as b64 (TND §8.3.7.2) and the node then keeps Format b64.
 */
import type { ItemData } from "../model/message.js";
import { StatusCode } from "../status.js";
import type { NodeFormat } from "./types.js";

export type LeafValue = string | Uint8Array;

export const NODE_FORMATS: readonly NodeFormat[] = [
  "b64",
  "bin",
  "bool",
  "chr",
  "int",
  "node",
  "null",
  "xml",
  "date",
  "time",
  "float",
];

/** MetInf default when a command carries no Meta Format. */
export const DEFAULT_FORMAT: NodeFormat = "chr";
/** MetInf default when a command carries no Meta Type. */
export const DEFAULT_TYPE = "text/plain";

/** A format name as sent (case-insensitively: StdObj writes `Chr`, MetInf `chr`), or undefined. */
export function parseFormat(raw: string): NodeFormat | undefined {
  // Nearly every format arrives spelled exactly as the name: no trimming or case folding then.
  if (FORMAT_NAMES.has(raw)) return raw as NodeFormat;
  const f = raw.trim().toLowerCase();
  return NODE_FORMATS.find((n) => n === f);
}

const FORMAT_NAMES: ReadonlySet<string> = new Set(NODE_FORMATS);

export type ValueCheck =
  | { readonly ok: true; readonly value: LeafValue }
  | { readonly ok: false; readonly status: number; readonly reason: string };

const bad = (reason: string): ValueCheck => ({ ok: false, status: StatusCode.BAD_REQUEST, reason });

const utf8 = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

function asText(data: ItemData | undefined): string | undefined {
  if (data === undefined) return "";
  if (typeof data === "string") return data;
  try {
    return utf8.decode(data);
  } catch {
    return undefined;
  }
}

const INT = /^[+-]?\d{1,10}$/;
const FLOAT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// ISO 8601 dates and times, extended or basic form (MetInf "date", "time").
const DATE = /^\d{4}-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])$/;
const TIME = /^([01]\d|2[0-3]):?[0-5]\d(:?[0-5]\d(\.\d+)?)?(Z|[+-]([01]\d|2[0-3])(:?[0-5]\d)?)?$/;

/**
 * Checks `data` against `format` and returns the value to store. `int` is a signed 32-bit
 * decimal; `bool` is exactly `true` or `false`; `null` and `node` carry no data.
 */
export function checkLeafValue(format: NodeFormat, data: ItemData | undefined): ValueCheck {
  if (format === "bin") {
    if (data === undefined) return { ok: true, value: new Uint8Array(0) };
    return { ok: true, value: typeof data === "string" ? utf8Encoder.encode(data) : data.slice() };
  }
  const text = asText(data);
  if (text === undefined) return bad("data is not UTF-8 text");
  switch (format) {
    case "chr":
    case "xml":
      return { ok: true, value: text };
    case "int": {
      if (!INT.test(text)) return bad("not a decimal integer");
      const n = Number(text);
      if (n < -2147483648 || n > 2147483647) return bad("integer out of 32-bit range");
      return { ok: true, value: text };
    }
    case "float":
      return FLOAT.test(text) ? { ok: true, value: text } : bad("not a decimal number");
    case "bool":
      return text === "true" || text === "false"
        ? { ok: true, value: text }
        : bad("not true/false");
    case "b64": {
      const compact = text.replace(/\s+/g, "");
      return B64.test(compact) ? { ok: true, value: compact } : bad("not base64");
    }
    case "date":
      return DATE.test(text) ? { ok: true, value: text } : bad("not an ISO 8601 date");
    case "time":
      return TIME.test(text) ? { ok: true, value: text } : bad("not an ISO 8601 time");
    case "null":
    case "node":
      return text === "" ? { ok: true, value: "" } : bad(`format ${format} carries no data`);
  }
}

/** The Size property (TND §8.3.7): the value's length in bytes (UTF-8 for text). */
export function valueSize(value: LeafValue): number {
  return typeof value === "string" ? Buffer.byteLength(value, "utf8") : value.length;
}

/** A private copy for the caller, so nobody can change a stored (and snapshotted) value. */
export function copyValue(value: LeafValue): LeafValue {
  return typeof value === "string" ? value : value.slice();
}
