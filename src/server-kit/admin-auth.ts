import type { FastifyRequest } from "fastify";
import type { PartStore, Store, TokenRecord } from "../store/index.js";
import { bearerToken } from "./bearer.js";

/** The scope an admin token must carry. */
export const ADMIN_SCOPE = "admin";

/**
 * Mints an admin token of `owner` (`carrier:<id>`, `enterprise:<id>`; for `dmguard up` and
 * tests): the clear value is returned once; the store keeps only its SHA-256 (tokens repo).
 * The owner's audit log records the issue (the token's id, never its value) in the same
 * transaction: a credential that exists was audited. A part's first start mints one, so every
 * part of a stack has an audit log from then on (`audit verify` relies on it).
 */
export async function issueOwnerAdminToken(
  store: Store,
  owner: string,
  opts: { ttlMs?: number | null; label?: string; replacing?: boolean } = {},
): Promise<string> {
  return store.part(owner).transaction(async (tx) => {
    // `replacing`: the new token is the only one (a stack whose credentials lost or did not
    // honour the old one). Otherwise an old token, leaked perhaps, stayed valid for ever.
    if (opts.replacing === true) await revokeLiveTokens(tx, owner, ADMIN_SCOPE);
    const { token, record } = await tx.tokens.issue({
      holders: [owner],
      scopes: [ADMIN_SCOPE],
      ttlMs: opts.ttlMs ?? null,
      label: opts.label ?? "admin",
    });
    await tx.audit.append(
      {
        actor: "operator",
        action: "token-issued",
        subject: record.id,
        details: { holders: record.holders, scopes: record.scopes, label: record.label },
      },
      record.createdAt,
    );
    return token;
  });
}

/**
 * Revokes every live token of `tx`'s part that `holder` holds with `scope`, each audited by id
 * (`token-revoked`, why `replaced`): for a token minted to be the only one.
 */
export async function revokeLiveTokens(
  tx: PartStore,
  holder: string,
  scope: string,
): Promise<void> {
  const live: TokenRecord[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await tx.tokens.list({ ...(after === undefined ? {} : { after }), limit: 500 });
    for (const t of page) {
      if (t.revokedAt === null && t.holders.includes(holder) && t.scopes.includes(scope)) {
        live.push(t);
      }
    }
    if (page.length < 500) break;
    after = page[page.length - 1]!.id;
  }
  for (const t of live) {
    if (!(await tx.tokens.revoke(t.id))) continue;
    await tx.audit.append({
      actor: "operator",
      action: "token-revoked",
      subject: t.id,
      details: { holders: t.holders, scopes: t.scopes, label: t.label, why: "replaced" },
    });
  }
}

/** What the guard needs of a server's context. */
export interface AdminScope {
  readonly owner: string;
  readonly part: PartStore;
  now(): number;
}

/**
 * The admin routes' guard: a bearer token (RFC 6750 §2.1) of `scope.owner` with the admin
 * scope. The store finds a token by the SHA-256 of the value presented, so how long a check
 * takes does not depend on how much of a guess was right (no byte-wise comparison of secrets).
 * Every failure throws the same `refusal()` (the server's 401), whatever went wrong.
 */
export async function requireAdminToken(
  scope: AdminScope,
  req: FastifyRequest,
  refusal: () => Error,
): Promise<void> {
  const token = bearerToken(req);
  const check = token === null ? null : await scope.part.tokens.check(token, scope.now());
  if (
    check?.status !== "ok" ||
    !check.token.holders.includes(scope.owner) ||
    !check.token.scopes.includes(ADMIN_SCOPE)
  ) {
    throw refusal();
  }
}
