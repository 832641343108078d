import type { FastifyRequest } from "fastify";
import { issueOwnerAdminToken, requireAdminToken } from "../../server-kit/index.js";
import type { Store } from "../../store/index.js";
import type { CarrierContext } from "../context.js";
import { CarrierError } from "../errors.js";

export { ADMIN_SCOPE } from "../../server-kit/index.js";

/**
 * Mints an admin token for a carrier (for `dmguard up` and tests): the clear value is returned
 * once; the store keeps only its SHA-256 (tokens repo).
 */
export function issueAdminToken(
  store: Store,
  carrierId: string,
  opts: { ttlMs?: number | null; label?: string; replacing?: boolean } = {},
): Promise<string> {
  return issueOwnerAdminToken(store, `carrier:${carrierId}`, opts);
}

/** The admin routes' guard (src/server-kit/admin-auth.ts): an admin token of this carrier. */
export function requireAdmin(ctx: CarrierContext, req: FastifyRequest): Promise<void> {
  return requireAdminToken(
    ctx,
    req,
    () =>
      new CarrierError("UNAUTHORIZED", "a valid admin bearer token of this carrier is required"),
  );
}
