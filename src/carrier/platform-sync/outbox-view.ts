import type { KvVersion } from "../../store/index.js";

interface Known {
  version: number;
  updatedAt: number;
  dueAt: number;
}

/**
 * What a DeliveryLoop learnt of the outbox rows that are not yet due: each one's version (and
 * write time) and its dueAt. A pass lists only keys and versions (KvRepo.versions) and reads
 * and parses a row only when the listing shows it is not one of these, or its dueAt has come.
 *
 * Why that is enough to notice every write of another process (or of this one, unkicked) at
 * the next poll: every write raises the row's version, and this view records the version of
 * the value it read or wrote (never one listed apart from its value), so a write landing after
 * that is seen as a different version. The loop's conditional writes cannot hide an earlier one either (a
 * replaced row fails them and is not learnt). A probe of "has the namespace changed" would
 * not do: the loop's own settles change it too, and telling those from a concurrent enqueue
 * is exactly the race to avoid. A row deleted (by another process's loop) and written anew
 * starts at a random version (KvRepo.put), so it matches the one learnt only by a chance of
 * about 2^-52; the write time is compared too, and even then the row is read at the dueAt
 * learnt, at most retryMaxMs later.
 */
export class OutboxView {
  readonly #rows = new Map<string, Known>();

  /** The dueAt of a row known to wait (unchanged since learnt, not yet due); else undefined. */
  waiting(s: KvVersion, now: number): number | undefined {
    const k = this.#rows.get(s.key);
    if (!k || k.version !== s.version || k.updatedAt !== s.updatedAt || k.dueAt <= now) {
      return undefined;
    }
    return k.dueAt;
  }

  /** The row as this loop read or wrote it, due at `dueAt`. */
  learn(s: KvVersion, dueAt: number): void {
    this.#rows.set(s.key, { version: s.version, updatedAt: s.updatedAt, dueAt });
  }

  forget(key: string): void {
    this.#rows.delete(key);
  }

  /** After a complete listing: rows no longer in the outbox are forgotten. */
  keepOnly(keys: ReadonlySet<string>): void {
    for (const key of this.#rows.keys()) if (!keys.has(key)) this.#rows.delete(key);
  }
}
