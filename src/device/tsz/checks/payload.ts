import { timingSafeEqual } from "node:crypto";
import { KCV_LENGTH, keyCheckValue } from "../../../evidence/key-check-value.js";
import type { DeviceReason } from "../../../evidence/reasons.js";
import { crc32 } from "../../crc32.js";
import { parsePayloadBody, parsePayloadHeader } from "../../normal/payload-format.js";
import type { Authoritative, SlotState } from "../state.js";

/**
 * Step 2 of the verification application: the four payload checks of the patent, each alone.
 * `bytes` is the payload file as the TSZ read it, `null` when it is missing or over the size
 * bound (then every check fails: nothing of it can be trusted).
 *
 * The authoritative CRC covers the whole file, so any payload change but a pure CRC one also
 * reports PAYLOAD_CRC (CONTRACT.md).
 */
export type PayloadBytes = Uint8Array | null;

/** Declared body size vs the actual body, and total size vs the authoritative size. */
export function checkPayloadSize(bytes: PayloadBytes, auth: Authoritative): DeviceReason[] {
  if (bytes === null || bytes.length !== auth.payloadSize) return ["PAYLOAD_SIZE"];
  const h = parsePayloadHeader(bytes);
  if (h.ok && h.header.declaredBodySize !== bytes.length - h.header.headerLength) {
    return ["PAYLOAD_SIZE"];
  }
  return [];
}

/**
 * CRC-32 of the whole payload vs the authoritative CRC. The header's own body CRC is checked too
 * (a mismatch is corruption of the same kind), though the authoritative one catches all of it.
 */
export function checkPayloadCrc(bytes: PayloadBytes, auth: Authoritative): DeviceReason[] {
  if (bytes === null || crc32(bytes) !== auth.payloadCrc32) return ["PAYLOAD_CRC"];
  const h = parsePayloadHeader(bytes);
  if (h.ok && crc32(bytes.subarray(h.header.headerLength)) !== h.header.bodyCrc32) {
    return ["PAYLOAD_CRC"];
  }
  return [];
}

/** Header well-formed and the body (every byte after it) valid against the schema. */
export function checkPayloadFormat(bytes: PayloadBytes): DeviceReason[] {
  if (bytes === null) return ["PAYLOAD_FORMAT"];
  const h = parsePayloadHeader(bytes);
  if (!h.ok) return ["PAYLOAD_FORMAT"];
  return parsePayloadBody(bytes.subarray(h.header.headerLength)).ok ? [] : ["PAYLOAD_FORMAT"];
}

/** Stands in for an empty slot so every slot costs one HMAC and one comparison. */
const EMPTY_KEY = new Uint8Array(32);

/**
 * The payload's key check value vs every slot, in constant time: the loop visits all slots (an
 * empty one is computed under a dummy key), never exits early, and compares with
 * `timingSafeEqual`. A slot matches when its KCV equals the payload's and its key id is the
 * payload's. `matchedSlot` is the first matching slot, or -1.
 */
export function checkPayloadKey(
  bytes: PayloadBytes,
  slots: ReadonlyArray<SlotState | null>,
): { reasons: DeviceReason[]; matchedSlot: number } {
  const h = bytes === null ? null : parsePayloadHeader(bytes);
  const kcv = h?.ok ? h.header.kcv : new Uint8Array(KCV_LENGTH);
  const kid = h?.ok ? h.header.kid : "";
  let matchedSlot = -1;
  for (let i = 0; i < slots.length; i++) {
    const slot = slots[i];
    const expected = keyCheckValue(slot?.key ?? EMPTY_KEY, slot?.kid ?? "");
    const equal = timingSafeEqual(expected, kcv);
    if (equal && slot !== null && slot !== undefined && slot.kid === kid && matchedSlot < 0) {
      matchedSlot = i;
    }
  }
  if (!h?.ok || matchedSlot < 0) return { reasons: ["PAYLOAD_KEY"], matchedSlot: -1 };
  return { reasons: [], matchedSlot };
}
