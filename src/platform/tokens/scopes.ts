/**
 * What a platform token lets its holder ask (issue 5: "each scoped to what its holder may ask").
 * A token names holders (one carrier, a group of carriers sharing a common token, an enterprise,
 * or the operator) and scopes; a request needs its scope and, for a device, a holder entitled
 * to that device's carrier.
 */
export const SCOPES = {
  /** Verification of a device's evidence (carriers: their own devices; enterprises: their carriers'). */
  verify: "verify",
  /** Migration questions about a device of any registered carrier (genuine, blocked, …). */
  migrate: "migrate",
  /** Depositing and updating the holder carriers' own device records and keys. */
  custody: "custody",
  /** Tenants and tokens: the platform operator only. */
  operator: "operator",
} as const;

export type Scope = (typeof SCOPES)[keyof typeof SCOPES];

export const ALL_SCOPES: readonly Scope[] = Object.values(SCOPES);

/** The holder of operator tokens. */
export const OPERATOR_HOLDER = "operator";

export function isScope(v: unknown): v is Scope {
  return typeof v === "string" && (ALL_SCOPES as readonly string[]).includes(v);
}
