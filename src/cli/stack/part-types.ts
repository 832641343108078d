/**
 * What the stack and its parts agree on: the environment the stack lends each part, and what a
 * mounted part gives back. Kept apart from parts.ts so the part modules depend on these types
 * without depending on the list of parts.
 */
import type { FastifyInstance } from "fastify";
import type { Keystore } from "../../keystore/index.js";
import type { Store } from "../../store/index.js";
import type { PartKind } from "./files.js";

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
