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
import { COMMON_FIELDS, type CommonConfig, ConfigFile, isObject } from "./config-file.js";

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

async function upstream(cfg: ConfigFile, carrier: string): Promise<Upstream> {
  const where = `upstreams.${carrier}`;
  const o = cfg.at(where);
  // The kind first: it decides whether a token belongs here.
  if (!isObject(o)) throw cfg.bad(`${where} must be an object: { "kind": …, "url": … }`);
  if (o.kind !== "carrier" && o.kind !== "platform") {
    throw cfg.bad(`${where}.kind must be "carrier" or "platform"`);
  }
  const more = ["kind", "verdictKey"];
  // Present: checked an object above.
  const server = (
    o.kind === "platform"
      ? await cfg.endpoint(where, {
          url: "the platform's http(s) base URL",
          token: "the enterprise's platform token",
          more,
        })
      : await cfg.endpoint(where, { url: "the carrier's http(s) base URL", more })
  )!;
  const vk = o.verdictKey;
  if (vk !== undefined && (!isObject(vk) || "d" in vk)) {
    throw cfg.bad(`${where}.verdictKey must be the upstream's public verdict JWK`);
  }
  const pinned = vk === undefined ? {} : { verdictKey: vk as JWK };
  return server.token !== undefined
    ? { kind: "platform", baseUrl: server.url, token: server.token, ...pinned }
    : { kind: "carrier", baseUrl: server.url, ...pinned };
}

export async function readEnterpriseConfig(file: string): Promise<EnterpriseServeConfig> {
  const cfg = await ConfigFile.read(file, FIELDS);
  const common = cfg.common();
  const enterprise = cfg.str("enterprise", true);
  if (!CARRIER_ID_PATTERN.test(enterprise)) {
    throw cfg.bad("enterprise must be 1-32 lowercase letters, digits and dashes");
  }
  const raw = cfg.c.upstreams;
  if (!isObject(raw)) {
    throw cfg.bad('upstreams must be an object: { "<carrier>": { "kind": …, "url": … } }');
  }
  const upstreams: Record<string, Upstream> = {};
  for (const carrier of Object.keys(raw)) {
    if (!CARRIER_ID_PATTERN.test(carrier))
      throw cfg.bad(`upstreams: "${carrier}" is not a carrier id`);
    upstreams[carrier] = await upstream(cfg, carrier);
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
