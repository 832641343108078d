/**
 * Persistence for dmguard (DESIGN.md part `store`): one `Store` interface over SQLite (embedded
 * default) and PostgreSQL (production), with in-code versioned migrations. Every row belongs
 * to an owner part; `store.part("carrier:acme")` hands out that part's repositories only.
 * Imports nothing of the project.
 */

export type { Backend, BulkInventoryRow } from "./backend.js";
export { canonicalJson } from "./canonical.js";
export { isStoreError, StoreError, type StoreErrorCode } from "./errors.js";
export { MIGRATIONS } from "./migrations.js";
export { type OpenStoreOptions, openStore, redactUrl, sqliteUrlFor } from "./open.js";
export { createPostgresBackend, type PostgresBackendOptions } from "./postgres/postgres-backend.js";
export { GENESIS as AUDIT_GENESIS_HASH } from "./repos/audit.js";
export { tokenDigest } from "./repos/tokens.js";
export { createSqliteBackend, type SqliteBackendOptions } from "./sqlite/sqlite-backend.js";
export { createStore } from "./store.js";
export type * from "./types.js";
