import type { DeviceReason } from "../../../evidence/reasons.js";
import type { BuildProps } from "../../normal/build-prop.js";

/**
 * Step 3 of the verification application: root detection, each check a function of the facts
 * the collectors gathered (normal/root-collectors.ts) and the reference values fused in the TSZ.
 */

/** Any `su` in the usual paths. */
export function checkSu(suPaths: readonly string[]): DeviceReason[] {
  return suPaths.length > 0 ? ["ROOT_SU"] : [];
}

/** otacerts.zip present and byte-for-byte the OEM's (its SHA-256 as fused). */
export function checkOtaCerts(measured: string | null, expected: string): DeviceReason[] {
  return measured === expected ? [] : ["ROOT_OTA_CERTS"];
}

/** A release build: `ro.build.tags` holds release-keys and not test-keys (missing = not release). */
export function checkTestKeys(props: BuildProps | null): DeviceReason[] {
  const tags = (props?.get("ro.build.tags") ?? "").split(",").map((t) => t.trim());
  return tags.includes("release-keys") && !tags.includes("test-keys") ? [] : ["ROOT_TEST_KEYS"];
}

/**
 * Not debuggable: `ro.debuggable=1` or `ro.secure=0` (adb may run as root) both count. An absent
 * `ro.debuggable` is Android's default, 0.
 */
export function checkDebuggable(props: BuildProps | null): DeviceReason[] {
  if (props?.get("ro.debuggable") === "1" || props?.get("ro.secure") === "0") {
    return ["ROOT_DEBUGGABLE"];
  }
  return [];
}

/** The mode bits that matter to root detection: setuid, setgid, world-writable. */
export const DANGEROUS_MODE_BITS = 0o4000 | 0o2000 | 0o002;

/**
 * System files' permissions as shipped: a shipped path that gained a setuid, setgid or
 * world-writable bit it did not ship with. Other mode changes, and missing files (which the OTA
 * and OS image checks judge), are not permission findings. New files are the su check's job.
 */
export function checkPermissions(
  modes: Readonly<Record<string, number | null>>,
  shipped: Readonly<Record<string, number>>,
): DeviceReason[] {
  for (const [path, mode] of Object.entries(shipped)) {
    const actual = modes[path];
    if (actual === null || actual === undefined) continue;
    if ((actual & DANGEROUS_MODE_BITS & ~mode) !== 0) return ["ROOT_PERMISSIONS"];
  }
  return [];
}

/** The OS image's SHA-256 as fused: "the state of the preloaded first operating system". */
export function checkOsImage(measured: string | null, expected: string): DeviceReason[] {
  return measured === expected ? [] : ["OS_MODIFIED"];
}
