import type { FastifyRequest } from "fastify";
import { bearerToken } from "../../server-kit/index.js";
import type { PlatformContext } from "../context.js";
import { tokenInvalid } from "../errors.js";
import type { Tenant } from "../tenants.js";
import { OPERATOR_HOLDER, type Scope } from "./scopes.js";

/** Who is asking: the token's id (for the audit log) and its registered holders. */
export interface Principal {
  tokenId: string;
  holders: readonly Tenant[];
  operator: boolean;
}

/**
 * A bearer token (RFC 6750 §2.1) of the platform with `scope`, whose holders are all registered
 * tenants (or the operator). The store looks tokens up by SHA-256, so timing says nothing about
 * how much of a guess was right. Every failure is the one TOKEN_INVALID.
 */
export async function authenticate(
  ctx: PlatformContext,
  req: FastifyRequest,
  scope: Scope,
): Promise<Principal> {
  const token = bearerToken(req);
  if (token === null) throw tokenInvalid();
  const check = await ctx.part.tokens.check(token, ctx.now());
  if (check.status !== "ok" || !check.token.scopes.includes(scope)) throw tokenInvalid();
  const holders: Tenant[] = [];
  let operator = false;
  for (const name of check.token.holders) {
    if (name === OPERATOR_HOLDER) {
      operator = true;
      continue;
    }
    const t = await ctx.tenants.get(name);
    if (!t) throw tokenInvalid();
    holders.push(t);
  }
  return { tokenId: check.token.id, holders, operator };
}

/**
 * May this principal ask about a device of `carrierId`? A carrier holder for its own devices
 * only (a common token: any carrier of its group); an enterprise for the carriers it was
 * registered with. Everything else is TOKEN_INVALID, decided before any device is looked up.
 */
export function entitledTo(p: Principal, carrierId: string): boolean {
  return p.holders.some((h) =>
    h.kind === "carrier" ? h.id === carrierId : h.carriers.includes(carrierId),
  );
}

/** The carrier tenants among the holders (custody writes need one of them). */
export function holdsCarrier(p: Principal, carrierId: string): boolean {
  return p.holders.some((h) => h.kind === "carrier" && h.id === carrierId);
}
