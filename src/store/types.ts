/**
 * The store's public model: the records it keeps and the repositories that keep them. Every
 * repository is bound to one owner `part` ("carrier:acme", "platform", "enterprise:initech"),
 * so one part's code cannot read another's rows by passing the wrong key: it has to ask for
 * the other part's handle by name. Times are milliseconds since the Unix epoch; every method
 * that depends on time takes an optional `now`, defaulting to the store's injected clock.
 */

/** Milliseconds since the Unix epoch. Injected so expiry tests freeze time instead of sleeping. */
export type Clock = () => number;

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Keyset pagination: rows strictly after `after` in key order, at most `limit` (≤ 10,000). */
export interface Page {
  after?: string;
  limit?: number;
}

// ---------------------------------------------------------------------------------------------
// Inventory

export type InventoryStatus = "active" | "blocked" | "terminated";

/** One device as the OEM/carrier registers it. Callers normalise identifiers (identity rules). */
export interface InventoryInput {
  imei: string;
  meid?: string | null;
  esn?: string | null;
  model: string;
  /** Id of the security-key slot key the device holds for this carrier. */
  kid: string;
  /** The device's attestation public key as text (SPKI PEM or JWK JSON), when kept. */
  attestationKey?: string | null;
  /** Its RFC 7638 thumbprint (or another stable digest the caller chooses). */
  attestationThumbprint?: string | null;
  /** Subsidy/contract end, `YYYY-MM-DD`. */
  contractEnd?: string | null;
  userGroup?: string | null;
  enterprise?: string | null;
  /**
   * Absent: `active` for a new row, unchanged for an existing one (so re-importing a file never
   * unblocks a stolen device).
   */
  status?: InventoryStatus;
}

export interface InventoryRecord {
  part: string;
  imei: string;
  meid: string | null;
  esn: string | null;
  model: string;
  kid: string;
  attestationKey: string | null;
  attestationThumbprint: string | null;
  contractEnd: string | null;
  userGroup: string | null;
  enterprise: string | null;
  status: InventoryStatus;
  createdAt: number;
  updatedAt: number;
}

export interface ImportOptions {
  /** `insert` (default): an IMEI or MEID already stored fails the import. `upsert`: replaces. */
  mode?: "insert" | "upsert";
  now?: number;
}

export interface ImportResult {
  inserted: number;
  updated: number;
}

export interface InventoryRepo {
  /**
   * Imports every row in ONE transaction: all rows or none. A bad row throws StoreError
   * `ROW_INVALID` with its 0-based `index` and nothing is applied. Built for 10^6 rows.
   */
  import(rows: readonly InventoryInput[], opts?: ImportOptions): Promise<ImportResult>;
  /** Inserts or replaces one device (the `upsert` rules of `import`). */
  put(row: InventoryInput, now?: number): Promise<InventoryRecord>;
  get(imei: string): Promise<InventoryRecord | null>;
  findByMeid(meid: string): Promise<InventoryRecord | null>;
  /** ESNs are not unique (pseudo-ESNs collide), hence a list. */
  findByEsn(esn: string): Promise<InventoryRecord[]>;
  /** Block, unblock (`active`) or terminate; null when the IMEI is not in the inventory. */
  setStatus(imei: string, status: InventoryStatus, now?: number): Promise<InventoryRecord | null>;
  remove(imei: string): Promise<boolean>;
  count(): Promise<number>;
  /** In IMEI order; `after` is an IMEI. */
  list(page?: Page): Promise<InventoryRecord[]>;
}

// ---------------------------------------------------------------------------------------------
// Device activation state

export type DeviceState = "pending" | "approved" | "denied" | "provisioned" | "terminated";

export interface DeviceInput {
  imei: string;
  state: DeviceState;
  /** Thumbprint of the attestation key that activated it (clone detection: same IMEI, other key). */
  attestationThumbprint?: string | null;
  /** Where the DM credentials live (a keystore handle or kv key), never the credentials. */
  dmCredentialsRef?: string | null;
  profile?: JsonValue | null;
  verdictId?: string | null;
}

export type DevicePatch = Partial<Omit<DeviceInput, "imei">>;

/** A device's activation state without its profile: what most readers need. */
export interface DeviceStatus {
  part: string;
  imei: string;
  state: DeviceState;
  attestationThumbprint: string | null;
  dmCredentialsRef: string | null;
  verdictId: string | null;
  /** 1 on creation, +1 on every update: pass it back as `expectedVersion`. */
  version: number;
  createdAt: number;
  updatedAt: number;
}

export interface DeviceRecord extends DeviceStatus {
  profile: JsonValue | null;
}

export interface DevicesRepo {
  get(imei: string): Promise<DeviceRecord | null>;
  /**
   * The state alone, without reading or parsing the profile (a few hundred bytes of JSON that
   * the verdict and the DM session, four reads an activation, never look at).
   */
  status(imei: string): Promise<DeviceStatus | null>;
  /**
   * Throws `ALREADY_EXISTS` when the IMEI has a state already (two racing first activations).
   * Returns the state made (the profile is the caller's own: `get` reads it back).
   */
  create(input: DeviceInput, now?: number): Promise<DeviceStatus>;
  /**
   * Compare-and-set: with `expectedVersion`, throws `VERSION_CONFLICT` when the row moved on.
   * Throws `NOT_FOUND` when there is no row. Fields absent from `patch` keep their value.
   * Returns the state after it, without the profile.
   */
  update(
    imei: string,
    patch: DevicePatch,
    opts?: { expectedVersion?: number; now?: number },
  ): Promise<DeviceStatus>;
  remove(imei: string): Promise<boolean>;
  count(state?: DeviceState): Promise<number>;
  list(page?: Page & { state?: DeviceState }): Promise<DeviceRecord[]>;
}

// ---------------------------------------------------------------------------------------------
// Nonces

export interface IssuedNonce {
  /** 256 random bits, base64url. */
  nonce: string;
  /** What the nonce was issued for (an IMEI, a session id), echoed back by `consume`. */
  subject: string | null;
  issuedAt: number;
  expiresAt: number;
}

export type ConsumeResult =
  | { status: "ok"; nonce: IssuedNonce }
  | { status: "replayed" | "expired" | "unknown" };

export interface NoncesRepo {
  issue(opts: { ttlMs: number; subject?: string | null; now?: number }): Promise<IssuedNonce>;
  /**
   * Atomic single use: of any number of concurrent consumers exactly one gets `ok`. A consumed
   * nonce reports `replayed` (until swept), a never-consumed one past its expiry `expired`,
   * anything else (including garbage input) `unknown`.
   */
  consume(nonce: string, now?: number): Promise<ConsumeResult>;
  /**
   * What `consume` would answer now, without consuming: for a judgement prepared outside the
   * transaction that consumes (a concurrent consumer may still win before it).
   */
  peek(nonce: string, now?: number): Promise<ConsumeResult["status"]>;
  /**
   * Deletes expired nonces, and consumed ones older than `consumedOlderThanMs` (default: kept
   * until they expire, so a replay inside the validity window still reports `replayed`).
   * Returns the number of rows deleted.
   */
  sweep(now?: number, opts?: { consumedOlderThanMs?: number }): Promise<number>;
  count(): Promise<number>;
}

// ---------------------------------------------------------------------------------------------
// Network access permission list

export type NetworkAccess = "full" | "limited";

export interface AccessEntry {
  part: string;
  imei: string;
  access: NetworkAccess;
  updatedAt: number;
}

export interface AccessRepo {
  set(imei: string, access: NetworkAccess, now?: number): Promise<AccessEntry>;
  remove(imei: string): Promise<boolean>;
  get(imei: string): Promise<AccessEntry | null>;
  list(page?: Page & { access?: NetworkAccess }): Promise<AccessEntry[]>;
  count(access?: NetworkAccess): Promise<number>;
}

// ---------------------------------------------------------------------------------------------
// Verdicts

export type Verdict = "approved" | "denied";

export interface VerdictInput {
  /** The nonce the evidence was bound to: one verdict per nonce, so a retry is idempotent. */
  nonce: string;
  imei: string;
  verdict: Verdict;
  reasons: readonly string[];
  /** Hex/base64 digest of the evidence judged. */
  evidenceHash: string;
  /** The signed verdict as sent, so a retry returns the very same bytes. */
  signed?: string | null;
  /** Defaults to a version 7 UUID (time-ordered, store/time-ordered.ts). */
  id?: string;
}

export interface VerdictRecord {
  id: string;
  part: string;
  nonce: string;
  imei: string;
  verdict: Verdict;
  reasons: string[];
  evidenceHash: string;
  signed: string | null;
  createdAt: number;
}

export interface VerdictsRepo {
  /**
   * Records the verdict for `nonce` once. A second call for the same nonce stores nothing and
   * returns the first verdict with `created: false` (whatever the second call carried).
   */
  record(input: VerdictInput, now?: number): Promise<{ created: boolean; verdict: VerdictRecord }>;
  get(id: string): Promise<VerdictRecord | null>;
  byNonce(nonce: string): Promise<VerdictRecord | null>;
  /** Newest first. */
  forImei(imei: string, limit?: number): Promise<VerdictRecord[]>;
  /**
   * The IMEI's oldest verdict of kind `verdict` (ties: lowest id), however many it has: e.g.
   * when the carrier first approved the device. Null when there is none.
   */
  oldestForImei(imei: string, verdict: Verdict): Promise<VerdictRecord | null>;
  count(verdict?: Verdict): Promise<number>;
}

// ---------------------------------------------------------------------------------------------
// Audit log

export interface AuditInput {
  actor: string;
  action: string;
  subject?: string | null;
  /**
   * JSON without secrets: a field named like a secret (`secret`, `password`, `key`, `token`,
   * `privateKey`, …) at any depth is refused with `SECRET_IN_AUDIT`. At most 16 KiB.
   */
  details?: JsonObject;
}

export interface AuditEntry {
  part: string;
  seq: number;
  ts: number;
  actor: string;
  action: string;
  subject: string | null;
  details: JsonObject;
  prevHash: string;
  hash: string;
}

export type AuditProblem = "altered" | "removed" | "reordered";

export type AuditVerification =
  | { ok: true; entries: number; head: string }
  | { ok: false; entries: number; firstBadSeq: number; problem: AuditProblem };

export interface AuditRepo {
  /** Appends one entry; appends to one part are serialised so the chain never forks. */
  append(input: AuditInput, now?: number): Promise<AuditEntry>;
  /** In sequence order; `afterSeq` defaults to 0. */
  list(opts?: { afterSeq?: number; limit?: number }): Promise<AuditEntry[]>;
  head(): Promise<{ seq: number; hash: string }>;
  verify(): Promise<AuditVerification>;
}

// ---------------------------------------------------------------------------------------------
// Key-value (part configuration, references to secrets, small state)

export interface KvEntry {
  ns: string;
  key: string;
  value: JsonValue;
  /**
   * Random on creation (so not one an earlier incarnation of the key had, but for a chance of
   * about 2^-52), +1 on every update: compare for equality only; pass it as `expectedVersion`.
   */
  version: number;
  updatedAt: number;
}

/** A kv row without its value (KvRepo.versions). */
export interface KvVersion {
  key: string;
  version: number;
  updatedAt: number;
}

export interface KvRepo {
  get(ns: string, key: string): Promise<KvEntry | null>;
  /**
   * Writes `value`. With `expectedVersion`: 0 means "only if absent", n means "only if still
   * at version n"; otherwise `VERSION_CONFLICT`.
   */
  put(
    ns: string,
    key: string,
    value: JsonValue,
    opts?: { expectedVersion?: number; now?: number },
  ): Promise<KvEntry>;
  delete(ns: string, key: string): Promise<boolean>;
  /** In key order, optionally only keys starting with `prefix`. */
  list(ns: string, page?: Page & { prefix?: string }): Promise<KvEntry[]>;
  /**
   * As `list`, without the values: what a poller needs to see which rows appeared, went or
   * changed (a write always raises the version) without reading and parsing every value.
   */
  versions(ns: string, page?: Page & { prefix?: string }): Promise<KvVersion[]>;
  /**
   * Read-change-write of one row without losing a concurrent writer's change: reads the
   * row, asks `change` for the next value (null: no row; undefined back: write nothing) and
   * writes it only if the row is still at the version read. When another writer got in
   * between, reads again and asks `change` again, up to `attempts` times (default 5), then
   * fails with `VERSION_CONFLICT` having written nothing. `change` may therefore run more
   * than once and must only decide, never act; if it throws, nothing is written and the
   * error comes back as is. Answers the row as it now stands (null: still absent).
   */
  modify(
    ns: string,
    key: string,
    change: KvChange,
    opts?: { now?: number; attempts?: number },
  ): Promise<KvEntry | null>;
}

/** What `modify`'s function answers: the next value, or undefined to leave the row as it is. */
export type KvChange = (
  current: KvEntry | null,
) => JsonValue | undefined | Promise<JsonValue | undefined>;

// ---------------------------------------------------------------------------------------------
// Enterprise enrolment (issue 5)

export interface EnrolmentInput {
  imei: string;
  user?: string | null;
  userGroup?: string | null;
}

export interface EnrolmentRecord {
  part: string;
  imei: string;
  user: string | null;
  userGroup: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface EnrolmentRepo {
  /** All rows or none; always upserts. Bad row: `ROW_INVALID` with its index. */
  import(rows: readonly EnrolmentInput[], now?: number): Promise<ImportResult>;
  set(input: EnrolmentInput, now?: number): Promise<EnrolmentRecord>;
  remove(imei: string): Promise<boolean>;
  get(imei: string): Promise<EnrolmentRecord | null>;
  list(page?: Page): Promise<EnrolmentRecord[]>;
  count(): Promise<number>;
}

// ---------------------------------------------------------------------------------------------
// Bearer tokens, stored hashed (issue 5: the platform's carrier tokens)

export interface TokenRecord {
  part: string;
  id: string;
  /** Who may present it: one carrier, or a group sharing a common token. */
  holders: string[];
  scopes: string[];
  label: string | null;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
}

export type TokenCheck =
  | { status: "ok"; token: TokenRecord }
  | { status: "unknown" | "revoked" | "expired" };

export interface TokensRepo {
  /** Mints a token; the clear value is returned once and only its SHA-256 is stored. */
  issue(
    opts: {
      holders: readonly string[];
      scopes: readonly string[];
      ttlMs?: number | null;
      label?: string | null;
      id?: string;
    },
    now?: number,
  ): Promise<{ token: string; record: TokenRecord }>;
  check(token: string, now?: number): Promise<TokenCheck>;
  /** Rotation = issue a new one, then revoke the old one. */
  revoke(id: string, now?: number): Promise<boolean>;
  get(id: string): Promise<TokenRecord | null>;
  list(page?: Page): Promise<TokenRecord[]>;
}

// ---------------------------------------------------------------------------------------------
// Sessions and the store

/** The repositories of one part, on the connection of the handle that made them. */
export interface PartStore {
  readonly part: string;
  readonly inventory: InventoryRepo;
  readonly devices: DevicesRepo;
  readonly nonces: NoncesRepo;
  readonly access: AccessRepo;
  readonly verdicts: VerdictsRepo;
  readonly audit: AuditRepo;
  readonly kv: KvRepo;
  readonly enrolment: EnrolmentRepo;
  readonly tokens: TokensRepo;
  /** See {@link StoreSession.transaction}; `tx` is this part's handle inside it. */
  transaction<T>(fn: (tx: PartStore) => Promise<T>): Promise<T>;
  /**
   * Inside a transaction only: waits for, then holds until the transaction ends, this part's
   * lock on `subject` (an IMEI). A transaction that reads a device's rows to decide whether to
   * create or change them takes it first, so that two of them for one device run one after the
   * other on PostgreSQL (READ COMMITTED: both would read "no row" and both insert) as they do
   * on SQLite, whose write transactions hold the whole file. Outside one: OUTSIDE_TRANSACTION.
   */
  lockSubject(subject: string): Promise<void>;
}

export interface StoreSession {
  /** The repositories of `part` (validated: 1–128 printable ASCII characters, no spaces). */
  part(part: string): PartStore;
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws.
   * Nested calls use savepoints. Inside, use only `tx` (or handles made from it): the outer
   * handle throws `OUTSIDE_TRANSACTION`. SQLite opens it as a write transaction (`BEGIN
   * IMMEDIATE`), so transactions of several processes on one file queue instead of failing.
   */
  transaction<T>(fn: (tx: StoreSession) => Promise<T>): Promise<T>;
}

export type StoreKind = "sqlite" | "postgres";

export interface Store extends StoreSession {
  readonly kind: StoreKind;
  /** The injected clock. */
  readonly now: Clock;
  /** Applies pending migrations (openStore does unless told not to); returns their names. */
  migrate(): Promise<string[]>;
  migrations(): Promise<{ name: string; executedAt: Date | null }[]>;
  /** Parts that have an audit log. */
  auditParts(): Promise<string[]>;
  /** Shorthand for `part(p).audit.verify()`. */
  verifyAudit(part: string): Promise<AuditVerification>;
  /** Waits for running queries, then closes the database; later use throws `CLOSED`. */
  close(): Promise<void>;
}
