/**
 * The configuration file of `dmguard serve platform --config FILE` (src/cli/README.md): the
 * common fields (config-file.ts), the OEM CA certificate, and the tenants registered at start.
 *
 *   oemCaCertificate  required  PEM file, or an `up` folder's oem-ca.json (certificate only)
 *   carriers          []        carrier tenants; each gets a platform token (custody, verify,
 *                               migrate) in <dataDir>/credentials.json `platformTokens`
 *   enterprises       []        [{ "id": "initech", "carriers": ["acme"] }]; token: verify
 *   migrationPolicies {}        { "acme": { "subsidyLock": "days-after-activation:60",
 *                               "terminatedMayPortOut": false } } (src/platform/README.md)
 */
import { CARRIER_ID_PATTERN } from "../../carrier/index.js";
import type { EnterpriseTenant } from "../../platform/index.js";
import { type MigrationPolicyInput, resolvePolicy } from "../../server-kit/migration-policy.js";
import { COMMON_FIELDS, type CommonConfig, ConfigFile } from "./config-file.js";

export interface PlatformServeConfig extends CommonConfig {
  oemCaCertificatePems: string[];
  carriers: string[];
  enterprises: EnterpriseTenant[];
  migrationPolicies: Record<string, MigrationPolicyInput>;
}

const FIELDS = [
  ...COMMON_FIELDS,
  "oemCaCertificate",
  "carriers",
  "enterprises",
  "migrationPolicies",
];

/** Each carrier's migration policy, checked now (a bad one stops the start with its field). */
function policies(cfg: ConfigFile, v: unknown): Record<string, MigrationPolicyInput> {
  if (v === undefined) return {};
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw cfg.bad("migrationPolicies must be an object of carrier id → policy");
  }
  const out: Record<string, MigrationPolicyInput> = {};
  for (const [id, p] of Object.entries(v)) {
    ids(cfg, [id], "migrationPolicies keys");
    const o = p as Record<string, unknown>;
    const extra =
      typeof o === "object" && o !== null && !Array.isArray(o)
        ? Object.keys(o).find((k) => k !== "subsidyLock" && k !== "terminatedMayPortOut")
        : "(not an object)";
    if (
      extra !== undefined ||
      (o.subsidyLock !== undefined && typeof o.subsidyLock !== "string") ||
      (o.terminatedMayPortOut !== undefined && typeof o.terminatedMayPortOut !== "boolean")
    ) {
      throw cfg.bad(
        `migrationPolicies.${id} must be { "subsidyLock": "…", "terminatedMayPortOut": true|false }`,
      );
    }
    const policy = o as MigrationPolicyInput;
    try {
      resolvePolicy(policy);
    } catch (err) {
      throw cfg.bad(`migrationPolicies.${id}: ${(err as Error).message}`);
    }
    out[id] = policy;
  }
  return out;
}

function ids(cfg: ConfigFile, v: unknown, what: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string" && CARRIER_ID_PATTERN.test(x))) {
    throw cfg.bad(`${what} must be a list of ids (1-32 lowercase letters, digits, dashes)`);
  }
  return v as string[];
}

export async function readPlatformConfig(file: string): Promise<PlatformServeConfig> {
  const cfg = await ConfigFile.read(file, FIELDS);
  const common = cfg.common();
  const carriers = ids(cfg, cfg.c.carriers, "carriers");
  const raw = cfg.c.enterprises ?? [];
  if (!Array.isArray(raw)) throw cfg.bad("enterprises must be a list");
  const enterprises = raw.map((e, i): EnterpriseTenant => {
    const o = e as { id?: unknown; carriers?: unknown };
    if (typeof o !== "object" || o === null || typeof o.id !== "string") {
      throw cfg.bad(`enterprises[${i}] must be {"id": "...", "carriers": [...]}`);
    }
    const [id] = ids(cfg, [o.id], `enterprises[${i}].id`);
    return { id: id!, carriers: ids(cfg, o.carriers, `enterprises[${i}].carriers`) };
  });
  return {
    ...common,
    oemCaCertificatePems: await cfg.certificates("oemCaCertificate"),
    carriers,
    enterprises,
    migrationPolicies: policies(cfg, cfg.c.migrationPolicies),
  };
}
