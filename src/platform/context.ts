import { loadTrustAnchors, type TrustAnchor } from "../evidence/index.js";
import type { Keystore } from "../keystore/index.js";
import {
  DEFAULT_POLICY,
  type MigrationPolicy,
  resolvePolicy,
} from "../server-kit/migration-policy.js";
import type { PartStore } from "../store/index.js";
import { DEFAULT_NONCE_TTL_MS, PLATFORM_PART, type PlatformOptions } from "./options.js";
import { Tenants } from "./tenants.js";

/** What the platform's routes share, resolved once when it is mounted. */
export interface PlatformContext {
  /** The audit actor and store part: `platform`. */
  readonly owner: string;
  readonly part: PartStore;
  readonly keystore: Keystore;
  readonly anchors: readonly TrustAnchor[];
  readonly tenants: Tenants;
  readonly now: () => number;
  readonly nonceTtlMs: number;
  /** A carrier's migration policy (src/server-kit/migration-policy.ts), or the default. */
  migrationPolicy(carrierId: string): MigrationPolicy;
}

export async function platformContext(opts: PlatformOptions): Promise<PlatformContext> {
  if (opts.oemCaCertificatePems.length === 0) throw new TypeError("no OEM CA certificate given");
  const part = opts.store.part(PLATFORM_PART);
  const now = opts.clock ?? opts.store.now;
  const tenants = new Tenants(part, now);
  // Checked now: a bad policy in the configuration stops the start, not a later question.
  const policies = new Map(
    Object.entries(opts.migrationPolicies ?? {}).map(([id, p]) => [id, resolvePolicy(p)]),
  );
  for (const c of opts.carriers ?? []) await tenants.registerCarrier(c);
  for (const e of opts.enterprises ?? []) await tenants.registerEnterprise(e);
  return Object.freeze({
    owner: PLATFORM_PART,
    part,
    keystore: opts.keystore,
    anchors: loadTrustAnchors(opts.oemCaCertificatePems),
    tenants,
    now,
    nonceTtlMs: opts.nonceTtlMs ?? DEFAULT_NONCE_TTL_MS,
    migrationPolicy: (id: string) => policies.get(id) ?? DEFAULT_POLICY,
  });
}
