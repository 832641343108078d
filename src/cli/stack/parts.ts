/**
 * The parts `dmguard up` runs on its one HTTP app. Each part mounts itself under its own prefix
 * and names the owner (store part, keystore custody, admin tokens) it acts as. The platform and
 * the enterprise MDAS `initech` (issue 5) join by adding a StackPart to `stackParts`; nothing
 * else in the stack changes.
 */
import type { FastifyInstance } from "fastify";
import {
  ADMIN_SCOPE,
  type CarrierOptions,
  issueAdminToken,
  registerCarrier,
} from "../../carrier/index.js";
import type { Keystore } from "../../keystore/index.js";
import type { Store } from "../../store/index.js";
import type { PartKind } from "./files.js";
import { STACK_CARRIERS } from "./layout.js";

/** What the stack shares with every part it mounts. */
export interface StackEnv {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly keystore: Keystore;
  /** The OEM CA certificates device certificates must chain to. */
  readonly oemCaCertificatePems: readonly string[];
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

/** Every part of `dmguard up`, in mount order. Issue 5 adds the platform and `initech` here. */
export function stackParts(): StackPart[] {
  return STACK_CARRIERS.map((id) => carrierPart(id));
}
