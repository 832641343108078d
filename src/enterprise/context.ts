import type { TenantKeystore } from "../keystore/index.js";
import { DM_CREDENTIALS_KEY } from "../server-kit/index.js";
import type { PartStore } from "../store/index.js";
import type { EnterpriseOptions, Upstream } from "./options.js";
import { checkGroups, DEFAULT_GROUPS } from "./policy/content.js";
import type { EligibilityPolicy } from "./policy/eligibility.js";
import { VerdictKeys } from "./upstream/verdict-key.js";

export const ENTERPRISE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** What the enterprise's routes share, resolved once when it is mounted. */
export interface EnterpriseContext {
  readonly id: string;
  /** `enterprise:<id>`: the store part, the keystore owner, the audit actor. */
  readonly owner: string;
  readonly part: PartStore;
  readonly keys: TenantKeystore;
  readonly upstreams: Readonly<Record<string, Upstream>>;
  readonly defaultCarrier: string | null;
  readonly policy: EligibilityPolicy;
  readonly now: () => number;
  readonly publicUrl: string | undefined;
  readonly fetch: typeof fetch;
  readonly upstreamTimeoutMs: number;
  /** The DM server's id (DMAcc ServerID). */
  readonly dmServerId: string;
  /** Each upstream's verdict key per carrier (pinned, or fetched once). */
  readonly verdictKeys: VerdictKeys;
}

export async function enterpriseContext(opts: EnterpriseOptions): Promise<EnterpriseContext> {
  if (!ENTERPRISE_ID_PATTERN.test(opts.enterpriseId)) {
    throw new TypeError(`enterprise id ${JSON.stringify(opts.enterpriseId)} is not valid`);
  }
  const groups = opts.groups ?? DEFAULT_GROUPS;
  checkGroups(groups);
  const owner = `enterprise:${opts.enterpriseId}`;
  const keys = opts.keystore.forOwner(owner);
  await keys.ensureSecretKey(DM_CREDENTIALS_KEY);
  const carriers = Object.keys(opts.upstreams);
  return Object.freeze({
    id: opts.enterpriseId,
    owner,
    part: opts.store.part(owner),
    keys,
    upstreams: { ...opts.upstreams },
    defaultCarrier: opts.defaultCarrier ?? carriers[0] ?? null,
    policy: { groups, allowedModels: opts.allowedModels ?? null },
    now: opts.clock ?? opts.store.now,
    publicUrl: opts.publicUrl?.replace(/\/+$/, ""),
    fetch: opts.fetch ?? fetch,
    upstreamTimeoutMs: opts.upstreamTimeoutMs ?? 15_000,
    dmServerId: `${opts.enterpriseId}-mdas`,
    verdictKeys: new VerdictKeys(),
  });
}
