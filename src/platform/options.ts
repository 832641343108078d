import type { Keystore } from "../keystore/index.js";
import type { MigrationPolicyInput } from "../server-kit/migration-policy.js";
import type { Store } from "../store/index.js";

/** An enterprise tenant and the carriers whose devices it may ask the platform about. */
export interface EnterpriseTenant {
  id: string;
  carriers: readonly string[];
}

/** What the platform needs; `registerPlatform` takes it. */
export interface PlatformOptions {
  /** The shared store; the platform uses `store.part("platform")` only. */
  store: Store;
  /**
   * The platform's own TSZ: give it its own keystore (own directory and master key), not the
   * carriers'. Each carrier's custody is `forOwner("carrier:<id>")` in it, under that owner's KEK.
   */
  keystore: Keystore;
  /** The OEM CA certificates (PEM) device certificates must chain to. */
  oemCaCertificatePems: readonly string[];
  /** Carriers registered at start (more through the operator API). */
  carriers?: readonly string[];
  /** Enterprises registered at start, each with the carriers it may ask about. */
  enterprises?: readonly EnterpriseTenant[];
  /** Milliseconds since the epoch; default the store's clock. */
  clock?: () => number;
  /** Lifetime of a verification nonce (default 5 minutes). */
  nonceTtlMs?: number;
  /**
   * Each carrier's rules for its devices leaving it (src/server-kit/migration-policy.ts), by
   * carrier id; one not named gets `until-contract-end`, terminated devices may not port out.
   */
  migrationPolicies?: Readonly<Record<string, MigrationPolicyInput>>;
}

export const DEFAULT_NONCE_TTL_MS = 5 * 60_000;
/** The store part every platform row lives in (`dmguard audit verify --part platform`). */
export const PLATFORM_PART = "platform";
