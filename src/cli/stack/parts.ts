/**
 * The parts `dmguard up` runs on its one HTTP app. Each part mounts itself under its own prefix
 * and names the owner (store part, keystore custody, admin tokens) it acts as: the carriers, the
 * platform (issue 5: its own keystore, its tenants' tokens) and the enterprise MDAS `initech`.
 * The platform and enterprise parts live in platform-part.ts and enterprise-part.ts.
 */
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import {
  ADMIN_SCOPE,
  type CarrierOptions,
  issueAdminToken,
  registerCarrier,
} from "../../carrier/index.js";
import type { Keystore } from "../../keystore/index.js";
import type { Store } from "../../store/index.js";
import { enterprisePart } from "./enterprise-part.js";
import type { PartKind } from "./files.js";
import { PLATFORM_KEYSTORE_DIR, STACK_CARRIERS, STACK_ENTERPRISE } from "./layout.js";
import { platformPart } from "./platform-part.js";

/** What the stack shares with every part it mounts. */
export interface StackEnv {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly keystore: Keystore;
  /** The OEM CA certificates device certificates must chain to. */
  readonly oemCaCertificatePems: readonly string[];
  /**
   * Platform tokens by key (`carrier:acme`, `enterprise:initech`), from credentials.json; filled
   * after every part is mounted and before the port opens, so parts read it lazily.
   */
  readonly platformTokens: ReadonlyMap<string, string>;
  /** The base URL, known once the app listens ("" before): for parts that call each other. */
  baseUrl(): string;
}

/** A platform token a part needs minted for a tenant, kept in credentials.json `platformTokens`. */
export interface TenantToken {
  /** Its name in credentials.json (`carrier:acme`). */
  readonly key: string;
  /** Scopes a kept token must still carry, or it is replaced. */
  readonly scopes: readonly string[];
  issue(): Promise<string>;
}

export interface MountedPart {
  /** The part's path under the base URL (`/carriers/acme`). */
  readonly path: string;
  /** The owner its admin token belongs to (`carrier:acme`). */
  readonly owner: string;
  /** The scope an admin token of this part must carry. */
  readonly adminScope: string;
  /** Mints a new admin token (clear value returned once; the store keeps its digest). */
  issueAdminToken(): Promise<string>;
  /** Platform tokens for tenants (the platform part only), checked in the store part `owner`. */
  readonly tenantTokens?: readonly TenantToken[];
  /** Releases what the part opened itself (the platform's own keystore). */
  close?(): Promise<void>;
}

export interface StackPart {
  readonly kind: PartKind;
  readonly id: string;
  mount(env: StackEnv): Promise<MountedPart>;
}

/** What a carrier may be configured with beyond what the stack shares (serve's config file). */
export type CarrierExtras = Pick<CarrierOptions, "profile" | "publicUrl">;

export function carrierPart(id: string, extras: CarrierExtras = {}): StackPart {
  return {
    kind: "carrier",
    id,
    async mount(env) {
      await registerCarrier(env.app, {
        carrierId: id,
        store: env.store,
        keystore: env.keystore,
        oemCaCertificatePems: env.oemCaCertificatePems,
        ...extras,
      });
      return {
        path: `/carriers/${id}`,
        owner: `carrier:${id}`,
        adminScope: ADMIN_SCOPE,
        issueAdminToken: () => issueAdminToken(env.store, id, { label: "dmguard up" }),
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
    ...STACK_CARRIERS.map((id) => carrierPart(id)),
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
