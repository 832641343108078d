import type { MigrationPolicyInput } from "../../server-kit/migration-policy.js";
import type { PlatformSyncOptions } from "../platform-sync/options.js";

/**
 * Where a carrier (as the new carrier B) asks about a device that wants to move to it, and whom
 * it tells once the device has moved (src/carrier/README.md "Migration").
 */
export interface CarrierMigrationOptions {
  /**
   * The common platform (`…/platform`) and this carrier's platform token (scope `migrate`, and
   * `custody` for depositing its own key there). Functions when known only once listening.
   */
  platform?: { url: string | (() => string); token: string | (() => string) };
  /**
   * Base URLs of other carriers' servers (before `/carriers/{id}`), to tell the old carrier
   * that its device ported out. Absent for a carrier: this server's own base URL (one stack).
   */
  peers?: Readonly<Record<string, string | (() => string)>>;
  /**
   * Old carriers asked directly instead of the platform (`POST /carriers/{A}/migration/questions`):
   * their base URL and the peer token A issued to this carrier (`issueMigrationPeerToken`).
   */
  direct?: Readonly<
    Record<string, { url: string | (() => string); token: string | (() => string) }>
  >;
  /**
   * This carrier's own rules for its devices leaving it, when another carrier asks it directly
   * (src/server-kit/migration-policy.ts); default `until-contract-end`, terminated stay.
   */
  policy?: MigrationPolicyInput;
  /**
   * Backoff and polling of the background delivery of what follows a completed migration
   * (finish.ts: the custody deposit, the notice to the old carrier); the platform sync's
   * defaults (first retry after 1 s, doubling up to 5 minutes, a look every 2 s).
   */
  delivery?: Pick<PlatformSyncOptions, "retryBaseMs" | "retryMaxMs" | "pollMs" | "timeoutMs">;
}

export function resolve(v: string | (() => string)): string {
  return (typeof v === "function" ? v() : v).replace(/\/+$/, "");
}
