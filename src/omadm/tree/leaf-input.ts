/**
 * Turns the Meta Format, Meta Type and Data of an Add or Replace item into what a node stores,
 * with the status a bad item gets (TND §8.3.7.2; OMA-TS-DM_RepPro §10 status codes).
 */
import { StatusCode } from "../status.js";
import { checkLeafValue, DEFAULT_TYPE, type LeafValue, parseFormat, valueSize } from "./format.js";
import type { TreeLimits } from "./state.js";
import type { NodeFormat, NodeInput } from "./types.js";

export type NodeContent =
  | {
      readonly ok: true;
      readonly format: NodeFormat;
      readonly type: string;
      readonly value: LeafValue;
    }
  | { readonly ok: false; readonly status: number };

/**
 * `fallback` applies when the item has no Meta Format/Type: for a new node MetInf's defaults
 * (chr, and text/plain for a leaf, no type for an interior node); for a Replace the node's
 * current ones.
 */
export function nodeContent(
  input: NodeInput,
  fallback: { readonly format: NodeFormat; readonly type?: string },
  limits: TreeLimits,
): NodeContent {
  const format = input.format === undefined ? fallback.format : parseFormat(input.format);
  if (!format) return { ok: false, status: StatusCode.UNSUPPORTED_MEDIA_TYPE };
  const type = input.type ?? fallback.type ?? (format === "node" ? "" : DEFAULT_TYPE);
  if (input.type !== undefined && input.type.length > limits.maxPropertyLength) {
    return { ok: false, status: StatusCode.REQUEST_ENTITY_TOO_LARGE };
  }
  // Bound the raw data before decoding it (base64 text and UTF-8 are never shorter than
  // what they hold, so this cannot refuse a value that would fit).
  const raw = input.data;
  const rawSize = raw === undefined ? 0 : typeof raw === "string" ? raw.length : raw.length;
  if (rawSize > limits.maxValueBytes)
    return { ok: false, status: StatusCode.REQUEST_ENTITY_TOO_LARGE };
  const checked = checkLeafValue(format, raw);
  if (!checked.ok) return { ok: false, status: checked.status };
  if (valueSize(checked.value) > limits.maxValueBytes) {
    return { ok: false, status: StatusCode.REQUEST_ENTITY_TOO_LARGE };
  }
  return { ok: true, format, type, value: checked.value };
}
