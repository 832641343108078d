/**
 * The parts `dmguard up` runs on its one HTTP app. Each part mounts itself under its own prefix
 * and names the owner (store part, keystore custody, admin tokens) it acts as: the carriers, the
 * platform (issue 5: its own keystore, its tenants' tokens) and the enterprise MDAS `initech`.
 * The platform and enterprise parts live in platform-part.ts and enterprise-part.ts; what every
 * part implements is in part-types.ts.
 */
import { join } from "node:path";
import {
  ADMIN_SCOPE,
  type CarrierOptions,
  issueAdminToken,
  registerCarrier,
} from "../../carrier/index.js";
import { enterprisePart } from "./enterprise-part.js";
import { PLATFORM_KEYSTORE_DIR, STACK_CARRIERS, STACK_ENTERPRISE } from "./layout.js";
import type { StackPart } from "./part-types.js";
import { platformPart } from "./platform-part.js";

/** What a carrier may be configured with beyond what the stack shares (serve's config file). */
export type CarrierExtras = Pick<
  CarrierOptions,
  "profile" | "publicUrl" | "platformSync" | "migration"
>;

/**
 * One carrier. `stackPlatform`: it keeps its custody records at the platform on the same app
 * up to date (src/carrier/README.md, "Platform sync") with its tenant token from the stack.
 */
export function carrierPart(
  id: string,
  extras: CarrierExtras = {},
  opts: { stackPlatform?: boolean } = {},
): StackPart {
  return {
    kind: "carrier",
    id,
    async mount(env) {
      // The platform on the same app; its URL is known once the app listens ("" until then,
      // which the platform sync takes as "not yet").
      const platform = {
        url: () => (env.baseUrl() === "" ? "" : `${env.baseUrl()}/platform`),
        token: () => env.platformTokens.get(`carrier:${id}`) ?? "",
      };
      await registerCarrier(env.app, {
        carrierId: id,
        store: env.store,
        keystore: env.keystore,
        oemCaCertificatePems: env.oemCaCertificatePems,
        ...(opts.stackPlatform
          ? {
              platformSync: platform,
              // Migration to this carrier: questions to the platform, notices to the old
              // carrier on the same app (src/carrier/README.md "Migration").
              migration: {
                platform,
                peers: Object.fromEntries(STACK_CARRIERS.map((c) => [c, () => env.baseUrl()])),
              },
            }
          : {}),
        ...extras,
      });
      return {
        path: `/carriers/${id}`,
        owner: `carrier:${id}`,
        adminScope: ADMIN_SCOPE,
        issueAdminToken: () =>
          issueAdminToken(env.store, id, { label: "dmguard up", replacing: true }),
      };
    },
  };
}

/**
 * Every part of `dmguard up`, in mount order: the carriers, the platform with its own keystore
 * under `dataDir`, and `initech`, which forwards acme's devices to acme's server and globex's to
 * the platform (issue 5: "configurable per carrier"; both paths run in one stack).
 */
export function stackParts(dataDir: string): StackPart[] {
  return [
    ...STACK_CARRIERS.map((id) => carrierPart(id, {}, { stackPlatform: true })),
    platformPart({
      keystoreDir: join(dataDir, PLATFORM_KEYSTORE_DIR),
      carriers: [...STACK_CARRIERS],
      enterprises: [{ id: STACK_ENTERPRISE, carriers: [...STACK_CARRIERS] }],
    }),
    enterprisePart(STACK_ENTERPRISE, (env) => ({
      acme: { kind: "carrier", baseUrl: env.baseUrl },
      globex: {
        kind: "platform",
        baseUrl: env.baseUrl,
        token: () => env.platformTokens.get(`enterprise:${STACK_ENTERPRISE}`) ?? "",
      },
    })),
  ];
}
