import type { Keystore } from "../keystore/index.js";
import type { Store } from "../store/index.js";
import type { ProfileConfig } from "./dm/profile-config.js";
import type { CarrierMigrationOptions } from "./migration/options.js";
import type { PlatformSyncOptions } from "./platform-sync/options.js";

/** What one carrier server needs; `createCarrierApp` and `registerCarrier` take it. */
export interface CarrierOptions {
  /** The carrier id (`acme`): routes live under `/carriers/{carrierId}/`. */
  carrierId: string;
  /** The shared store; this carrier uses `store.part("carrier:<id>")` only. */
  store: Store;
  /** The server TSZ; this carrier uses `forOwner("carrier:<id>")` and its own signing key. */
  keystore: Keystore;
  /** The OEM CA certificates (PEM) device certificates must chain to. */
  oemCaCertificatePems: readonly string[];
  /** The profile the DM server delivers; defaults derived from the carrier id. */
  profile?: Partial<ProfileConfig>;
  /** Milliseconds since the epoch; default the store's clock (frozen in expiry tests). */
  clock?: () => number;
  /** Lifetime of an activation nonce (default 5 minutes). */
  nonceTtlMs?: number;
  /**
   * The base URL devices reach this server at, for the DM account handed out with a verdict
   * (`<publicUrl>/carriers/<id>/dm`); default: taken from the request's Host header.
   */
  publicUrl?: string;
  /**
   * The common platform holding this carrier's custody records: block, unblock, terminate and
   * first approvals are delivered there through an outbox (src/carrier/README.md). Absent: none.
   */
  platformSync?: PlatformSyncOptions;
  /** Migration to this carrier (src/carrier/migration/options.ts); absent: refused (503). */
  migration?: CarrierMigrationOptions;
}

export const DEFAULT_NONCE_TTL_MS = 5 * 60_000;
