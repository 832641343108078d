import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { isKeystoreError, KeystoreError } from "../errors.js";
import {
  acquireLock,
  loadMasterKey,
  readIfExists,
  releaseLock,
  removeStaleTemporaries,
  writeFileAtomic,
} from "./files.js";
import {
  decodeSealedFile,
  encodeSealedFile,
  MasterKeys,
  openRecord,
  type RecordType,
  SEALED_FILE_NAME,
  type StoredRecord,
  sealRecord,
} from "./sealed-file.js";

/**
 * Opened keys kept at most: every device key a carrier verifies a proof with is one, so without
 * a bound a fleet would grow the worker by its size. The signing keys and secrets in use every
 * request stay; a device key let go is opened again from its record when next needed.
 */
export const KEY_CACHE_SIZE = 4096;

/** A record in memory: as stored, plus its metadata parsed. */
export interface VaultRecord extends StoredRecord {
  meta: Record<string, unknown>;
}

function slot(t: RecordType, o: string, n: string): string {
  return `${t}\u0000${o}\u0000${n}`;
}

/** The view a mutation works on: committed records overlaid with this batch's changes. */
export interface Draft {
  get(t: RecordType, o: string, n: string): VaultRecord | undefined;
  /** Seals `secret` under KEK(o) and stages the record. */
  put(
    t: RecordType,
    o: string,
    n: string,
    meta: Record<string, unknown>,
    secret: Uint8Array,
  ): VaultRecord;
  delete(t: RecordType, o: string, n: string): void;
  /** The secret of a record (committed or staged); the caller zeroes it after use. */
  open(r: VaultRecord): Buffer;
}

interface Mutation {
  apply: (d: Draft) => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/**
 * The software keystore's state inside its worker: the records of the sealed file, and the
 * cache of keys already opened (a record's secret is opened and imported at first use, and kept
 * while among the KEY_CACHE_SIZE most recently used).
 *
 * Mutations are serialised and group-committed: the ones that arrive while a write is in flight
 * are applied together and written in the next one. A mutation's result is released only once
 * the file holding it is synced; readers only ever see committed records, so no key is used
 * before it is durable. A failed write rejects its batch (STORAGE_FAILED) and changes nothing.
 */
export class Vault {
  readonly dir: string;
  readonly #file: string;
  readonly #keys: MasterKeys;
  #records: Map<string, VaultRecord>;
  #generation: number;
  readonly #cache = new Map<string, unknown>();
  #queue: Mutation[] = [];
  #flushing: Promise<void> | null = null;
  #closed = false;

  private constructor(
    dir: string,
    keys: MasterKeys,
    records: Map<string, VaultRecord>,
    gen: number,
  ) {
    this.dir = dir;
    this.#file = join(dir, SEALED_FILE_NAME);
    this.#keys = keys;
    this.#records = records;
    this.#generation = gen;
  }

  /** Opens (or creates) the keystore in `dir`; takes the directory's lock. */
  static async open(dir: string, masterKeyFile: string): Promise<Vault> {
    try {
      return await Vault.#open(dir, masterKeyFile);
    } catch (err) {
      if (isKeystoreError(err)) throw err;
      const why = (err as NodeJS.ErrnoException | null)?.code ?? "I/O error";
      throw new KeystoreError("STORAGE_FAILED", `cannot open the keystore in ${dir} (${why})`);
    }
  }

  static async #open(dir: string, masterKeyFile: string): Promise<Vault> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await acquireLock(dir);
    try {
      await removeStaleTemporaries(dir, SEALED_FILE_NAME);
      const file = await readIfExists(join(dir, SEALED_FILE_NAME));
      const master = await loadMasterKey(masterKeyFile, file !== null);
      const keys = new MasterKeys(master);
      master.fill(0);
      const records = new Map<string, VaultRecord>();
      let gen = 0;
      if (file) {
        const doc = decodeSealedFile(keys, file);
        for (const r of doc.records) {
          const k = slot(r.t, r.o, r.n);
          if (records.has(k))
            throw new KeystoreError(
              "SEALED_FILE_CORRUPT",
              "the sealed keystore file repeats a key",
            );
          records.set(k, { ...r, meta: JSON.parse(r.m) as Record<string, unknown> });
        }
        gen = doc.generation;
      }
      return new Vault(dir, keys, records, gen);
    } catch (err) {
      await releaseLock(dir).catch(() => undefined);
      throw err;
    }
  }

  get size(): number {
    return this.#records.size;
  }

  get(t: RecordType, o: string, n: string): VaultRecord | undefined {
    return this.#records.get(slot(t, o, n));
  }

  /**
   * The imported form of a committed record's key, made once by `build` from the record's
   * secret and cached; undefined when there is no such record (for this owner).
   */
  key<K>(
    t: RecordType,
    o: string,
    n: string,
    build: (secret: Buffer, r: VaultRecord) => K,
  ): K | undefined {
    const s = slot(t, o, n);
    const cached = this.#cache.get(s);
    if (cached !== undefined) {
      // Most recently used last: the first entry is the one to let go.
      this.#cache.delete(s);
      this.#cache.set(s, cached);
      return cached as K;
    }
    const r = this.#records.get(s);
    if (!r) return undefined;
    const secret = openRecord(this.#keys, r);
    try {
      const k = build(secret, r);
      if (this.#cache.size >= KEY_CACHE_SIZE) this.#cache.delete(this.#cache.keys().next().value!);
      this.#cache.set(s, k);
      return k;
    } finally {
      secret.fill(0);
    }
  }

  /** Runs `apply` on the next batch; resolves with its result once the batch is durable. */
  mutate<T>(apply: (d: Draft) => T): Promise<T> {
    if (this.#closed)
      return Promise.reject(new KeystoreError("KEYSTORE_CLOSED", "the keystore is closed"));
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ apply, resolve: resolve as (v: unknown) => void, reject });
      if (!this.#flushing) this.#flushing = this.#flushLoop();
    });
  }

  async #flushLoop(): Promise<void> {
    try {
      while (this.#queue.length > 0) await this.#flushBatch(this.#queue.splice(0));
    } finally {
      this.#flushing = null;
    }
  }

  async #flushBatch(batch: Mutation[]): Promise<void> {
    const staged = new Map<string, VaultRecord | null>();
    const done: Array<{ m: Mutation; result: unknown }> = [];
    for (const m of batch) {
      const mine = new Map<string, VaultRecord | null>();
      const draft: Draft = {
        get: (t, o, n) => {
          const s = slot(t, o, n);
          if (mine.has(s)) return mine.get(s) ?? undefined;
          if (staged.has(s)) return staged.get(s) ?? undefined;
          return this.#records.get(s);
        },
        put: (t, o, n, meta, secret) => {
          const r = { ...sealRecord(this.#keys, t, o, n, meta, secret), meta };
          mine.set(slot(t, o, n), r);
          return r;
        },
        delete: (t, o, n) => {
          mine.set(slot(t, o, n), null);
        },
        open: (r) => openRecord(this.#keys, r),
      };
      try {
        const result = m.apply(draft);
        for (const [s, r] of mine) staged.set(s, r);
        done.push({ m, result });
      } catch (err) {
        m.reject(err);
      }
    }
    if (staged.size > 0) {
      const next = new Map(this.#records);
      for (const [s, r] of staged) {
        if (r) next.set(s, r);
        else next.delete(s);
      }
      const records: StoredRecord[] = [];
      for (const r of next.values())
        records.push({ t: r.t, o: r.o, n: r.n, m: r.m, iv: r.iv, ct: r.ct });
      try {
        const bytes = encodeSealedFile(this.#keys, {
          v: 1,
          generation: this.#generation + 1,
          records,
        });
        await writeFileAtomic(this.#file, bytes);
      } catch (err) {
        const e = isKeystoreError(err)
          ? err
          : new KeystoreError(
              "STORAGE_FAILED",
              `writing the sealed keystore in ${this.dir} failed`,
            );
        for (const { m } of done) m.reject(e);
        return;
      }
      this.#records = next;
      this.#generation += 1;
      for (const s of staged.keys()) this.#cache.delete(s);
    }
    for (const { m, result } of done) m.resolve(result);
  }

  /** Waits for pending writes, then releases the lock; later mutations fail KEYSTORE_CLOSED. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#flushing) await this.#flushing;
    this.#cache.clear();
    await releaseLock(this.dir);
  }
}
