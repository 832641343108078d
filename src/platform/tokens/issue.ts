import type { Store, TokenRecord } from "../../store/index.js";
import { PLATFORM_PART } from "../options.js";
import { isScope, type Scope } from "./scopes.js";

export interface IssueTokenOptions {
  /** `carrier:acme`; several carriers for a common token; `enterprise:initech`; `operator`. */
  holders: readonly string[];
  scopes: readonly Scope[];
  /** Lifetime; null or absent: no expiry (operator tokens only, preferably). */
  ttlMs?: number | null;
  label?: string | null;
}

/**
 * Mints a platform token (for `dmguard up`, the operator API and tests). The clear value is
 * returned once; the store keeps only its SHA-256.
 */
export async function issuePlatformToken(
  store: Store,
  opts: IssueTokenOptions,
  now?: number,
): Promise<{ token: string; record: TokenRecord }> {
  if (!opts.scopes.every(isScope) || opts.scopes.length === 0) {
    throw new TypeError(`scopes must be some of verify, migrate, custody, operator`);
  }
  return store.part(PLATFORM_PART).tokens.issue(
    {
      holders: opts.holders,
      scopes: opts.scopes,
      ttlMs: opts.ttlMs ?? null,
      label: opts.label ?? null,
    },
    now,
  );
}

/**
 * Rotation: a new token with the same holders, scopes and lifetime, then the old one revoked
 * (TokensRepo: "issue a new one, then revoke the old one"). Null when `id` is unknown or
 * already revoked.
 */
export async function rotatePlatformToken(
  store: Store,
  id: string,
  now: number,
): Promise<{ token: string; record: TokenRecord } | null> {
  const tokens = store.part(PLATFORM_PART).tokens;
  const old = await tokens.get(id);
  if (!old || old.revokedAt !== null) return null;
  const ttlMs = old.expiresAt === null ? null : old.expiresAt - old.createdAt;
  const fresh = await tokens.issue(
    { holders: old.holders, scopes: old.scopes, ttlMs, label: old.label },
    now,
  );
  await tokens.revoke(id, now);
  return fresh;
}
