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
import type { MigrationPolicyInput } from "../../server-kit/migration-policy.js";
import { COMMON_FIELDS, type CommonConfig, ConfigFile, isObject } from "./config-file.js";

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
function policies(cfg: ConfigFile): Record<string, MigrationPolicyInput> {
  const v = cfg.c.migrationPolicies;
  if (v === undefined) return {};
  if (!isObject(v)) throw cfg.bad("migrationPolicies must be an object of carrier id → policy");
  const out: Record<string, MigrationPolicyInput> = {};
  for (const id of Object.keys(v)) {
    ids(cfg, [id], "migrationPolicies keys");
    // Present: `id` is one of the object's keys.
    out[id] = cfg.migrationPolicy(`migrationPolicies.${id}`)!;
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
    migrationPolicies: policies(cfg),
  };
}
