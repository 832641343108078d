import type { FastifyRequest } from "fastify";
import type { Store } from "../../store/index.js";
import type { CarrierContext } from "../context.js";
import { CarrierError } from "../errors.js";

/** The scope an admin token must carry. */
export const ADMIN_SCOPE = "admin";
const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]{16,512})$/;

/**
 * Mints an admin token for a carrier (for `dmguard up` and tests): the clear value is returned
 * once; the store keeps only its SHA-256 (tokens repo).
 */
export async function issueAdminToken(
  store: Store,
  carrierId: string,
  opts: { ttlMs?: number | null; label?: string } = {},
): Promise<string> {
  const owner = `carrier:${carrierId}`;
  const { token } = await store.part(owner).tokens.issue({
    holders: [owner],
    scopes: [ADMIN_SCOPE],
    ttlMs: opts.ttlMs ?? null,
    label: opts.label ?? "admin",
  });
  return token;
}

/**
 * The admin routes' guard: a bearer token (RFC 6750 §2.1) of this carrier with the admin scope.
 * The store finds a token by the SHA-256 of the value presented, so how long a check takes
 * does not depend on how much of a guess was right (no byte-wise comparison of secrets). Every
 * failure is the same 401, whatever went wrong.
 */
export async function requireAdmin(ctx: CarrierContext, req: FastifyRequest): Promise<void> {
  const m = BEARER.exec(req.headers.authorization ?? "");
  const check = m ? await ctx.part.tokens.check(m[1]!, ctx.now()) : null;
  if (
    check?.status !== "ok" ||
    !check.token.holders.includes(ctx.owner) ||
    !check.token.scopes.includes(ADMIN_SCOPE)
  ) {
    throw new CarrierError(
      "UNAUTHORIZED",
      "a valid admin bearer token of this carrier is required",
    );
  }
}
