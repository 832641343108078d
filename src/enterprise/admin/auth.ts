import type { FastifyRequest } from "fastify";
import type { Store } from "../../store/index.js";
import type { EnterpriseContext } from "../context.js";
import { EnterpriseError } from "../errors.js";

export const ADMIN_SCOPE = "admin";
const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]{16,512})$/;

/** Mints an admin token of the enterprise (for `dmguard up` and tests); stored as SHA-256. */
export async function issueEnterpriseAdminToken(
  store: Store,
  enterpriseId: string,
  opts: { ttlMs?: number | null; label?: string } = {},
): Promise<string> {
  const owner = `enterprise:${enterpriseId}`;
  const { token } = await store.part(owner).tokens.issue({
    holders: [owner],
    scopes: [ADMIN_SCOPE],
    ttlMs: opts.ttlMs ?? null,
    label: opts.label ?? "admin",
  });
  return token;
}

/** The admin routes' guard (RFC 6750 §2.1): every failure is the same 401. */
export async function requireAdmin(ctx: EnterpriseContext, req: FastifyRequest): Promise<void> {
  const m = BEARER.exec(req.headers.authorization ?? "");
  const check = m ? await ctx.part.tokens.check(m[1]!, ctx.now()) : null;
  if (
    check?.status !== "ok" ||
    !check.token.holders.includes(ctx.owner) ||
    !check.token.scopes.includes(ADMIN_SCOPE)
  ) {
    throw new EnterpriseError(
      "UNAUTHORIZED",
      "a valid admin bearer token of this enterprise is required",
    );
  }
}
