import type { FastifyRequest } from "fastify";
import { issueOwnerAdminToken, requireAdminToken } from "../../server-kit/index.js";
import type { Store } from "../../store/index.js";
import type { EnterpriseContext } from "../context.js";
import { EnterpriseError } from "../errors.js";

export { ADMIN_SCOPE } from "../../server-kit/index.js";

/** Mints an admin token of the enterprise (for `dmguard up` and tests); stored as SHA-256. */
export function issueEnterpriseAdminToken(
  store: Store,
  enterpriseId: string,
  opts: { ttlMs?: number | null; label?: string; replacing?: boolean } = {},
): Promise<string> {
  return issueOwnerAdminToken(store, `enterprise:${enterpriseId}`, opts);
}

/** The admin routes' guard (src/server-kit/admin-auth.ts): an admin token of this enterprise. */
export function requireAdmin(ctx: EnterpriseContext, req: FastifyRequest): Promise<void> {
  return requireAdminToken(
    ctx,
    req,
    () =>
      new EnterpriseError(
        "UNAUTHORIZED",
        "a valid admin bearer token of this enterprise is required",
      ),
  );
}
