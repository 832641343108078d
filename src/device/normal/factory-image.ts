import { createHash } from "node:crypto";
import { chmod, mkdir } from "node:fs/promises";
import { strToU8, zipSync } from "fflate";
import { writeFileAtomic } from "../atomic-write.js";
import { crc32 } from "../crc32.js";
import { factoryBuildProp } from "./build-prop.js";
import {
  type DeviceConfig,
  type ReportedIdentity,
  writeDeviceConfig,
  writeReportedIdentity,
} from "./device-files.js";
import { DEVICE_PATHS, OTA_CERT_ENTRY, within } from "./layout.js";

/**
 * The normal world as the OEM ships it: a real directory tree that root detection inspects.
 * Everything here is deterministic for a given model except the payload (per-device account) and
 * the OTA certificate (per OEM), so the authoritative measurements fused into the TSZ are those of
 * this exact tree.
 */

interface ShippedEntry {
  path: string;
  mode: number;
  dir?: true;
  content?: string;
}

/** System directories and binaries with their shipped modes (what ROOT_PERMISSIONS compares). */
const SYSTEM_TREE: readonly ShippedEntry[] = Object.freeze([
  { path: "system", mode: 0o755, dir: true },
  { path: "system/bin", mode: 0o755, dir: true },
  { path: "system/xbin", mode: 0o755, dir: true },
  { path: "system/etc", mode: 0o755, dir: true },
  { path: "system/etc/security", mode: 0o755, dir: true },
  { path: "system/bin/sh", mode: 0o755, content: "#!/system/bin/sh\n# emulated mksh\n" },
  { path: "system/bin/toolbox", mode: 0o755, content: "#!/system/bin/sh\n# emulated toolbox\n" },
  { path: "system/bin/toybox", mode: 0o755, content: "#!/system/bin/sh\n# emulated toybox\n" },
  { path: "system/bin/app_process", mode: 0o755, content: "# emulated zygote launcher\n" },
  { path: "system/bin/linker", mode: 0o755, content: "# emulated dynamic linker\n" },
  { path: "system/bin/run-as", mode: 0o750, content: "# emulated run-as\n" },
  { path: "system/bin/logcat", mode: 0o755, content: "# emulated logcat\n" },
]);

/** The OS image's size: "some KB of deterministic bytes". */
export const OS_IMAGE_BYTES = 64 * 1024;

/** A deterministic OS image for `model`: SHA-256 in counter mode over a fixed seed. */
export function osImageBytes(model: string): Uint8Array {
  const out = new Uint8Array(OS_IMAGE_BYTES);
  for (let block = 0; block * 32 < OS_IMAGE_BYTES; block++) {
    const h = createHash("sha256").update(`dmguard os image v1|${model}|${block}`).digest();
    out.set(h.subarray(0, Math.min(32, OS_IMAGE_BYTES - block * 32)), block * 32);
  }
  return out;
}

/**
 * otacerts.zip as AOSP builds it: a zip holding the release key's certificate. A fixed mtime
 * keeps the archive, and so its measurement, the same for every device of the OEM.
 */
export function otaCertsZip(certificatePem: string): Uint8Array {
  return zipSync(
    { [OTA_CERT_ENTRY]: [strToU8(certificatePem), { mtime: new Date("2024-01-01T00:00:00Z") }] },
    { level: 6 },
  );
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export interface FactoryImageSpec {
  config: DeviceConfig;
  reported: ReportedIdentity;
  otaCertificatePem: string;
  /**
   * The preloaded OMA DM payload. Manufacture writes it later (`writePayloadFile`), once the TSZ
   * holds slot 0's key and has made its key check value; omit it then.
   */
  payload?: Uint8Array;
}

/** What the OEM fuses into the TSZ about the tree it just wrote. */
export interface FactoryMeasurements {
  /** The payload's, when the spec carried one; the TSZ measures it itself at manufacture. */
  payloadCrc32: number | null;
  payloadSize: number | null;
  osImageSha256: string;
  otaCertsSha256: string;
  /** Path (relative to the device root) → mode bits (`st_mode & 0o7777`) as shipped. */
  shippedModes: Record<string, number>;
}

/**
 * The factory image is committed by the sealed TSZ state written after it (durably): until then
 * the directory is no device and may be manufactured again, so these writes skip fsync.
 */
const FAST = { durable: false } as const;

export async function writeFactoryImage(
  dir: string,
  spec: FactoryImageSpec,
): Promise<FactoryMeasurements> {
  const shippedModes: Record<string, number> = {};
  for (const e of SYSTEM_TREE) {
    const full = within(dir, e.path);
    if (e.dir) {
      await mkdir(full, { recursive: true });
      await chmod(full, e.mode);
    } else {
      await writeFileAtomic(full, e.content ?? "", e.mode, FAST);
    }
    shippedModes[e.path] = e.mode;
  }
  const buildProp = factoryBuildProp(spec.config.model, spec.config.brand);
  await writeFileAtomic(within(dir, DEVICE_PATHS.buildProp), buildProp, 0o644, FAST);
  shippedModes[DEVICE_PATHS.buildProp] = 0o644;

  const ota = otaCertsZip(spec.otaCertificatePem);
  await writeFileAtomic(within(dir, DEVICE_PATHS.otaCerts), ota, 0o644, FAST);
  shippedModes[DEVICE_PATHS.otaCerts] = 0o644;

  const os = osImageBytes(spec.config.model);
  await writeFileAtomic(within(dir, DEVICE_PATHS.osImage), os, 0o644, FAST);
  shippedModes[DEVICE_PATHS.osImage] = 0o644;

  if (spec.payload) await writePayloadFile(dir, spec.payload, FAST);
  await writeReportedIdentity(dir, spec.reported, FAST);
  await writeDeviceConfig(dir, spec.config, FAST);

  return {
    payloadCrc32: spec.payload ? crc32(spec.payload) : null,
    payloadSize: spec.payload ? spec.payload.length : null,
    osImageSha256: sha256Hex(os),
    otaCertsSha256: sha256Hex(ota),
    shippedModes,
  };
}

/** Writes the preloaded OMA DM payload (PAYLOAD.md), atomically; durable unless told otherwise. */
export async function writePayloadFile(
  dir: string,
  payload: Uint8Array,
  opts: { durable?: boolean } = {},
): Promise<void> {
  await writeFileAtomic(within(dir, DEVICE_PATHS.payload), payload, 0o644, opts);
}
