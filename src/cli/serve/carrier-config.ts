/**
 * The configuration file of `dmguard serve carrier --config FILE` (documented in
 * src/cli/README.md): one JSON object. Relative paths are read from the file's folder, so a
 * config and its files move together.
 *
 *   carrier           required  the carrier id (`acme`): routes under /carriers/acme/
 *   dataDir           required  stack.json and credentials.json (admin token, 0600) go here
 *   oemCaCertificate  required  PEM file of the OEM CA certificate(s) devices chain to, or an
 *                               `up` folder's oem-ca.json (only its certificate is read)
 *   port              8080      0 = any free port
 *   host              127.0.0.1
 *   keystoreDir       <dataDir>/keystore
 *   db                sqlite:<dataDir>/dmguard.sqlite   or postgres://…; --db overrides
 *   publicUrl         from each request's Host header   the URL devices reach this server at
 *   profile           defaults from the carrier id      ProfileConfig fields (PROFILE_MO.md)
 *   platform          none                              { "url": the platform's base URL
 *                                                       (…/platform), "token": T | "tokenFile":
 *                                                       FILE (the carrier's custody token) }:
 *                                                       block, unblock, terminate and first
 *                                                       approvals are synced to its custody
 *   migration         none                              { "direct": { A: { "url": A's server
 *                                                       base URL, "token" | "tokenFile": the
 *                                                       peer token A issued } }, "peers": { A:
 *                                                       base URL for port-out notices },
 *                                                       "policy": { "subsidyLock": …,
 *                                                       "terminatedMayPortOut": … } }
 *                                                       (src/carrier/README.md "Migration")
 */
import { CARRIER_ID_PATTERN, type ProfileConfig } from "../../carrier/index.js";
import { type MigrationPolicyInput, resolvePolicy } from "../../server-kit/migration-policy.js";
import { type CommonConfig, ConfigFile } from "./config-file.js";

export interface CarrierServeConfig extends CommonConfig {
  carrier: string;
  oemCaCertificatePems: string[];
  publicUrl?: string;
  profile?: Partial<ProfileConfig>;
  platform?: { url: string; token: string };
  migration?: CarrierMigrationConfig;
}

/** The `migration` field, checked (src/carrier/migration/options.ts says what each does). */
export interface CarrierMigrationConfig {
  direct?: Record<string, { url: string; token: string }>;
  peers?: Record<string, string>;
  policy?: MigrationPolicyInput;
}

const FIELDS = [
  "carrier",
  "dataDir",
  "oemCaCertificate",
  "port",
  "host",
  "keystoreDir",
  "db",
  "publicUrl",
  "profile",
  "platform",
  "migration",
];

export async function readCarrierConfig(file: string): Promise<CarrierServeConfig> {
  const cfg = await ConfigFile.read(file, FIELDS);
  const carrier = cfg.str("carrier", true);
  if (!CARRIER_ID_PATTERN.test(carrier)) {
    throw cfg.bad("carrier must be 1-32 lowercase letters, digits and dashes");
  }
  const common = cfg.common();
  const publicUrl = cfg.url("publicUrl", false);
  const profile = cfg.c.profile;
  if (profile !== undefined && (typeof profile !== "object" || profile === null)) {
    throw cfg.bad("profile must be an object");
  }
  const platform = await platformOf(cfg, cfg.c.platform);
  const migration = await migrationOf(cfg, cfg.c.migration, carrier);
  return {
    carrier,
    ...common,
    oemCaCertificatePems: await cfg.certificates("oemCaCertificate"),
    ...(publicUrl === undefined ? {} : { publicUrl }),
    ...(profile === undefined ? {} : { profile: profile as Partial<ProfileConfig> }),
    ...(platform === undefined ? {} : { platform }),
    ...(migration === undefined ? {} : { migration }),
  };
}

const HTTP_URL = /^https?:\/\/[^\s]+$/;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Carrier ids as keys of `where`, never this carrier's own. */
function peerIds(
  cfg: ConfigFile,
  o: Record<string, unknown>,
  where: string,
  self: string,
): string[] {
  const ids = Object.keys(o);
  for (const id of ids) {
    if (!CARRIER_ID_PATTERN.test(id)) {
      throw cfg.bad(`${where}: "${id.slice(0, 40)}" is not a carrier id`);
    }
    if (id === self) throw cfg.bad(`${where}: ${id} is this carrier itself`);
  }
  return ids;
}

async function migrationOf(
  cfg: ConfigFile,
  v: unknown,
  self: string,
): Promise<CarrierMigrationConfig | undefined> {
  if (v === undefined) return undefined;
  if (!isObject(v)) {
    throw cfg.bad('migration must be an object: { "direct"?, "peers"?, "policy"? }');
  }
  const extra = Object.keys(v).find((k) => !["direct", "peers", "policy"].includes(k));
  if (extra !== undefined) {
    throw cfg.bad(
      `migration: unknown field "${extra.slice(0, 40)}"; fields are direct, peers, policy`,
    );
  }
  const out: CarrierMigrationConfig = {};
  if (v.direct !== undefined) {
    if (!isObject(v.direct)) {
      throw cfg.bad("migration.direct must be an object of carrier id → { url, token }");
    }
    out.direct = {};
    for (const id of peerIds(cfg, v.direct, "migration.direct", self)) {
      const o = v.direct[id];
      const where = `migration.direct.${id}`;
      if (!isObject(o)) throw cfg.bad(`${where} must be { "url": …, "token" | "tokenFile": … }`);
      const unknownKey = Object.keys(o).find((k) => !["url", "token", "tokenFile"].includes(k));
      if (unknownKey !== undefined) {
        throw cfg.bad(`${where}: unknown field "${unknownKey.slice(0, 40)}"`);
      }
      if (typeof o.url !== "string" || !HTTP_URL.test(o.url)) {
        throw cfg.bad(`${where}.url must be the carrier's http(s) base URL`);
      }
      out.direct[id] = { url: o.url, token: await cfg.token(o, where) };
    }
  }
  if (v.peers !== undefined) {
    if (!isObject(v.peers)) throw cfg.bad("migration.peers must be an object of carrier id → URL");
    out.peers = {};
    for (const id of peerIds(cfg, v.peers, "migration.peers", self)) {
      const url = v.peers[id];
      if (typeof url !== "string" || !HTTP_URL.test(url)) {
        throw cfg.bad(`migration.peers.${id} must be the carrier's http(s) base URL`);
      }
      out.peers[id] = url;
    }
  }
  if (v.policy !== undefined) {
    const p = v.policy;
    if (
      !isObject(p) ||
      Object.keys(p).some((k) => k !== "subsidyLock" && k !== "terminatedMayPortOut") ||
      (p.subsidyLock !== undefined && typeof p.subsidyLock !== "string") ||
      (p.terminatedMayPortOut !== undefined && typeof p.terminatedMayPortOut !== "boolean")
    ) {
      throw cfg.bad(
        'migration.policy must be { "subsidyLock": "…", "terminatedMayPortOut": true|false }',
      );
    }
    try {
      resolvePolicy(p as MigrationPolicyInput);
    } catch (err) {
      throw cfg.bad(`migration.policy: ${(err as Error).message}`);
    }
    out.policy = p as MigrationPolicyInput;
  }
  return out;
}

/** The platform this carrier syncs its custody records to, with its token (inline or a file). */
async function platformOf(
  cfg: ConfigFile,
  v: unknown,
): Promise<{ url: string; token: string } | undefined> {
  if (v === undefined) return undefined;
  if (!isObject(v)) {
    throw cfg.bad('platform must be an object: { "url": …, "token" | "tokenFile": … }');
  }
  const extra = Object.keys(v).find((k) => !["url", "token", "tokenFile"].includes(k));
  if (extra !== undefined) throw cfg.bad(`platform: unknown field "${extra.slice(0, 40)}"`);
  if (typeof v.url !== "string" || !HTTP_URL.test(v.url)) {
    throw cfg.bad("platform.url must be the platform's http(s) base URL (…/platform)");
  }
  return { url: v.url, token: await cfg.token(v, "platform", "the carrier's custody token") };
}
