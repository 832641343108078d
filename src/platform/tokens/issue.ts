import { revokeLiveTokens } from "../../server-kit/index.js";
import type { AuditInput, Store, TokenRecord } from "../../store/index.js";
import { PLATFORM_PART } from "../options.js";
import { isScope, type Scope } from "./scopes.js";

export interface IssueTokenOptions {
  /** `carrier:acme`; several carriers for a common token; `enterprise:initech`; `operator`. */
  holders: readonly string[];
  scopes: readonly Scope[];
  /** Lifetime; null or absent: no expiry (operator tokens only, preferably). */
  ttlMs?: number | null;
  label?: string | null;
  /** Revoke the holder's live tokens of the scope first (`dmguard up`'s operator token). */
  replacing?: boolean;
}

/**
 * Mints a platform token (for `dmguard up`, the operator API and tests). The clear value is
 * returned once; the store keeps only its SHA-256. The platform's audit log records the issue
 * (the token's id, holders and scopes, never its value) in the same transaction.
 */
export async function issuePlatformToken(
  store: Store,
  opts: IssueTokenOptions,
  now?: number,
): Promise<{ token: string; record: TokenRecord }> {
  if (!opts.scopes.every(isScope) || opts.scopes.length === 0) {
    throw new TypeError(`scopes must be some of verify, migrate, custody, operator`);
  }
  return store.part(PLATFORM_PART).transaction(async (tx) => {
    // `replacing` (one holder, one scope): the new token is that holder's only one for it.
    if (opts.replacing === true) {
      for (const h of opts.holders) for (const sc of opts.scopes) await revokeLiveTokens(tx, h, sc);
    }
    const issued = await tx.tokens.issue(
      {
        holders: opts.holders,
        scopes: opts.scopes,
        ttlMs: opts.ttlMs ?? null,
        label: opts.label ?? null,
      },
      now,
    );
    await tx.audit.append(issuedEntry(issued.record), issued.record.createdAt);
    return issued;
  });
}

function issuedEntry(r: TokenRecord): AuditInput {
  return {
    actor: "operator",
    action: "token-issued",
    subject: r.id,
    details: { holders: r.holders, scopes: r.scopes, label: r.label },
  };
}

/**
 * Rotation: a new token with the same holders, scopes and lifetime, then the old one revoked
 * (TokensRepo: "issue a new one, then revoke the old one"), audited, all in one transaction.
 * Null when `id` is unknown or already revoked.
 */
export async function rotatePlatformToken(
  store: Store,
  id: string,
  now: number,
): Promise<{ token: string; record: TokenRecord } | null> {
  return store.part(PLATFORM_PART).transaction(async (tx) => {
    const old = await tx.tokens.get(id);
    if (!old || old.revokedAt !== null) return null;
    const ttlMs = old.expiresAt === null ? null : old.expiresAt - old.createdAt;
    const fresh = await tx.tokens.issue(
      { holders: old.holders, scopes: old.scopes, ttlMs, label: old.label },
      now,
    );
    await tx.tokens.revoke(id, now);
    await tx.audit.append(
      {
        actor: "operator",
        action: "token-rotated",
        subject: id,
        details: { newId: fresh.record.id },
      },
      now,
    );
    return fresh;
  });
}

/** Revokes a live platform token, audited in the same transaction; false when none is live. */
export async function revokePlatformToken(store: Store, id: string, now: number): Promise<boolean> {
  return store.part(PLATFORM_PART).transaction(async (tx) => {
    const revoked = await tx.tokens.revoke(id, now);
    if (revoked) {
      await tx.audit.append({ actor: "operator", action: "token-revoked", subject: id }, now);
    }
    return revoked;
  });
}
