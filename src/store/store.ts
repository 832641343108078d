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

/**
 * A part's repositories on one handle, each made when first used: a transaction makes a handle
 * of its own and uses a few of the nine, and making all of them was half a percent of a busy
 * carrier's main thread.
 */
class PartHandle implements PartStore {
  readonly #ctx: Ctx;
  #inventory?: Inventory;
  #devices?: Devices;
  #nonces?: Nonces;
  #access?: Access;
  #verdicts?: Verdicts;
  #audit?: Audit;
  #kv?: Kv;
  #enrolment?: Enrolment;
  #tokens?: Tokens;

  constructor(
    ctx: Ctx,
    readonly part: string,
  ) {
    this.#ctx = ctx;
  }

  get inventory(): Inventory {
    this.#inventory ??= new Inventory(this.#ctx, this.part);
    return this.#inventory;
  }
  get devices(): Devices {
    this.#devices ??= new Devices(this.#ctx, this.part);
    return this.#devices;
  }
  get nonces(): Nonces {
    this.#nonces ??= new Nonces(this.#ctx, this.part);
    return this.#nonces;
  }
  get access(): Access {
    this.#access ??= new Access(this.#ctx, this.part);
    return this.#access;
  }
  get verdicts(): Verdicts {
    this.#verdicts ??= new Verdicts(this.#ctx, this.part);
    return this.#verdicts;
  }
  get audit(): Audit {
    this.#audit ??= new Audit(this.#ctx, this.part);
    return this.#audit;
  }
  get kv(): Kv {
    this.#kv ??= new Kv(this.#ctx, this.part);
    return this.#kv;
  }
  get enrolment(): Enrolment {
    this.#enrolment ??= new Enrolment(this.#ctx, this.part);
    return this.#enrolment;
  }
  get tokens(): Tokens {
    this.#tokens ??= new Tokens(this.#ctx, this.part);
    return this.#tokens;
  }

  transaction<T>(fn: (tx: PartStore) => Promise<T>): Promise<T> {
    return transaction(this.#ctx, (c) => fn(new PartHandle(c, this.part)));
  }
}

function session(ctx: Ctx): StoreSession {
  return {
    part: (p) => new PartHandle(ctx, checkPart(p)),
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
