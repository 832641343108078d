import { resolve, sep } from "node:path";

/**
 * Where things live inside a device directory (DEVDIR). The normal world is an Android-like tree
 * (`system/…` as shipped, `data/…` written at run time); `tsz/` is the secure world's storage,
 * which only the TSZ worker opens.
 */
export const DEVICE_PATHS = Object.freeze({
  buildProp: "system/build.prop",
  otaCerts: "system/etc/security/otacerts.zip",
  osImage: "system/os.img",
  payload: "data/omadm/payload.bin",
  /** The identity the normal world reports (its copy, as a radio daemon would keep it). */
  reportedIdentity: "data/radio/identity.json",
  /** Public facts learned at manufacture: model, carrier, server URL. */
  deviceConfig: "data/dmguard/device.json",
  /** What the DM client provisioned; removed by a factory reset. */
  profile: "data/omadm/profile.json",
  /** The DM client's tree (`./DMAcc`, `./DevInfo`…), removed by a factory reset. */
  dmTree: "data/omadm/dmtree.json",
  /** The MDAS's answer to the last activation through an enterprise; removed by a factory reset. */
  enterpriseDecision: "data/dmguard/enterprise-decision.json",
  tszDir: "tsz",
  /** The process that has the device open (tsz/client.ts): one at a time. */
  lock: "device.lock",
});

/** The usual places of an `su` binary on a rooted Android device, relative to the device root. */
export const SU_PATHS: readonly string[] = Object.freeze([
  "system/bin/su",
  "system/xbin/su",
  "sbin/su",
  "su/bin/su",
]);

/** The OTA certificate's name inside otacerts.zip, as AOSP's build names it. */
export const OTA_CERT_ENTRY = "releasekey.x509.pem";

/**
 * `root/rel`, refusing any `rel` that would leave the device root (an absolute path, `..`):
 * the collectors only ever look inside the device.
 */
export function within(root: string, rel: string): string {
  const base = resolve(root);
  const full = resolve(base, rel);
  if (full !== base && !full.startsWith(base + sep)) {
    throw new RangeError(`path ${JSON.stringify(rel)} leaves the device directory`);
  }
  return full;
}
