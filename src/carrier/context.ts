import { loadTrustAnchors, type TrustAnchor } from "../evidence/index.js";
import type { SigningPublicJwk, TenantKeystore } from "../keystore/index.js";
import type { PartStore } from "../store/index.js";
import { type ProfileConfig, resolveProfileConfig } from "./dm/profile-config.js";
import type { CarrierMetrics } from "./metrics.js";
import type { CarrierMigrationOptions } from "./migration/options.js";
import { type CarrierOptions, DEFAULT_NONCE_TTL_MS } from "./options.js";
import { PlatformSync } from "./platform-sync/deliver.js";

/** Carrier ids as CONTRACT.md uses them; also a valid keystore owner and store part suffix. */
export const CARRIER_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** The label of the carrier's verdict-signing key (in its own keystore custody). */
export const VERDICT_KEY_LABEL = "verdict-signing";

/** Everything a carrier's routes share: resolved once, when the carrier is mounted. */
export interface CarrierContext {
  readonly id: string;
  /** `carrier:<id>`: the store part, the keystore owner, the audit actor. */
  readonly owner: string;
  readonly part: PartStore;
  readonly keys: TenantKeystore;
  readonly anchors: readonly TrustAnchor[];
  readonly profile: ProfileConfig;
  readonly now: () => number;
  readonly nonceTtlMs: number;
  readonly publicUrl: string | undefined;
  readonly verdictKey: SigningPublicJwk;
  readonly metrics: CarrierMetrics;
  /** The DM server's id (DMAcc ServerID), also its principal in the device's ACLs. */
  readonly dmServerId: string;
  /** Carrier → platform custody sync, when the carrier is configured with the platform. */
  readonly platformSync: PlatformSync | null;
  /** Where migration questions and notices go (src/carrier/migration/options.ts). */
  readonly migration: CarrierMigrationOptions;
}

export async function carrierContext(
  opts: CarrierOptions,
  metrics: CarrierMetrics,
): Promise<CarrierContext> {
  if (!CARRIER_ID_PATTERN.test(opts.carrierId)) {
    throw new TypeError(`carrier id ${JSON.stringify(opts.carrierId)} is not a carrier id`);
  }
  if (opts.oemCaCertificatePems.length === 0) throw new TypeError("no OEM CA certificate given");
  const owner = `carrier:${opts.carrierId}`;
  const part = opts.store.part(owner);
  const keys = opts.keystore.forOwner(owner);
  const [verdictKey] = await Promise.all([
    keys.ensureSigningKey(VERDICT_KEY_LABEL),
    keys.ensureSecretKey("dm-credentials"),
  ]);
  return Object.freeze({
    id: opts.carrierId,
    owner,
    part,
    keys,
    anchors: loadTrustAnchors(opts.oemCaCertificatePems),
    profile: resolveProfileConfig(opts.carrierId, opts.profile),
    now: opts.clock ?? opts.store.now,
    nonceTtlMs: opts.nonceTtlMs ?? DEFAULT_NONCE_TTL_MS,
    publicUrl: opts.publicUrl?.replace(/\/+$/, ""),
    verdictKey,
    metrics,
    dmServerId: `${opts.carrierId}-dm`,
    migration: opts.migration ?? {},
    platformSync: opts.platformSync
      ? new PlatformSync(opts.carrierId, part, opts.platformSync, opts.clock ?? opts.store.now)
      : null,
  });
}
