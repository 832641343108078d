/**
 * The store over any backend: part-scoped repository handles, transactions, migrations, close.
 */
import type { Backend } from "./backend.js";
import { type Ctx, dbOf, transaction } from "./context.js";
import { migrateToLatest, migrationStatus } from "./migrations.js";
import { Access } from "./repos/access.js";
import { Audit } from "./repos/audit.js";
import { Devices } from "./repos/devices.js";
import { Enrolment } from "./repos/enrolment.js";
import { Inventory } from "./repos/inventory.js";
import { Kv } from "./repos/kv.js";
import { Nonces } from "./repos/nonces.js";
import { Tokens } from "./repos/tokens.js";
import { Verdicts } from "./repos/verdicts.js";
import type { AuditVerification, Clock, PartStore, Store, StoreSession } from "./types.js";
import { part as checkPart } from "./validate.js";

function partStore(ctx: Ctx, owner: string): PartStore {
  return {
    part: owner,
    inventory: new Inventory(ctx, owner),
    devices: new Devices(ctx, owner),
    nonces: new Nonces(ctx, owner),
    access: new Access(ctx, owner),
    verdicts: new Verdicts(ctx, owner),
    audit: new Audit(ctx, owner),
    kv: new Kv(ctx, owner),
    enrolment: new Enrolment(ctx, owner),
    tokens: new Tokens(ctx, owner),
    transaction: (fn) => transaction(ctx, (c) => fn(partStore(c, owner))),
  };
}

function session(ctx: Ctx): StoreSession {
  return {
    part: (p) => partStore(ctx, checkPart(p)),
    transaction: (fn) => transaction(ctx, (c) => fn(session(c))),
  };
}

/** Wraps a backend into a Store; `openStore` is the usual way in. */
export function createStore(backend: Backend, clock: Clock = Date.now): Store {
  const ctx: Ctx = {
    backend,
    clock,
    exec: backend.db,
    tx: null,
    depth: 0,
    life: { closed: false },
  };
  const root = session(ctx);
  return {
    kind: backend.kind,
    now: clock,
    part: root.part,
    transaction: root.transaction,
    async migrate() {
      dbOf(ctx);
      return migrateToLatest(backend.db, await backend.migrationSchema());
    },
    async migrations() {
      dbOf(ctx);
      return migrationStatus(backend.db, await backend.migrationSchema());
    },
    async auditParts() {
      const rows = await dbOf(ctx)
        .selectFrom("audit_head")
        .select("part")
        .orderBy("part")
        .execute();
      return rows.map((r) => r.part);
    },
    verifyAudit(p: string): Promise<AuditVerification> {
      return root.part(p).audit.verify();
    },
    async close() {
      if (ctx.life.closed) return;
      ctx.life.closed = true;
      await backend.close();
    },
  };
}
