/**
 * Versioned migrations, in code so they run the same from `src` (tsx) and from `dist`: kysely's
 * Migrator with an in-code provider. Names sort in the order they apply; never edit a migration
 * that has shipped, add the next one. The SQL is the portable subset both SQLite and
 * PostgreSQL accept (text, bigint, check constraints, partial indexes).
 */
import { type Kysely, type Migration, Migrator, SqliteAdapter, sql } from "kysely";
import { StoreError } from "./errors.js";
import { rebuildWithoutRowid } from "./sqlite/without-rowid.js";

const STATUS = sql`status in ('active', 'blocked', 'terminated')`;
const STATE = sql`state in ('pending', 'approved', 'denied', 'provisioned', 'terminated')`;

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema type
type AnyDb = Kysely<any>;

const m0001: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable("inventory")
      .addColumn("part", "text", (c) => c.notNull())
      .addColumn("imei", "text", (c) => c.notNull())
      .addColumn("meid", "text")
      .addColumn("esn", "text")
      .addColumn("model", "text", (c) => c.notNull())
      .addColumn("kid", "text", (c) => c.notNull())
      .addColumn("attestation_key", "text")
      .addColumn("attestation_thumbprint", "text")
      .addColumn("contract_end", "text")
      .addColumn("user_group", "text")
      .addColumn("enterprise", "text")
      .addColumn("status", "text", (c) => c.notNull().check(STATUS))
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("inventory_pk", ["part", "imei"])
      .execute();
    await db.schema
      .createIndex("inventory_meid_uq")
      .on("inventory")
      .columns(["part", "meid"])
      .unique()
      .where(sql.ref("meid"), "is not", null)
      .execute();
    await db.schema
      .createIndex("inventory_esn_ix")
      .on("inventory")
      .columns(["part", "esn"])
      .where(sql.ref("esn"), "is not", null)
      .execute();

    await db.schema
      .createTable("devices")
      .addColumn("part", "text", (c) => c.notNull())
      .addColumn("imei", "text", (c) => c.notNull())
      .addColumn("state", "text", (c) => c.notNull().check(STATE))
      .addColumn("attestation_thumbprint", "text")
      .addColumn("dm_credentials_ref", "text")
      .addColumn("profile", "text")
      .addColumn("verdict_id", "text")
      .addColumn("version", "bigint", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("devices_pk", ["part", "imei"])
      .execute();
    await db.schema
      .createIndex("devices_state_ix")
      .on("devices")
      .columns(["part", "state", "imei"])
      .execute();

    await db.schema
      .createTable("nonces")
      .addColumn("part", "text", (c) => c.notNull())
      .addColumn("nonce", "text", (c) => c.notNull())
      .addColumn("subject", "text")
      .addColumn("issued_at", "bigint", (c) => c.notNull())
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .addColumn("consumed_at", "bigint")
      .addPrimaryKeyConstraint("nonces_pk", ["part", "nonce"])
      .execute();
    await db.schema
      .createIndex("nonces_expiry_ix")
      .on("nonces")
      .columns(["part", "expires_at"])
      .execute();
    await db.schema
      .createIndex("nonces_consumed_ix")
      .on("nonces")
      .columns(["part", "consumed_at"])
      .where(sql.ref("consumed_at"), "is not", null)
      .execute();

    await db.schema
      .createTable("access")
      .addColumn("part", "text", (c) => c.notNull())
      .addColumn("imei", "text", (c) => c.notNull())
      .addColumn("access", "text", (c) => c.notNull().check(sql`access in ('full', 'limited')`))
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("access_pk", ["part", "imei"])
      .execute();
    await db.schema
      .createIndex("access_kind_ix")
      .on("access")
      .columns(["part", "access", "imei"])
      .execute();

    await db.schema
      .createTable("verdicts")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("part", "text", (c) => c.notNull())
      .addColumn("nonce", "text", (c) => c.notNull())
      .addColumn("imei", "text", (c) => c.notNull())
      .addColumn("verdict", "text", (c) =>
        c.notNull().check(sql`verdict in ('approved', 'denied')`),
      )
      .addColumn("reasons", "text", (c) => c.notNull())
      .addColumn("evidence_hash", "text", (c) => c.notNull())
      .addColumn("signed", "text")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addUniqueConstraint("verdicts_nonce_uq", ["part", "nonce"])
      .execute();
    await db.schema
      .createIndex("verdicts_imei_ix")
      .on("verdicts")
      .columns(["part", "imei", "created_at"])
      .execute();

    await db.schema
      .createTable("audit_log")
      .addColumn("part", "text", (c) => c.notNull())
      .addColumn("seq", "bigint", (c) => c.notNull())
      .addColumn("ts", "bigint", (c) => c.notNull())
      .addColumn("actor", "text", (c) => c.notNull())
      .addColumn("action", "text", (c) => c.notNull())
      .addColumn("subject", "text")
      .addColumn("details", "text", (c) => c.notNull())
      .addColumn("prev_hash", "text", (c) => c.notNull())
      .addColumn("hash", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("audit_log_pk", ["part", "seq"])
      .execute();
    await db.schema
      .createTable("audit_head")
      .addColumn("part", "text", (c) => c.primaryKey())
      .addColumn("seq", "bigint", (c) => c.notNull())
      .addColumn("hash", "text", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("kv")
      .addColumn("part", "text", (c) => c.notNull())
      .addColumn("ns", "text", (c) => c.notNull())
      .addColumn("key", "text", (c) => c.notNull())
      .addColumn("value", "text", (c) => c.notNull())
      .addColumn("version", "bigint", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("kv_pk", ["part", "ns", "key"])
      .execute();

    await db.schema
      .createTable("enrolment")
      .addColumn("part", "text", (c) => c.notNull())
      .addColumn("imei", "text", (c) => c.notNull())
      .addColumn("user_name", "text")
      .addColumn("user_group", "text")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("enrolment_pk", ["part", "imei"])
      .execute();

    await db.schema
      .createTable("tokens")
      .addColumn("part", "text", (c) => c.notNull())
      .addColumn("id", "text", (c) => c.notNull())
      .addColumn("hash", "text", (c) => c.notNull())
      .addColumn("holders", "text", (c) => c.notNull())
      .addColumn("scopes", "text", (c) => c.notNull())
      .addColumn("label", "text")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("expires_at", "bigint")
      .addColumn("revoked_at", "bigint")
      .addPrimaryKeyConstraint("tokens_pk", ["part", "id"])
      .addUniqueConstraint("tokens_hash_uq", ["part", "hash"])
      .execute();
  },
  async down(db: AnyDb) {
    for (const t of [
      "tokens",
      "enrolment",
      "kv",
      "audit_head",
      "audit_log",
      "verdicts",
      "access",
      "nonces",
      "devices",
      "inventory",
    ]) {
      await db.schema.dropTable(t).ifExists().execute();
    }
  },
};

/**
 * SQLite only: the tables keyed by text whose rows are small (a nonce, an access mark, the audit
 * head, an enrolment, a token hash) become WITHOUT ROWID tables, so a write touches one b-tree
 * instead of two and a commit writes fewer pages (sqlite/without-rowid.ts says why and how).
 * Tables whose rows run to hundreds of bytes or more (inventory with its attestation
 * certificate, kv values, audit details, devices' profiles, verdicts' JWS) stay rowid tables:
 * a WITHOUT ROWID b-tree keeps whole rows in its interior pages too, so it would grow deep.
 * PostgreSQL keeps every table as it is.
 */
const m0002: Migration = {
  async up(db: AnyDb) {
    if (!(db.getExecutor().adapter instanceof SqliteAdapter)) return;
    await rebuildWithoutRowid(db, ["nonces", "access", "audit_head", "enrolment", "tokens"]);
  },
};

/** Every migration, by name; the Migrator applies the missing ones in name order. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  "0001_initial": m0001,
  "0002_sqlite_without_rowid": m0002,
});

export interface MigrationStatus {
  name: string;
  /** When it was applied, or null when it is still pending. */
  executedAt: Date | null;
}

function migrator(db: AnyDb, schema: string | undefined): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: async () => ({ ...MIGRATIONS }) },
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
}

/**
 * Applies every pending migration; returns the names it applied (empty when up to date).
 * `schema` (PostgreSQL) pins kysely's bookkeeping tables to the store's own schema, so stores in
 * other schemas of the same database never look like ours.
 */
export async function migrateToLatest(db: AnyDb, schema: string | undefined): Promise<string[]> {
  const unknown = (await appliedNames(db, schema)).filter((n) => !Object.hasOwn(MIGRATIONS, n));
  if (unknown.length > 0) {
    throw new StoreError(
      "MIGRATION_FAILED",
      `the database was migrated by a newer dmguard (it has ${unknown.join(", ")}, which this ` +
        "version does not know): run that version or a later one; nothing was changed",
    );
  }
  const { error, results } = await migrator(db, schema).migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName;
    const why = error instanceof Error ? error.message : String(error);
    throw new StoreError(
      "MIGRATION_FAILED",
      failed ? `migration ${failed} failed: ${why}` : `migrations failed: ${why}`,
      { cause: error },
    );
  }
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}

export async function migrationStatus(
  db: AnyDb,
  schema: string | undefined,
): Promise<MigrationStatus[]> {
  const list = await migrator(db, schema).getMigrations();
  return list.map((m) => ({ name: m.name, executedAt: m.executedAt ?? null }));
}

/** The migrations the database records as applied; none when it has no bookkeeping yet. */
async function appliedNames(db: AnyDb, schema: string | undefined): Promise<string[]> {
  const from = schema === undefined ? db : db.withSchema(schema);
  try {
    const rows = await (from as Kysely<{ kysely_migration: { name: string } }>)
      .selectFrom("kysely_migration")
      .select("name")
      .execute();
    return rows.map((r) => r.name);
  } catch {
    // No such table: a new database. Any other fault shows again in the migration itself.
    return [];
  }
}
