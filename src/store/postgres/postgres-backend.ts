/**
 * The production backend: a `pg` Pool under kysely's PostgresDialect, for several server
 * processes on one database. Transactions run at READ COMMITTED; what must be serialised (the
 * audit chain's head, single-use nonces) is serialised by row locks (`FOR UPDATE`, or an
 * `UPDATE … WHERE consumed_at IS NULL` that the second writer re-checks after the first
 * commits), so no transaction ever has to be retried.
 *
 * `schema` pins the pool's connections to one schema (`search_path`): the tests give every run
 * its own, and one database can hold several independent stacks.
 */
import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import type { Backend, BulkInventoryRow } from "../backend.js";
import { StoreError } from "../errors.js";
import type { Database } from "../schema.js";

export interface PostgresBackendOptions {
  /** `postgres://user@host:port/db` (any libpq URL `pg` accepts). */
  url: string;
  /** Schema for every table; created on migration when missing. */
  schema?: string;
  /** Pool size (default 10). */
  poolMax?: number;
  /** How long to wait for a connection, in ms (default 5000). */
  connectTimeoutMs?: number;
}

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;
const INT8_OID = 20;
/** Rows per statement on the bulk path: 14 arrays of this many elements each. */
const BATCH = 5000;

/**
 * 64-bit integers (our times, versions, sequence numbers and counts) as JS numbers: they stay
 * far below 2^53. Per pool, so other `pg` users in the process keep the default (strings).
 */
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === INT8_OID && format !== "binary") return (v: string) => Number(v);
    // biome-ignore lint/suspicious/noExplicitAny: pg's overloads do not accept a union format
    return pg.types.getTypeParser(oid, format as any);
  },
} as pg.CustomTypesConfig;

function isUnique(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === "23505";
}

export function createPostgresBackend(opts: PostgresBackendOptions): Backend {
  const schema = opts.schema;
  if (schema !== undefined && !SCHEMA.test(schema)) {
    throw new StoreError("ARGUMENT_INVALID", "schema must match [a-z_][a-z0-9_]{0,62}", {
      field: "schema",
    });
  }
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.poolMax ?? 10,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
    types,
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  });
  // An idle client that loses its server emits 'error' on the pool; the pool discards it and
  // the next query reconnects. Without a listener the process would crash.
  pool.on("error", () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });

  /** `rows` as a table `t`, one array parameter per column. */
  function sourceOf(rows: readonly BulkInventoryRow[]) {
    const col = <K extends keyof BulkInventoryRow>(k: K) => rows.map((r) => r[k]);
    return sql`unnest(
      ${col("part")}::text[], ${col("imei")}::text[], ${col("meid")}::text[],
      ${col("esn")}::text[], ${col("model")}::text[], ${col("kid")}::text[],
      ${col("attestation_key")}::text[], ${col("attestation_thumbprint")}::text[],
      ${col("contract_end")}::text[], ${col("user_group")}::text[], ${col("enterprise")}::text[],
      ${col("status")}::text[], ${col("created_at")}::bigint[], ${col("updated_at")}::bigint[]
    ) as t(part, imei, meid, esn, model, kid, attestation_key, attestation_thumbprint,
           contract_end, user_group, enterprise, status, created_at, updated_at)`;
  }

  async function batch(
    conn: Kysely<Database>,
    rows: BulkInventoryRow[],
    offset: number,
    mode: "insert" | "upsert",
  ): Promise<{ inserted: number; updated: number }> {
    const source = sourceOf(rows);
    const update = async (from: typeof source) => {
      try {
        const r = await sql<{ imei: string }>`
          update inventory as i set meid = t.meid, esn = t.esn, model = t.model, kid = t.kid,
            attestation_key = t.attestation_key, attestation_thumbprint = t.attestation_thumbprint,
            contract_end = t.contract_end, user_group = t.user_group, enterprise = t.enterprise,
            status = coalesce(t.status, i.status), updated_at = t.updated_at
          from ${from}
          where i.part = t.part and i.imei = t.imei
          returning i.imei`.execute(conn);
        return r.rows.map((x) => x.imei);
      } catch (err) {
        throw conflictFrom(err, rows, offset);
      }
    };
    const done = new Set<string>();
    let updated = 0;
    if (mode === "upsert") {
      for (const imei of await update(source)) done.add(imei);
      updated = done.size;
    }
    const ins = await sql<{ imei: string }>`
      insert into inventory (part, imei, meid, esn, model, kid, attestation_key,
        attestation_thumbprint, contract_end, user_group, enterprise, status, created_at,
        updated_at)
      select part, imei, meid, esn, model, kid, attestation_key, attestation_thumbprint,
        contract_end, user_group, enterprise, coalesce(status, 'active'), created_at, updated_at
      from ${source}
      on conflict do nothing
      returning imei`.execute(conn);
    for (const x of ins.rows) done.add(x.imei);
    if (done.size !== rows.length && mode === "upsert") {
      // A concurrent import inserted some of these IMEIs after this one's update looked (READ
      // COMMITTED: the insert waited for it, then skipped them): update those now, as the
      // same import run later would have.
      const late = rows.filter((r) => !done.has(r.imei));
      for (const imei of await update(sourceOf(late))) done.add(imei);
      updated = done.size - ins.rows.length;
    }
    if (done.size !== rows.length) {
      const i = rows.findIndex((r) => !done.has(r.imei));
      const row = rows[i]!;
      // Skipped by the insert: its IMEI is held (insert mode), or else its MEID is.
      const held =
        await sql`select 1 from inventory where part = ${row.part} and imei = ${row.imei}`.execute(
          conn,
        );
      const field = mode === "insert" && held.rows.length > 0 ? "imei" : "meid";
      throw new StoreError(
        "ROW_INVALID",
        `row ${offset + i}: ${field} is already in the inventory`,
        { index: offset + i, field },
      );
    }
    return { inserted: ins.rows.length, updated };
  }

  /** A unique violation while updating: find the row by the MEID the server names. */
  function conflictFrom(err: unknown, rows: BulkInventoryRow[], offset: number): unknown {
    if (!isUnique(err)) return err;
    const detail = String((err as { detail?: unknown }).detail ?? "");
    const m = /\)=\([^,]*, (.*)\) already exists/.exec(detail);
    const i = m ? rows.findIndex((r) => r.meid === m[1]) : -1;
    return new StoreError(
      "ROW_INVALID",
      i >= 0
        ? `row ${offset + i}: meid is already in the inventory under another device`
        : "a meid is already in the inventory under another device",
      { ...(i >= 0 ? { index: offset + i } : {}), field: "meid", cause: err },
    );
  }

  return {
    kind: "postgres",
    db,
    rowLocks: true,
    async begin(conn) {
      await sql`begin`.execute(conn);
    },
    async migrationSchema() {
      if (schema !== undefined) {
        try {
          await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
        } catch (err) {
          // Two processes creating it at once: the loser sees a duplicate; the schema exists.
          if (!isUnique(err) && (err as { code?: unknown }).code !== "42P06") throw err;
        }
        return schema;
      }
      const r = await sql<{ s: string | null }>`select current_schema() as s`.execute(db);
      return r.rows[0]?.s ?? "public";
    },
    async bulkInventory(conn, count, rowAt, mode) {
      let inserted = 0;
      let updated = 0;
      for (let offset = 0; offset < count; offset += BATCH) {
        const rows: BulkInventoryRow[] = [];
        for (let i = offset; i < Math.min(count, offset + BATCH); i++) rows.push(rowAt(i));
        const r = await batch(conn, rows, offset, mode);
        inserted += r.inserted;
        updated += r.updated;
      }
      return { inserted, updated };
    },
    isUniqueViolation: isUnique,
    async close() {
      await db.destroy();
    },
  };
}
