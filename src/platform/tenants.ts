import type { JsonObject, PartStore } from "../store/index.js";
import type { EnterpriseTenant } from "./options.js";

/** Tenant ids, as carrier ids are (CONTRACT.md): lowercase letters, digits, dashes. */
export const TENANT_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;
const NS = "tenants";

export type Tenant =
  | { kind: "carrier"; id: string }
  | { kind: "enterprise"; id: string; carriers: string[] };

/** `carrier:acme`, the name tokens hold, audit entries name and keystore custody is owned by. */
export function tenantName(t: { kind: string; id: string }): string {
  return `${t.kind}:${t.id}`;
}

/**
 * The registry of tenants, in the platform's kv (ns `tenants`). Registering is idempotent; an
 * enterprise registered again gets the carrier list given now.
 */
export class Tenants {
  constructor(
    private readonly part: PartStore,
    private readonly now: () => number,
  ) {}

  async registerCarrier(id: string): Promise<Tenant> {
    if (!TENANT_ID.test(id)) throw new TypeError(`carrier id ${JSON.stringify(id)} is not valid`);
    const t: Tenant = { kind: "carrier", id };
    await this.part.kv.put(NS, tenantName(t), t as unknown as JsonObject, { now: this.now() });
    return t;
  }

  async registerEnterprise(e: EnterpriseTenant): Promise<Tenant> {
    if (!TENANT_ID.test(e.id) || !e.carriers.every((c) => TENANT_ID.test(c))) {
      throw new TypeError(`enterprise ${JSON.stringify(e.id)} or its carrier list is not valid`);
    }
    const t: Tenant = { kind: "enterprise", id: e.id, carriers: [...new Set(e.carriers)].sort() };
    await this.part.kv.put(NS, tenantName(t), t as unknown as JsonObject, { now: this.now() });
    return t;
  }

  /** The tenant a name like `carrier:acme` designates, or null. */
  async get(name: string): Promise<Tenant | null> {
    const e = await this.part.kv.get(NS, name);
    return e ? (e.value as unknown as Tenant) : null;
  }

  async isCarrier(id: string): Promise<boolean> {
    return TENANT_ID.test(id) && (await this.get(`carrier:${id}`)) !== null;
  }

  async carriers(): Promise<string[]> {
    const rows = await this.part.kv.list(NS, { prefix: "carrier:" });
    return rows.map((r) => (r.value as unknown as Tenant).id);
  }
}
