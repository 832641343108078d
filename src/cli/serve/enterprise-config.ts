/**
 * The configuration file of `dmguard serve enterprise --config FILE` (src/cli/README.md): the
 * common fields (config-file.ts) and where the MDAS forwards each carrier's devices.
 *
 *   enterprise      required  the enterprise id: routes under /enterprises/<id>/
 *   upstreams       required  per carrier id: { "kind": "carrier", "url": BASE } (that carrier's
 *                             server) or { "kind": "platform", "url": BASE, "token": T |
 *                             "tokenFile": FILE } (the platform, with the enterprise's token);
 *                             either may pin "verdictKey": the upstream's public verdict JWK
 *                             (else fetched from its verdict-key route on first use)
 *   defaultCarrier  first     the carrier a nonce is for when the device names none
 *   publicUrl       Host      the URL devices reach this server at (its DM account)
 *   groups          defaults  user groups and their content (src/enterprise/ENTERPRISE_MO.md)
 *   allowedModels   any       models the enterprise supports
 */
import type { JWK } from "jose";
import { CARRIER_ID_PATTERN } from "../../carrier/index.js";
import type { GroupContent, Upstream } from "../../enterprise/index.js";
import { COMMON_FIELDS, type CommonConfig, ConfigFile } from "./config-file.js";

export interface EnterpriseServeConfig extends CommonConfig {
  enterprise: string;
  upstreams: Record<string, Upstream>;
  defaultCarrier?: string;
  publicUrl?: string;
  groups?: Record<string, GroupContent>;
  allowedModels?: string[];
}

const FIELDS = [
  ...COMMON_FIELDS,
  "enterprise",
  "upstreams",
  "defaultCarrier",
  "publicUrl",
  "groups",
  "allowedModels",
];

async function upstream(cfg: ConfigFile, carrier: string, v: unknown): Promise<Upstream> {
  const where = `upstreams.${carrier}`;
  const o = v as Record<string, unknown>;
  if (typeof o !== "object" || o === null) throw cfg.bad(`${where} must be an object`);
  const url = o.url;
  if (typeof url !== "string" || !/^https?:\/\/[^\s]+$/.test(url)) {
    throw cfg.bad(`${where}.url must be the http(s) base URL of the server`);
  }
  const vk = o.verdictKey;
  if (
    vk !== undefined &&
    (typeof vk !== "object" || vk === null || Array.isArray(vk) || "d" in vk)
  ) {
    throw cfg.bad(`${where}.verdictKey must be the upstream's public verdict JWK`);
  }
  const pinned = vk === undefined ? {} : { verdictKey: vk as JWK };
  if (o.kind === "carrier") return { kind: "carrier", baseUrl: url, ...pinned };
  if (o.kind !== "platform") throw cfg.bad(`${where}.kind must be "carrier" or "platform"`);
  const token = await cfg.token(o, where, "the enterprise's platform token");
  return { kind: "platform", baseUrl: url, token, ...pinned };
}

export async function readEnterpriseConfig(file: string): Promise<EnterpriseServeConfig> {
  const cfg = await ConfigFile.read(file, FIELDS);
  const common = cfg.common();
  const enterprise = cfg.str("enterprise", true);
  if (!CARRIER_ID_PATTERN.test(enterprise)) {
    throw cfg.bad("enterprise must be 1-32 lowercase letters, digits and dashes");
  }
  const raw = cfg.c.upstreams;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw cfg.bad('upstreams must be an object: { "<carrier>": { "kind": …, "url": … } }');
  }
  const upstreams: Record<string, Upstream> = {};
  for (const [carrier, v] of Object.entries(raw)) {
    if (!CARRIER_ID_PATTERN.test(carrier))
      throw cfg.bad(`upstreams: "${carrier}" is not a carrier id`);
    upstreams[carrier] = await upstream(cfg, carrier, v);
  }
  const defaultCarrier = cfg.str("defaultCarrier", false);
  const publicUrl = cfg.url("publicUrl", false);
  const groups = cfg.c.groups;
  if (groups !== undefined && (typeof groups !== "object" || groups === null)) {
    throw cfg.bad("groups must be an object");
  }
  const models = cfg.c.allowedModels;
  if (
    models !== undefined &&
    (!Array.isArray(models) || !models.every((m) => typeof m === "string"))
  ) {
    throw cfg.bad("allowedModels must be a list of model names");
  }
  return {
    ...common,
    enterprise,
    upstreams,
    ...(defaultCarrier === undefined ? {} : { defaultCarrier }),
    ...(publicUrl === undefined ? {} : { publicUrl }),
    ...(groups === undefined ? {} : { groups: groups as Record<string, GroupContent> }),
    ...(models === undefined ? {} : { allowedModels: models as string[] }),
  };
}
