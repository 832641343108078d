import { type FileHandle, mkdir, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { crashPoint } from "../../fault/crash-point.js";
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
  decodeJournal,
  encodeJournalEntry,
  JOURNAL_FILE_NAME,
  type JournalChange,
  journalHeader,
} from "./journal.js";
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
 * The journal is folded into a new sealed file once it is larger than the sealed file and this:
 * the bytes written per change stay bounded whatever the number of keys.
 */
export const JOURNAL_COMPACT_MIN_BYTES = 1024 * 1024;

/** The open journal continuing the current sealed file. */
interface OpenJournal {
  fh: FileHandle;
  header: Buffer;
  /** Bytes in the file, all of them whole entries. */
  size: number;
  entries: number;
}

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

function unslot(s: string): [RecordType, string, string] {
  const [t, o, n] = s.split("\u0000");
  return [t as RecordType, o!, n!];
}

function stored(r: StoredRecord): StoredRecord {
  return { t: r.t, o: r.o, n: r.n, m: r.m, iv: r.iv, ct: r.ct };
}

function withMeta(r: StoredRecord): VaultRecord {
  return { ...r, meta: JSON.parse(r.m) as Record<string, unknown> };
}

function applyChange(records: Map<string, VaultRecord>, c: JournalChange): void {
  for (const r of c.put) records.set(slot(r.t, r.o, r.n), withMeta(r));
  for (const [t, o, n] of c.del) records.delete(slot(t, o, n));
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
 * are applied together and written in the next one, as one journal entry (journal.ts) appended
 * and synced, or, when the journal has outgrown the sealed file, as a new sealed file. A
 * mutation's result is released only once the write holding it is synced; readers only ever see
 * committed records, so no key is used before it is durable. A failed write rejects its batch
 * (STORAGE_FAILED) and changes nothing.
 */
export class Vault {
  readonly dir: string;
  readonly #file: string;
  readonly #journalFile: string;
  readonly #keys: MasterKeys;
  readonly #records: Map<string, VaultRecord>;
  #generation: number;
  /** Size of the sealed file; 0 while there is none yet. */
  #snapshotBytes: number;
  #journal: OpenJournal | null = null;
  /** The journal file may hold entries the sealed file lacks: only a compaction may replace it. */
  #mustCompact = false;
  readonly #cache = new Map<string, unknown>();
  #queue: Mutation[] = [];
  #flushing: Promise<void> | null = null;
  #closed = false;

  private constructor(
    dir: string,
    keys: MasterKeys,
    records: Map<string, VaultRecord>,
    gen: number,
    snapshotBytes: number,
  ) {
    this.dir = dir;
    this.#file = join(dir, SEALED_FILE_NAME);
    this.#journalFile = join(dir, JOURNAL_FILE_NAME);
    this.#keys = keys;
    this.#records = records;
    this.#generation = gen;
    this.#snapshotBytes = snapshotBytes;
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
    let fh: FileHandle | null = null;
    try {
      await removeStaleTemporaries(dir, SEALED_FILE_NAME);
      await removeStaleTemporaries(dir, JOURNAL_FILE_NAME);
      const file = await readIfExists(join(dir, SEALED_FILE_NAME));
      const jfile = await readIfExists(join(dir, JOURNAL_FILE_NAME));
      const master = await loadMasterKey(masterKeyFile, file !== null || jfile !== null);
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
          records.set(k, withMeta(r));
        }
        gen = doc.generation;
      }
      const vault = new Vault(dir, keys, records, gen, file?.length ?? 0);
      if (jfile) {
        const j = decodeJournal(keys, jfile);
        if (!file || j.baseGeneration > gen)
          throw new KeystoreError(
            "SEALED_FILE_CORRUPT",
            "the keystore journal continues a sealed file that is missing: refusing to open it",
          );
        // An older base: the journal was folded into the sealed file before a crash; a new
        // journal replaces it at the first write.
        if (j.baseGeneration === gen) {
          for (const c of j.changes) applyChange(records, c);
          fh = await open(join(dir, JOURNAL_FILE_NAME), "r+");
          if (j.validBytes < jfile.length) {
            // The torn tail of an append that was never acknowledged.
            await fh.truncate(j.validBytes);
            await fh.sync();
          }
          vault.#journal = {
            fh,
            header: journalHeader(keys, gen),
            size: j.validBytes,
            entries: j.changes.length,
          };
        }
      }
      return vault;
    } catch (err) {
      await fh?.close().catch(() => undefined);
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
      try {
        await this.#write(staged);
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
      for (const [s, r] of staged) {
        if (r) this.#records.set(s, r);
        else this.#records.delete(s);
        this.#cache.delete(s);
      }
    }
    for (const { m, result } of done) m.resolve(result);
  }

  /** Makes `staged` durable: one journal append, or a new sealed file when the journal is large. */
  async #write(staged: Map<string, VaultRecord | null>): Promise<void> {
    const j = this.#journal;
    const compact =
      this.#mustCompact ||
      this.#snapshotBytes === 0 ||
      (j !== null && j.size > Math.max(JOURNAL_COMPACT_MIN_BYTES, this.#snapshotBytes));
    if (compact) {
      const next: StoredRecord[] = [];
      for (const [s, r] of this.#records) if (!staged.has(s)) next.push(stored(r));
      for (const r of staged.values()) if (r) next.push(stored(r));
      await this.#compact(next);
      return;
    }
    const journal = j ?? (await this.#startJournal());
    const change: JournalChange = { put: [], del: [] };
    for (const [s, r] of staged) {
      if (r) change.put.push(stored(r));
      else change.del.push(unslot(s));
    }
    const bytes = encodeJournalEntry(this.#keys, journal.header, journal.entries, change);
    try {
      await journal.fh.write(bytes, 0, bytes.length, journal.size);
      await journal.fh.datasync();
    } catch (err) {
      // Part of the entry may be in the file: the next write starts afresh from memory.
      this.#mustCompact = true;
      throw err;
    }
    journal.size += bytes.length;
    journal.entries += 1;
  }

  /**
   * A new sealed file holding `records`; the journal it folds in is removed, and the next change
   * starts a new one (#write). Crash points (test/keystore/crash.test.ts drives each):
   * `keystore.compact.after-snapshot`, `keystore.compact.after-journal-removed`.
   */
  async #compact(records: StoredRecord[]): Promise<void> {
    const bytes = encodeSealedFile(this.#keys, {
      v: 1,
      generation: this.#generation + 1,
      records,
    });
    await writeFileAtomic(this.#file, bytes);
    crashPoint("keystore.compact.after-snapshot");
    // Durable from here: a journal left over names the older generation and is ignored.
    this.#generation += 1;
    this.#snapshotBytes = bytes.length;
    this.#mustCompact = false;
    const old = this.#journal;
    this.#journal = null;
    await old?.fh.close().catch(() => undefined);
    // No empty journal is written in its place: a missing journal is an empty one. Removing the
    // folded one spares the next open from decrypting it only to ignore it; the removal needs no
    // sync and may fail, since a crash that undoes it leaves exactly that ignored journal.
    await rm(this.#journalFile, { force: true }).catch(() => undefined);
    crashPoint("keystore.compact.after-journal-removed");
  }

  /**
   * The journal continuing the current sealed file, written before the first change after a
   * compaction (or after opening without one). Atomic: a crash leaves the folded journal, ignored,
   * or this header, an empty journal. Crash point: `keystore.journal.after-start`.
   */
  async #startJournal(): Promise<OpenJournal> {
    const header = journalHeader(this.#keys, this.#generation);
    await writeFileAtomic(this.#journalFile, header);
    crashPoint("keystore.journal.after-start");
    const fh = await open(this.#journalFile, "r+");
    this.#journal = { fh, header, size: header.length, entries: 0 };
    return this.#journal;
  }

  /** Waits for pending writes, then releases the lock; later mutations fail KEYSTORE_CLOSED. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#flushing) await this.#flushing;
    // Leave one sealed file behind when there is a journal to fold (best effort: the journal
    // is as good).
    if (this.#mustCompact || (this.#journal?.entries ?? 0) > 0)
      await this.#compact([...this.#records.values()].map(stored)).catch(() => undefined);
    await this.#journal?.fh.close().catch(() => undefined);
    this.#journal = null;
    this.#cache.clear();
    await releaseLock(this.dir);
  }
}
