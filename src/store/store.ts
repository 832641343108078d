/**
 * The store over any backend: part-scoped repository handles, transactions, migrations, close.
 */
import { createHash } from "node:crypto";
import { sql } from "kysely";
import type { Backend } from "./backend.js";
import { type Ctx, dbOf, transaction } from "./context.js";
import { StoreError } from "./errors.js";
import { migrateToLatest, migrationStatus } from "./migrations.js";
import { Access } from "./repos/access.js";
import { Audit } from "./repos/audit.js";
import type { Repo } from "./repos/base.js";
import { Devices } from "./repos/devices.js";
import { Enrolment } from "./repos/enrolment.js";
import { Inventory } from "./repos/inventory.js";
import { Kv } from "./repos/kv.js";
import { Nonces } from "./repos/nonces.js";
import { Tokens } from "./repos/tokens.js";
import { Verdicts } from "./repos/verdicts.js";
import type { AuditVerification, Clock, PartStore, Store, StoreSession } from "./types.js";
import { part as checkPart } from "./validate.js";

type RepoClass = abstract new (ctx: Ctx, part: string) => Repo;

/**
 * A part's repositories on one handle, each made when first used: a transaction makes a handle
 * of its own and uses a few of the nine, and making all of them was half a percent of a busy
 * carrier's main thread.
 */
class PartHandle implements PartStore {
  readonly #ctx: Ctx;
  readonly #made = new Map<RepoClass, Repo>();

  constructor(
    ctx: Ctx,
    readonly part: string,
  ) {
    this.#ctx = ctx;
  }

  #repo<T extends Repo>(kind: new (ctx: Ctx, part: string) => T): T {
    let r = this.#made.get(kind) as T | undefined;
    if (r === undefined) {
      r = new kind(this.#ctx, this.part);
      this.#made.set(kind, r);
    }
    return r;
  }

  get inventory(): Inventory {
    return this.#repo(Inventory);
  }
  get devices(): Devices {
    return this.#repo(Devices);
  }
  get nonces(): Nonces {
    return this.#repo(Nonces);
  }
  get access(): Access {
    return this.#repo(Access);
  }
  get verdicts(): Verdicts {
    return this.#repo(Verdicts);
  }
  get audit(): Audit {
    return this.#repo(Audit);
  }
  get kv(): Kv {
    return this.#repo(Kv);
  }
  get enrolment(): Enrolment {
    return this.#repo(Enrolment);
  }
  get tokens(): Tokens {
    return this.#repo(Tokens);
  }

  transaction<T>(fn: (tx: PartStore) => Promise<T>): Promise<T> {
    return transaction(this.#ctx, (c) => fn(new PartHandle(c, this.part)));
  }

  async lockSubject(subject: string): Promise<void> {
    const db = dbOf(this.#ctx);
    if (this.#ctx.tx === null) {
      throw new StoreError("OUTSIDE_TRANSACTION", "a subject lock is taken inside a transaction");
    }
    // SQLite: the write transaction already holds the file. PostgreSQL: a transaction-scoped
    // advisory lock on 64 bits of a hash of part and subject, hashed here so that any string
    // will do (a claimed IMEI may hold what PostgreSQL's text cannot, NUL); a collision only
    // serialises two unrelated subjects for a moment.
    if (this.#ctx.backend.rowLocks) {
      const digest = createHash("sha256").update(this.part).update("\n").update(subject).digest();
      const key = digest.readBigInt64BE(0).toString();
      await sql`select pg_advisory_xact_lock(${key}::bigint)`.execute(db);
    }
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
