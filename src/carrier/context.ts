import { loadTrustAnchors, type TrustAnchor } from "../evidence/index.js";
import type { SigningPublicJwk, TenantKeystore } from "../keystore/index.js";
import type { PartStore } from "../store/index.js";
import { type ProfileConfig, resolveProfileConfig } from "./dm/profile-config.js";
import { CarrierError } from "./errors.js";
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
  await bindKeystore(part, opts.carrierId, verdictKey, (opts.clock ?? opts.store.now)());
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

/** The kv row of a carrier's part that names the keystore its data belongs to. */
const KEYSTORE_BINDING = { ns: "carrier", key: "keystore" } as const;

/**
 * Binds the carrier's data to its keystore, by the verdict key's thumbprint, at its first start;
 * refuses to start later with any other keystore. Devices pin that verdict key, and their slot
 * keys live only in that keystore: a process given a new keystore (a mistyped `keystoreDir`,
 * an empty folder after a redeploy) would sign verdicts no device accepts and deny every
 * genuine device for a slot key it lacks, writing those denials into the shared store.
 */
async function bindKeystore(
  part: PartStore,
  carrierId: string,
  verdictKey: SigningPublicJwk,
  now: number,
): Promise<void> {
  const entry = await part.kv.modify(
    KEYSTORE_BINDING.ns,
    KEYSTORE_BINDING.key,
    (current) => (current === null ? { verdictKid: verdictKey.kid } : undefined),
    { now },
  );
  const bound = (entry?.value as { verdictKid?: unknown } | undefined)?.verdictKid;
  if (bound !== verdictKey.kid) {
    throw new CarrierError(
      "KEYSTORE_MISMATCH",
      `carrier ${carrierId}'s data in this store belongs to the keystore whose verdict key is ` +
        `${String(bound)}, not to this one (${verdictKey.kid}): give this process that keystore`,
    );
  }
}
