import { lstat, open } from "node:fs/promises";
import { type DeviceReason, sortReasons } from "../../evidence/reasons.js";
import { crc32 } from "../crc32.js";
import { DEVICE_PATHS, within } from "../normal/layout.js";
import { MAX_PAYLOAD_BYTES } from "../normal/payload-format.js";
import { collectRootFacts, type RootFacts } from "../normal/root-collectors.js";
import { checkDeviceIdentity, type ReportedIdentityClaim } from "./checks/identity.js";
import {
  checkPayloadCrc,
  checkPayloadFormat,
  checkPayloadKey,
  checkPayloadSize,
  type PayloadBytes,
} from "./checks/payload.js";
import {
  checkDebuggable,
  checkOsImage,
  checkOtaCerts,
  checkPermissions,
  checkSu,
  checkTestKeys,
} from "./checks/root.js";
import type { TszState } from "./state.js";

/**
 * The verification application's pipeline (DESIGN.md steps 1–3), run inside the TSZ worker.
 *
 * Which facts the TSZ reads itself: in this emulation the worker reads the device files (the
 * payload, build.prop, modes, otacerts.zip, the OS image) straight from DEVDIR, as a secure
 * world reads flash through its own driver: a rooted normal world can change the files but cannot
 * hand the TSZ a clean copy. The one fact the normal world supplies is the identity it reports,
 * because comparing that claim with the fused identity is the point of the check.
 */
export interface VerificationResult {
  reasons: DeviceReason[];
  /** The slot whose key matches the payload's key check value, or -1. */
  matchedSlot: number;
  /** What was measured now (for the evidence's RFC 9711 `measurements`). */
  measured: {
    payloadSize: number | null;
    payloadCrc32: number | null;
    root: RootFacts;
  };
}

/** The payload file, or `null` when missing, not a file, or over {@link MAX_PAYLOAD_BYTES}. */
export async function readPayloadFile(dir: string): Promise<PayloadBytes> {
  const path = within(dir, DEVICE_PATHS.payload);
  try {
    const st = await lstat(path);
    if (!st.isFile() || st.size > MAX_PAYLOAD_BYTES) return null;
    const fh = await open(path, "r");
    try {
      const buf = Buffer.alloc(MAX_PAYLOAD_BYTES + 1);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      return bytesRead > MAX_PAYLOAD_BYTES ? null : new Uint8Array(buf.subarray(0, bytesRead));
    } finally {
      await fh.close();
    }
  } catch {
    return null;
  }
}

export async function runVerification(
  dir: string,
  state: TszState,
  reported: ReportedIdentityClaim,
): Promise<VerificationResult> {
  const [payload, root] = await Promise.all([
    readPayloadFile(dir),
    collectRootFacts(dir, Object.keys(state.shippedModes)),
  ]);
  const key = checkPayloadKey(payload, state.slots);
  const reasons: DeviceReason[] = [
    ...checkDeviceIdentity(state, reported),
    ...checkPayloadSize(payload, state.authoritative),
    ...checkPayloadCrc(payload, state.authoritative),
    ...checkPayloadFormat(payload),
    ...key.reasons,
    ...checkSu(root.suPaths),
    ...checkOtaCerts(root.otaCertsSha256, state.authoritative.otaCertsSha256),
    ...checkTestKeys(root.buildProps),
    ...checkDebuggable(root.buildProps),
    ...checkPermissions(root.modes, state.shippedModes),
    ...checkOsImage(root.osImageSha256, state.authoritative.osImageSha256),
  ];
  return {
    reasons: sortReasons(reasons),
    matchedSlot: key.matchedSlot,
    measured: {
      payloadSize: payload?.length ?? null,
      payloadCrc32: payload ? crc32(payload) : null,
      root,
    },
  };
}
