/**
 * The factory line's note of a registration still to finish (stack/factory.ts). A device's
 * registration spans three servers (the carrier's inventory, the platform's custody, the
 * enterprise's enrolment), and the platform's copy of slot 0's key exists only in the answer
 * that made the key. The note keeps what the remaining steps need, so that running the same
 * `device manufacture` again after a failure (a server killed, a refusal) finishes them, where
 * it used to be refused as a clone. It lives in the device's folder, outside the device's own
 * tree, and is removed once every step is done.
 */
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { ManufactureRecord } from "../../device/index.js";
import { isWrappedKey, type WrappedKey } from "../../keystore/index.js";
import { CliError } from "../exit.js";
import { writeFileAtomic } from "./files.js";

export const PENDING_FILE = "factory-pending.json";

/** The device's facts as the factory records them (its DM account's secret stays on it). */
export type FactoryRecord = Omit<ManufactureRecord, "dmAccount">;

/** The registration's own choices, kept so that a rerun without the flags keeps them. */
export interface RegistrationPlan {
  contractEnd: string | null;
  userGroup: string | null;
  enterprise: string | null;
  user: string | null;
}

export interface PendingRegistration {
  /** As made; on a resume the device's own identity, key and certificate replace these. */
  record: FactoryRecord;
  /** Slot 0's key wrapped to the platform (only the platform's keystore opens it). */
  custodyWrapped: WrappedKey | null;
  plan: RegistrationPlan;
}

export function factoryRecord(r: ManufactureRecord): FactoryRecord {
  const { dmAccount: _, ...rest } = r;
  return rest;
}

export async function writePending(dir: string, pending: PendingRegistration): Promise<void> {
  // 0600: the wrapped key opens only at the platform, but it is the device's key all the same.
  await writeFileAtomic(join(dir, PENDING_FILE), `${JSON.stringify(pending)}\n`, 0o600);
}

export async function removePending(dir: string): Promise<void> {
  await rm(join(dir, PENDING_FILE), { force: true });
}

const text = (v: unknown): v is string => typeof v === "string" && v.length > 0;
const textOrNull = (v: unknown): v is string | null => v === null || text(v);

function isPlan(v: unknown): v is RegistrationPlan {
  if (typeof v !== "object" || v === null) return false;
  const p = v as Record<string, unknown>;
  return (
    textOrNull(p.contractEnd) &&
    textOrNull(p.userGroup) &&
    textOrNull(p.enterprise) &&
    textOrNull(p.user)
  );
}

function isPending(v: unknown): v is PendingRegistration {
  if (typeof v !== "object" || v === null) return false;
  const { record: r, custodyWrapped, plan } = v as Record<string, unknown>;
  if (typeof r !== "object" || r === null) return false;
  const f = r as Record<string, unknown>;
  return (
    text(f.imei) &&
    textOrNull(f.meid) &&
    textOrNull(f.esn) &&
    text(f.model) &&
    text(f.carrier) &&
    text(f.kid) &&
    typeof f.slotCount === "number" &&
    text(f.oemId) &&
    typeof f.counterfeit === "boolean" &&
    text(f.attestationCertificatePem) &&
    (custodyWrapped === null || isWrappedKey(custodyWrapped)) &&
    isPlan(plan)
  );
}

/** The note in `dir`, or null when there is none; a note that is not one is an error. */
export async function readPending(dir: string): Promise<PendingRegistration | null> {
  const path = join(dir, PENDING_FILE);
  let raw: string;
  try {
    raw = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  if (!isPending(parsed)) {
    throw new CliError(`${path} is not a factory registration note; the device cannot be resumed`);
  }
  return parsed;
}
