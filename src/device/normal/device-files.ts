import { type FileHandle, open, readFile } from "node:fs/promises";
import { writeFileAtomic } from "../atomic-write.js";
import { isRecord } from "../validate.js";
import { DmClientError } from "./dm-errors.js";
import { DEVICE_PATHS, within } from "./layout.js";

/**
 * The small JSON files the normal world keeps. They are the normal world's own copies: anything
 * in them may have been rewritten by root, so the TSZ trusts none of them (it only compares the
 * reported identity with its fused one: a mismatch is `IDENTITY_MISMATCH`).
 */

/** The identity the normal world reports, as a radio daemon keeps it. */
export interface ReportedIdentity {
  imei: string;
  meid: string | null;
}

/** Public facts learned at manufacture (CONTRACT.md: "the servers' URLs learned at manufacture"). */
export interface DeviceConfig {
  model: string;
  brand: string;
  carrier: string;
  serverUrl: string;
}

async function readJson(dir: string, rel: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(within(dir, rel), "utf8"));
  } catch {
    return undefined;
  }
}

/**
 * A file the DM client itself writes, with its modification time (both through one handle, so
 * they are the same file's even while an atomic write replaces it): absent is null (nothing
 * provisioned yet, or a factory reset), but a file that does not parse, or fails `valid`, is
 * DEVICE_FILE_CORRUPT rather than read as absent, which would show a provisioned device as
 * having no profile.
 */
async function readOwnFile<T>(
  dir: string,
  rel: string,
  valid: (v: unknown) => v is T,
): Promise<{ value: T; mtimeMs: number } | null> {
  let fh: FileHandle;
  try {
    fh = await open(within(dir, rel), "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  let text: string;
  let mtimeMs: number;
  try {
    mtimeMs = (await fh.stat()).mtimeMs;
    text = await fh.readFile("utf8");
  } finally {
    await fh.close();
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  if (!valid(v)) {
    throw new DmClientError(
      "DEVICE_FILE_CORRUPT",
      `${rel} is not a file this device wrote (edited or truncated); a factory reset removes it`,
    );
  }
  return { value: v, mtimeMs };
}

export async function readReportedIdentity(dir: string): Promise<ReportedIdentity | null> {
  const v = await readJson(dir, DEVICE_PATHS.reportedIdentity);
  if (!isRecord(v) || typeof v.imei !== "string") return null;
  return { imei: v.imei, meid: typeof v.meid === "string" ? v.meid : null };
}

export async function writeReportedIdentity(
  dir: string,
  id: ReportedIdentity,
  opts: { durable?: boolean } = {},
): Promise<void> {
  await writeFileAtomic(
    within(dir, DEVICE_PATHS.reportedIdentity),
    `${JSON.stringify({ imei: id.imei, meid: id.meid })}\n`,
    0o644,
    opts,
  );
}

export async function readDeviceConfig(dir: string): Promise<DeviceConfig | null> {
  const v = await readJson(dir, DEVICE_PATHS.deviceConfig);
  if (
    !isRecord(v) ||
    typeof v.model !== "string" ||
    typeof v.brand !== "string" ||
    typeof v.carrier !== "string" ||
    typeof v.serverUrl !== "string"
  ) {
    return null;
  }
  return { model: v.model, brand: v.brand, carrier: v.carrier, serverUrl: v.serverUrl };
}

export async function writeDeviceConfig(
  dir: string,
  config: DeviceConfig,
  opts: { durable?: boolean } = {},
): Promise<void> {
  await writeFileAtomic(
    within(dir, DEVICE_PATHS.deviceConfig),
    `${JSON.stringify(config, null, 2)}\n`,
    0o644,
    opts,
  );
}

/**
 * The profile the DM client provisioned, with the time it was written (the access rule compares
 * it with the verdict's), or `null`; DEVICE_FILE_CORRUPT when unreadable.
 */
export function readProfileFile(
  dir: string,
): Promise<{ value: Record<string, unknown>; mtimeMs: number } | null> {
  return readOwnFile(dir, DEVICE_PATHS.profile, isRecord);
}

/**
 * The MDAS's final answer to an activation through an enterprise (`device status` shows it, not
 * the TSZ's integrity verdict that came inside it), bound to that TSZ verdict by its acceptance
 * time and carrier: once the TSZ records another verdict, the record no longer applies.
 */
export interface EnterpriseDecision {
  tszAcceptedAt: string;
  carrier: string;
  verdict: "approved" | "denied";
  reasons: string[];
  networkAccess: "full" | "limited";
  via: string;
  profile: Record<string, unknown> | null;
}

function isEnterpriseDecision(v: unknown): v is EnterpriseDecision {
  return (
    isRecord(v) &&
    typeof v.tszAcceptedAt === "string" &&
    typeof v.carrier === "string" &&
    (v.verdict === "approved" || v.verdict === "denied") &&
    Array.isArray(v.reasons) &&
    v.reasons.every((r) => typeof r === "string") &&
    (v.networkAccess === "full" || v.networkAccess === "limited") &&
    typeof v.via === "string" &&
    (v.profile === null || isRecord(v.profile))
  );
}

/** The MDAS's last answer, or `null`; DEVICE_FILE_CORRUPT when unreadable. */
export async function readEnterpriseDecision(dir: string): Promise<EnterpriseDecision | null> {
  return (
    (await readOwnFile(dir, DEVICE_PATHS.enterpriseDecision, isEnterpriseDecision))?.value ?? null
  );
}

export async function writeEnterpriseDecision(dir: string, d: EnterpriseDecision): Promise<void> {
  await writeFileAtomic(
    within(dir, DEVICE_PATHS.enterpriseDecision),
    `${JSON.stringify(d, null, 2)}\n`,
    0o644,
  );
}
