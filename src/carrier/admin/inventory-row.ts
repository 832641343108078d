import { pemThumbprint } from "../../evidence/index.js";
import {
  isValidEsn,
  isValidImei,
  isValidMeid,
  normaliseEsn,
  normaliseMeid,
} from "../../identity/index.js";
import type { InventoryInput } from "../../store/index.js";
import { USER_GROUPS } from "../dm/profile-config.js";

/**
 * One inventory row as an import gives it (JSON object or CSV record), checked with the
 * identity rules before anything is stored. What the OEM hands the carrier at manufacture
 * (DESIGN.md): IMEI, MEID/ESN, model, key id, the attestation public key, contract end, user
 * group.
 */
export const INVENTORY_FIELDS = [
  "imei",
  "meid",
  "esn",
  "model",
  "kid",
  "attestationKey",
  "contractEnd",
  "userGroup",
  "enterprise",
] as const;
export type InventoryField = (typeof INVENTORY_FIELDS)[number];

export interface RowProblem {
  field: InventoryField | "row";
  problem: string;
}

const MODEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const KID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/;
const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;

function isDate(s: string): boolean {
  const m = DATE.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === s;
}

/**
 * The identity of an attestation key given as an SPKI PEM or a certificate PEM: SHA-256 of its
 * SubjectPublicKeyInfo, base64url, as the evidence verification computes it.
 */
export const attestationThumbprint: (pem: string) => string = pemThumbprint;

function opt(v: unknown): string | null | undefined {
  if (v === undefined || v === null) return null;
  if (typeof v !== "string") return undefined;
  const t = v.trim();
  return t === "" ? null : t;
}

/** The store's input for a row, or the problems with it (all of them). */
export function validateRow(raw: unknown): InventoryInput | RowProblem[] {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return [{ field: "row", problem: "must be an object" }];
  }
  const r = raw as Record<string, unknown>;
  const problems: RowProblem[] = [];
  for (const k of Object.keys(r)) {
    if (!(INVENTORY_FIELDS as readonly string[]).includes(k)) {
      problems.push({ field: "row", problem: `unknown field ${k.slice(0, 40)}` });
    }
  }
  const f: Record<InventoryField, string | null | undefined> = {
    imei: opt(r.imei),
    meid: opt(r.meid),
    esn: opt(r.esn),
    model: opt(r.model),
    kid: opt(r.kid),
    attestationKey: opt(r.attestationKey),
    contractEnd: opt(r.contractEnd),
    userGroup: opt(r.userGroup),
    enterprise: opt(r.enterprise),
  };
  for (const k of INVENTORY_FIELDS) {
    if (f[k] === undefined) problems.push({ field: k, problem: "must be a string" });
  }
  if (!f.imei || !isValidImei(f.imei)) {
    problems.push({ field: "imei", problem: "is not a valid IMEI (15 digits, Luhn check)" });
  }
  if (f.meid && !isValidMeid(f.meid)) problems.push({ field: "meid", problem: "is not a MEID" });
  if (f.esn && !isValidEsn(f.esn)) problems.push({ field: "esn", problem: "is not an ESN" });
  if (!f.model || !MODEL.test(f.model)) problems.push({ field: "model", problem: "is required" });
  if (!f.kid || !KID.test(f.kid)) {
    problems.push({ field: "kid", problem: "is required: 1-64 letters, digits, . _ : -" });
  }
  if (f.contractEnd && !isDate(f.contractEnd)) {
    problems.push({ field: "contractEnd", problem: "is not a date YYYY-MM-DD" });
  }
  // A group the profile has no services for would be provisioned as some other group's.
  if (f.userGroup && !(USER_GROUPS as readonly string[]).includes(f.userGroup)) {
    problems.push({ field: "userGroup", problem: `is not one of ${USER_GROUPS.join(", ")}` });
  }
  if (f.enterprise && !NAME.test(f.enterprise)) {
    problems.push({ field: "enterprise", problem: "is not an enterprise id" });
  }
  let thumbprint: string | null = null;
  if (f.attestationKey) {
    try {
      thumbprint = attestationThumbprint(f.attestationKey);
    } catch {
      problems.push({
        field: "attestationKey",
        problem: "is not a P-256 public key or certificate (PEM)",
      });
    }
  }
  if (problems.length > 0) return problems;
  return {
    imei: f.imei!,
    meid: f.meid ? normaliseMeid(f.meid) : null,
    esn: f.esn ? normaliseEsn(f.esn) : null,
    model: f.model!,
    kid: f.kid!,
    attestationKey: f.attestationKey ?? null,
    attestationThumbprint: thumbprint,
    contractEnd: f.contractEnd ?? null,
    userGroup: f.userGroup ?? null,
    enterprise: f.enterprise ?? null,
  };
}
