import { KCV_LENGTH } from "../../evidence/key-check-value.js";
import { crc32 } from "../crc32.js";
import { DeviceError } from "../errors.js";
import { KEY_ID } from "../validate.js";
import { type BootstrapBody, bootstrapProblems } from "./payload-schema.js";

/**
 * The preloaded OMA DM payload, `data/omadm/payload.bin` (PAYLOAD.md beside this file says the
 * same for readers). Integers are big-endian.
 *
 * | offset | size | field |
 * | --- | --- | --- |
 * | 0 | 4 | magic `DMPL` |
 * | 4 | 2 | format version, 1 |
 * | 6 | 2 | header length H = 33 + L: where the body starts |
 * | 8 | 4 | declared body size, bytes |
 * | 12 | 4 | body CRC-32: the producer's transport check, not trusted |
 * | 16 | 1 | key id length L, 1–64 |
 * | 17 | L | key id, printable ASCII |
 * | 17+L | 16 | key check value (key-check-value.ts) |
 * | H | … | body: UTF-8 JSON, schema `dmguard-bootstrap/1` (payload-schema.ts) |
 *
 * The authoritative CRC-32 and total size are not in the file: the TSZ holds them, fused at
 * manufacture, and its CRC covers the whole file, header included. The header's own CRC only
 * lets a DM client notice accidental corruption; root can rewrite it along with the body, which is
 * why the TSZ's CRC is the one that decides.
 */
export const PAYLOAD_MAGIC = Object.freeze([0x44, 0x4d, 0x50, 0x4c]);
export const PAYLOAD_FORMAT_VERSION = 1;
/** The largest payload the TSZ will read (bounded input); real ones are about 600 bytes. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
const FIXED = 17;

export interface PayloadHeader {
  version: number;
  headerLength: number;
  declaredBodySize: number;
  bodyCrc32: number;
  kid: string;
  kcv: Uint8Array;
}

export type HeaderResult = { ok: true; header: PayloadHeader } | { ok: false; problem: string };

/** Offsets of the fields the tamper functions rewrite. */
export const HEADER_OFFSETS = Object.freeze({ declaredBodySize: 8, bodyCrc32: 12, kidLength: 16 });

export function kcvOffset(kidLength: number): number {
  return FIXED + kidLength;
}

export function parsePayloadHeader(bytes: Uint8Array): HeaderResult {
  if (bytes.length < FIXED) return { ok: false, problem: "shorter than the fixed header" };
  if (!PAYLOAD_MAGIC.every((b, i) => bytes[i] === b)) return { ok: false, problem: "bad magic" };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(4);
  if (version !== PAYLOAD_FORMAT_VERSION) {
    return { ok: false, problem: `format version ${version} is not ${PAYLOAD_FORMAT_VERSION}` };
  }
  const headerLength = view.getUint16(6);
  const kidLength = bytes[16]!;
  if (kidLength < 1 || kidLength > 64) return { ok: false, problem: "key id length not 1-64" };
  if (headerLength !== FIXED + kidLength + KCV_LENGTH) {
    return { ok: false, problem: "header length does not match the key id length" };
  }
  if (bytes.length < headerLength) return { ok: false, problem: "truncated header" };
  const kid = Buffer.from(bytes.subarray(FIXED, FIXED + kidLength)).toString("latin1");
  if (!KEY_ID.test(kid)) return { ok: false, problem: "key id is not printable ASCII" };
  return {
    ok: true,
    header: {
      version,
      headerLength,
      declaredBodySize: view.getUint32(8),
      bodyCrc32: view.getUint32(12),
      kid,
      kcv: bytes.slice(kcvOffset(kidLength), headerLength),
    },
  };
}

export type BodyResult = { ok: true; body: BootstrapBody } | { ok: false; problems: string[] };

/** The body (every byte after the header, whatever the declared size says) against the schema. */
export function parsePayloadBody(body: Uint8Array): BodyResult {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    return { ok: false, problems: ["body is not UTF-8"] };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, problems: ["body is not JSON"] };
  }
  const problems = bootstrapProblems(value);
  return problems.length === 0
    ? { ok: true, body: value as BootstrapBody }
    : { ok: false, problems };
}

export function encodeBody(body: BootstrapBody): Uint8Array {
  return new Uint8Array(Buffer.from(JSON.stringify(body), "utf8"));
}

/** Builds a payload file from its parts (the OEM's build step, and tamper functions). */
export function encodePayload(parts: {
  kid: string;
  kcv: Uint8Array;
  body: Uint8Array;
  declaredBodySize?: number;
  bodyCrc32?: number;
}): Uint8Array {
  if (!KEY_ID.test(parts.kid)) throw new DeviceError("DEVICE_INVALID_OPTIONS", "bad key id");
  if (parts.kcv.length !== KCV_LENGTH) {
    throw new DeviceError("DEVICE_INVALID_OPTIONS", `a key check value is ${KCV_LENGTH} bytes`);
  }
  const kid = Buffer.from(parts.kid, "latin1");
  const headerLength = FIXED + kid.length + KCV_LENGTH;
  const out = new Uint8Array(headerLength + parts.body.length);
  const view = new DataView(out.buffer);
  out.set(PAYLOAD_MAGIC, 0);
  view.setUint16(4, PAYLOAD_FORMAT_VERSION);
  view.setUint16(6, headerLength);
  view.setUint32(8, parts.declaredBodySize ?? parts.body.length);
  view.setUint32(12, parts.bodyCrc32 ?? crc32(parts.body));
  out[16] = kid.length;
  out.set(kid, FIXED);
  out.set(parts.kcv, kcvOffset(kid.length));
  out.set(parts.body, headerLength);
  return out;
}

/** Header and schema-valid body, or `PAYLOAD_UNREADABLE` (used to show the DM account). */
export function decodePayload(bytes: Uint8Array): { header: PayloadHeader; body: BootstrapBody } {
  const h = parsePayloadHeader(bytes);
  if (!h.ok) throw new DeviceError("PAYLOAD_UNREADABLE", `OMA DM payload header: ${h.problem}`);
  const b = parsePayloadBody(bytes.subarray(h.header.headerLength));
  if (!b.ok) {
    throw new DeviceError("PAYLOAD_UNREADABLE", `OMA DM payload body: ${b.problems.join("; ")}`);
  }
  return { header: h.header, body: b.body };
}
