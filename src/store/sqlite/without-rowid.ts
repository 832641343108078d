/**
 * Rebuilds SQLite tables as WITHOUT ROWID tables (https://sqlite.org/withoutrowid.html).
 *
 * A rowid table keyed by text keeps each row twice over: once in the table's b-tree under a
 * hidden integer, once in the primary key's index. Every write touches both, so a commit
 * writes one more page to the WAL per table, and every lookup by key walks two b-trees. A
 * WITHOUT ROWID table is the primary key's b-tree itself. SQLite advises it only where rows are
 * small next to a page (a twentieth of it or less): its interior pages hold whole rows, so
 * large rows make the tree deep. migrations.ts (0002) names the tables that qualify.
 *
 * SQLite cannot change a table's kind in place: each table is created again under a
 * temporary name from its own CREATE statement plus `WITHOUT ROWID`, filled, swapped in, and
 * its indexes created again from their own statements. All of it runs in one transaction, and
 * a table already rebuilt is skipped, so an interrupted or repeated run leaves every table
 * whole, in one kind or the other.
 *
 * The transaction is BEGIN IMMEDIATE, taking the write lock before the first read: another
 * process writing the file at that moment is then waited for (busy_timeout). A plain (deferred)
 * BEGIN reads first and asks for the lock at the first CREATE, and SQLite does not wait there: a
 * read transaction that waited for the lock could deadlock with the writer, so it fails at once
 * with SQLITE_BUSY (https://sqlite.org/lang_transaction.html, "BEGIN IMMEDIATE").
 */
import { type Kysely, sql } from "kysely";
import { BEGIN_IMMEDIATE } from "./commit-group.js";

const SUFFIX = "__without_rowid";

// biome-ignore lint/suspicious/noExplicitAny: runs from a migration, before today's schema type holds
type AnyDb = Kysely<any>;

interface SchemaRow {
  type: string;
  name: string;
  tbl_name: string;
  sql: string | null;
}

function isWithoutRowid(createSql: string): boolean {
  return /\)\s*without\s+rowid\s*$/i.test(createSql);
}

/** The CREATE TABLE statement of `name` made to create `target` WITHOUT ROWID instead. */
function rebuiltCreate(name: string, createSql: string, target: string): string {
  const head = /^\s*create\s+table\s+(?:if\s+not\s+exists\s+)?("[^"]+"|\w+)/i.exec(createSql);
  if (!head || head[1]!.replace(/"/g, "") !== name) {
    throw new Error(`unexpected definition of table ${name}`);
  }
  return `create table "${target}"${createSql.slice(head[0].length)} without rowid`;
}

export async function rebuildWithoutRowid(db: AnyDb, tables: readonly string[]): Promise<void> {
  // kysely's transaction() sends a plain BEGIN, so the transaction is opened by hand, on one
  // pinned connection.
  await db.connection().execute(async (tx) => {
    await sql.raw(BEGIN_IMMEDIATE).execute(tx);
    try {
      await rebuild(tx, tables);
      await sql`commit`.execute(tx);
    } catch (err) {
      await sql`rollback`.execute(tx).catch(() => {});
      throw err;
    }
  });
}

async function rebuild(tx: AnyDb, tables: readonly string[]): Promise<void> {
  const { rows } =
    await sql<SchemaRow>`select type, name, tbl_name, sql from sqlite_master`.execute(tx);
  for (const name of tables) {
    const table = rows.find((r) => r.type === "table" && r.name === name);
    if (!table?.sql) throw new Error(`table ${name} is missing`);
    if (isWithoutRowid(table.sql)) continue;
    // Indexes SQLite makes for PRIMARY KEY and UNIQUE constraints have no statement of their
    // own; they come back with the table.
    const indexes = rows.filter((r) => r.type === "index" && r.tbl_name === name && r.sql !== null);
    const target = `${name}${SUFFIX}`;
    await sql.raw(rebuiltCreate(name, table.sql, target)).execute(tx);
    await sql.raw(`insert into "${target}" select * from "${name}"`).execute(tx);
    await sql.raw(`drop table "${name}"`).execute(tx);
    await sql.raw(`alter table "${target}" rename to "${name}"`).execute(tx);
    for (const ix of indexes) await sql.raw(ix.sql!).execute(tx);
  }
}
