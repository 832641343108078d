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
import type { MigrationPolicyInput } from "../../server-kit/migration-policy.js";
import {
  COMMON_FIELDS,
  type CommonConfig,
  ConfigFile,
  isHttpUrl,
  isObject,
} from "./config-file.js";

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
  ...COMMON_FIELDS,
  "oemCaCertificate",
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
  const platform = await cfg.endpoint("platform", {
    url: "the platform's http(s) base URL (…/platform)",
    token: "the carrier's custody token",
  });
  const migration = await migrationOf(cfg, carrier);
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
  self: string,
): Promise<CarrierMigrationConfig | undefined> {
  const v = cfg.c.migration;
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
      const peer = await cfg.endpoint(`migration.direct.${id}`, {
        url: "the carrier's http(s) base URL",
        token: "a token",
      });
      // Present: `id` is one of the object's keys.
      out.direct[id] = peer!;
    }
  }
  if (v.peers !== undefined) {
    if (!isObject(v.peers)) throw cfg.bad("migration.peers must be an object of carrier id → URL");
    out.peers = {};
    for (const id of peerIds(cfg, v.peers, "migration.peers", self)) {
      const url = v.peers[id];
      if (!isHttpUrl(url)) {
        throw cfg.bad(`migration.peers.${id} must be the carrier's http(s) base URL`);
      }
      out.peers[id] = url;
    }
  }
  const policy = cfg.migrationPolicy("migration.policy");
  if (policy !== undefined) out.policy = policy;
  return out;
}
