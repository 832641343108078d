/**
 * The common platform as a stack part (src/platform/README.md): mounted under /platform with a
 * keystore of its own (its custody of carriers' keys must not share the carriers' master key),
 * the operator token as its admin token, and one platform token per tenant — each carrier
 * (custody, verify, migrate) and each enterprise (verify) — kept in credentials.json.
 */
import type { Keystore } from "../../keystore/index.js";
import { openSoftwareKeystore } from "../../keystore/index.js";
import {
  type EnterpriseTenant,
  issuePlatformToken,
  OPERATOR_HOLDER,
  PLATFORM_PART,
  type PlatformOptions,
  registerPlatform,
  type Scope,
} from "../../platform/index.js";
import { TENANT_TOKEN_TTL_MS } from "./layout.js";
import type { StackPart, TenantToken } from "./part-types.js";

export interface PlatformPartOptions {
  /** The platform's own keystore; absent: the stack's (`serve platform`, a process of its own). */
  keystoreDir?: string;
  carriers: readonly string[];
  enterprises: readonly EnterpriseTenant[];
  /** Each carrier's migration policy (src/platform/README.md "Migration"); default for all. */
  migrationPolicies?: PlatformOptions["migrationPolicies"];
}

/** What each tenant's token may ask (src/platform/README.md, "Tenants and tokens"). */
export const CARRIER_SCOPES: readonly Scope[] = ["custody", "verify", "migrate"];
export const ENTERPRISE_SCOPES: readonly Scope[] = ["verify"];

export function platformPart(opts: PlatformPartOptions): StackPart {
  return {
    kind: "platform",
    id: "platform",
    async mount(env) {
      const own: Keystore | null =
        opts.keystoreDir === undefined
          ? null
          : await openSoftwareKeystore({ dir: opts.keystoreDir });
      try {
        await registerPlatform(env.app, {
          store: env.store,
          keystore: own ?? env.keystore,
          oemCaCertificatePems: env.oemCaCertificatePems,
          carriers: opts.carriers,
          enterprises: opts.enterprises,
          ...(opts.migrationPolicies ? { migrationPolicies: opts.migrationPolicies } : {}),
        });
      } catch (err) {
        await own?.close();
        throw err;
      }
      const tenant = (holder: string, scopes: readonly Scope[]): TenantToken => ({
        key: holder,
        scopes,
        issue: async () =>
          (
            await issuePlatformToken(env.store, {
              holders: [holder],
              scopes,
              ttlMs: TENANT_TOKEN_TTL_MS,
              label: "dmguard up",
            })
          ).token,
      });
      return {
        path: "/platform",
        owner: PLATFORM_PART,
        adminScope: "operator",
        issueAdminToken: async () =>
          (
            await issuePlatformToken(env.store, {
              holders: [OPERATOR_HOLDER],
              scopes: ["operator"],
              label: "dmguard up",
              replacing: true,
            })
          ).token,
        tenantTokens: [
          ...opts.carriers.map((c) => tenant(`carrier:${c}`, CARRIER_SCOPES)),
          ...opts.enterprises.map((e) => tenant(`enterprise:${e.id}`, ENTERPRISE_SCOPES)),
        ],
        ...(own ? { close: () => own.close() } : {}),
      };
    },
  };
}
