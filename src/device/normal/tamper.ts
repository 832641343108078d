import { randomBytes } from "node:crypto";
import { chmod, readFile, rm } from "node:fs/promises";
import { KCV_LENGTH } from "../../evidence/key-check-value.js";
import { generateImei, makeImei, parseImei } from "../../identity/index.js";
import { writeFileAtomic } from "../atomic-write.js";
import { crc32 } from "../crc32.js";
import { DeviceError } from "../errors.js";
import { X509CertificateGenerator } from "../x509.js";
import { setBuildProp } from "./build-prop.js";
import { readDeviceConfig, readReportedIdentity, writeReportedIdentity } from "./device-files.js";
import { otaCertsZip } from "./factory-image.js";
import { DEVICE_PATHS, within } from "./layout.js";
import { HEADER_OFFSETS, kcvOffset, parsePayloadHeader } from "./payload-format.js";
import { isTamperKind, TAMPER_KINDS, type TamperKind } from "./tamper-kinds.js";

export { isTamperKind, TAMPER_KINDS, type TamperKind };

/**
 * Fault injection (`dmguard device tamper DEVDIR KIND`, CONTRACT.md): one function per KIND,
 * each changing the device as its name says and nothing else, so a fresh verification reports
 * exactly the table's reasons. The payload tampers act as a root user would: they keep the
 * payload's own header consistent (size field, header CRC) except for the field they target,
 * so only the TSZ's authoritative CRC gives them away, besides their own reason.
 */
async function readPayload(dir: string): Promise<{ bytes: Uint8Array; headerLength: number }> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(within(dir, DEVICE_PATHS.payload)));
  } catch {
    throw new DeviceError("PAYLOAD_UNREADABLE", "the OMA DM payload is missing");
  }
  const h = parsePayloadHeader(bytes);
  if (!h.ok) throw new DeviceError("PAYLOAD_UNREADABLE", `OMA DM payload header: ${h.problem}`);
  return { bytes, headerLength: h.header.headerLength };
}

async function writePayload(dir: string, bytes: Uint8Array): Promise<void> {
  await writeFileAtomic(within(dir, DEVICE_PATHS.payload), bytes, 0o644);
}

/** Replaces the body (same length) and rewrites the header's CRC to match, as root would. */
function withBody(bytes: Uint8Array, headerLength: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(headerLength + body.length);
  out.set(bytes.subarray(0, headerLength));
  out.set(body, headerLength);
  new DataView(out.buffer).setUint32(HEADER_OFFSETS.bodyCrc32, crc32(body));
  return out;
}

/** The declared body size no longer matches the body: `PAYLOAD_SIZE` (+ CRC). */
export async function tamperPayloadSize(dir: string): Promise<void> {
  const { bytes } = await readPayload(dir);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(
    HEADER_OFFSETS.declaredBodySize,
    view.getUint32(HEADER_OFFSETS.declaredBodySize) + 1,
  );
  await writePayload(dir, bytes);
}

/**
 * A schema-valid change of the same length (one character of the APN) with the header CRC
 * fixed up: size, format and key all still pass, only the authoritative CRC catches it.
 */
export async function tamperPayloadCrc(dir: string): Promise<void> {
  const { bytes, headerLength } = await readPayload(dir);
  const original = bytes.subarray(headerLength);
  let body: { settings?: { apn?: unknown } };
  try {
    body = JSON.parse(Buffer.from(original).toString("utf8"));
  } catch {
    throw new DeviceError("PAYLOAD_UNREADABLE", "the OMA DM payload body is not JSON");
  }
  const apn = body.settings?.apn;
  if (typeof apn !== "string" || apn.length === 0) {
    throw new DeviceError("PAYLOAD_UNREADABLE", "the OMA DM payload has no settings.apn");
  }
  const last = apn.at(-1);
  body.settings!.apn = apn.slice(0, -1) + (last === "x" ? "y" : "x");
  const changed = new Uint8Array(Buffer.from(JSON.stringify(body), "utf8"));
  if (changed.length !== original.length) {
    throw new DeviceError("PAYLOAD_UNREADABLE", "the OMA DM payload body is not in canonical form");
  }
  await writePayload(dir, withBody(bytes, headerLength, changed));
}

/** Renames a required field (same length, header CRC fixed up): `PAYLOAD_FORMAT` (+ CRC). */
export async function tamperPayloadFormat(dir: string): Promise<void> {
  const { bytes, headerLength } = await readPayload(dir);
  const text = Buffer.from(bytes.subarray(headerLength)).toString("latin1");
  if (text.includes('"serverUrl"')) return; // already applied
  if (!text.includes('"serverUri"')) {
    throw new DeviceError("PAYLOAD_UNREADABLE", "the OMA DM payload has no serverUri field");
  }
  const body = new Uint8Array(Buffer.from(text.replace('"serverUri"', '"serverUrl"'), "latin1"));
  await writePayload(dir, withBody(bytes, headerLength, body));
}

/** A key check value of some other key: `PAYLOAD_KEY` (+ CRC). */
export async function tamperPayloadKey(dir: string): Promise<void> {
  const { bytes } = await readPayload(dir);
  const at = kcvOffset(bytes[HEADER_OFFSETS.kidLength]!);
  bytes.set(randomBytes(KCV_LENGTH), at);
  await writePayload(dir, bytes);
}

/** A setuid `su` in /system/xbin, as rooting kits install it: `ROOT_SU`. */
export async function tamperSu(dir: string): Promise<void> {
  const path = within(dir, "system/xbin/su");
  await writeFileAtomic(path, "#!/system/bin/sh\n# su\n", 0o755);
  await chmod(path, 0o6755);
}

export async function tamperOtaCertsMissing(dir: string): Promise<void> {
  await rm(within(dir, DEVICE_PATHS.otaCerts), { force: true });
}

/** otacerts.zip now trusts a key that is not the OEM's (a custom-ROM key): `ROOT_OTA_CERTS`. */
export async function tamperOtaCertsReplaced(dir: string): Promise<void> {
  const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const rogue = await X509CertificateGenerator.createSelfSigned({
    name: "CN=Custom ROM Release Key",
    keys,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
  });
  await writeFileAtomic(
    within(dir, DEVICE_PATHS.otaCerts),
    otaCertsZip(rogue.toString("pem")),
    0o644,
  );
}

async function editBuildProp(dir: string, key: string, value: string): Promise<void> {
  const path = within(dir, DEVICE_PATHS.buildProp);
  let text = "";
  try {
    text = await readFile(path, "utf8");
  } catch {
    // a missing build.prop is recreated with the one property
  }
  await writeFileAtomic(path, setBuildProp(text, key, value), 0o644);
}

export async function tamperTestKeys(dir: string): Promise<void> {
  await editBuildProp(dir, "ro.build.tags", "test-keys");
}

export async function tamperDebuggable(dir: string): Promise<void> {
  await editBuildProp(dir, "ro.debuggable", "1");
}

/** The shell made setuid, a classic persistence trick: `ROOT_PERMISSIONS`. */
export async function tamperPermissions(dir: string): Promise<void> {
  await chmod(within(dir, "system/bin/sh"), 0o4755);
}

/** One byte of the OS image changed (incremented, so applying it twice still differs). */
export async function tamperOsImage(dir: string): Promise<void> {
  const path = within(dir, DEVICE_PATHS.osImage);
  const bytes = new Uint8Array(await readFile(path));
  const at = Math.floor(bytes.length / 2);
  bytes[at] = (bytes[at]! + 1) & 0xff;
  await writeFileAtomic(path, bytes, 0o644);
}

/** The normal world now reports another valid IMEI than the fused one: `IDENTITY_MISMATCH`. */
export async function tamperImeiRewrite(dir: string): Promise<void> {
  const current = await readReportedIdentity(dir);
  let imei: string;
  try {
    const p = parseImei(current?.imei ?? "");
    imei = makeImei(p.tac, (Number(p.serial) + 1) % 1_000_000);
  } catch {
    imei = generateImei((await readDeviceConfig(dir))?.model ?? "dmg-phone-1");
  }
  await writeReportedIdentity(dir, { imei, meid: current?.meid ?? null });
}

const TAMPERS: Readonly<Record<TamperKind, (dir: string) => Promise<void>>> = Object.freeze({
  "payload-size": tamperPayloadSize,
  "payload-crc": tamperPayloadCrc,
  "payload-format": tamperPayloadFormat,
  "payload-key": tamperPayloadKey,
  su: tamperSu,
  "ota-certs-missing": tamperOtaCertsMissing,
  "ota-certs-replaced": tamperOtaCertsReplaced,
  "test-keys": tamperTestKeys,
  debuggable: tamperDebuggable,
  permissions: tamperPermissions,
  "os-image": tamperOsImage,
  "imei-rewrite": tamperImeiRewrite,
});

export async function tamperDevice(dir: string, kind: string): Promise<void> {
  if (!isTamperKind(kind)) {
    throw new DeviceError(
      "TAMPER_KIND_UNKNOWN",
      `unknown tamper kind ${JSON.stringify(kind.slice(0, 40))}; one of: ${TAMPER_KINDS.join(", ")}`,
    );
  }
  await TAMPERS[kind](dir);
}
