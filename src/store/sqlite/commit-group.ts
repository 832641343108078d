/**
 * Group commit on SQLite's one connection: what the store's callers run in one turn of the
 * event loop shares one SQLite transaction, committed once.
 *
 * Each commit of its own cost an activation dearly: the WAL frames of every page the
 * transaction touched (the same index and table pages, over and over), and a read or write
 * outside a transaction took and dropped SQLite's locks (two `fcntl` calls) every time. With
 * some dozens of phones in flight, their statements and transactions now join an open group:
 * - a statement outside a transaction runs inside the group, and its caller hears its result
 *   only once the group has committed;
 * - a transaction opened while a group is open is a savepoint of it (released on success,
 *   rolled back to on failure, so a failed one leaves the group as it was), and its caller
 *   hears its result once the group has committed; one opened when none is, opens the group
 *   itself (no savepoint: nothing else is in it yet, so its rollback is the group's);
 * - the group commits on the next turn of the event loop (`setImmediate`), or as soon as
 *   something needs the connection outside any group (kysely's own queries and transactions,
 *   a close).
 *
 * Nobody is told of a write, or of what another member's write caused, before the commit that
 * makes it durable: a crash loses the whole group, and nobody was told of any of it. A failed
 * commit fails every member (what they did is rolled back together). So does SQLite rolling
 * back the whole transaction by itself after an error (a full disk, an I/O error).
 */
import type Sqlite from "better-sqlite3";
import { StoreError } from "../errors.js";

/** The write lock from the start, so that the group never fails to upgrade a read lock. */
export const BEGIN_IMMEDIATE = "begin immediate";

/** How long a group waits for a transaction to give the connection back before a warning. */
export const STUCK_WARNING_MS = 10_000;

/** The name of a member transaction's savepoint; nested ones are the store's `dmg_sp_N`. */
const MEMBER = "dmg_member";

interface Group {
  readonly settled: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

function newGroup(): Group {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const settled = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A group whose members all failed on their own has nobody waiting for it.
  settled.catch(() => {});
  return { settled, resolve, reject };
}

/** A member transaction: how it ends, and the commit its caller waits for. */
export interface Member {
  /** Resolves once the group holding the member has committed; rejects if it did not. */
  readonly settled: Promise<void>;
  /** The member's work stays in the group. */
  keep(): void;
  /**
   * The member's work is undone, after `cause`; the rest of the group is not, unless SQLite
   * has rolled the whole group back by itself after `cause`: its members are then told so.
   */
  undo(cause: unknown): void;
}

export class CommitGroups {
  readonly #database: Sqlite.Database;
  /** Whether nobody holds the connection now (the flush then commits on the spot). */
  readonly #free: () => boolean;
  /** Takes the connection in turn and gives it back (the flush waits for a holder to finish). */
  readonly #take: () => Promise<void>;
  readonly #give: () => void;
  readonly #begin: Sqlite.Statement;
  readonly #commit: Sqlite.Statement;
  readonly #rollback: Sqlite.Statement;
  readonly #savepoint: Sqlite.Statement;
  readonly #release: Sqlite.Statement;
  readonly #rollbackTo: Sqlite.Statement;
  #open: Group | null = null;

  constructor(
    database: Sqlite.Database,
    connection: { free: () => boolean; take: () => Promise<void>; give: () => void },
  ) {
    this.#database = database;
    this.#free = connection.free;
    this.#take = connection.take;
    this.#give = connection.give;
    this.#begin = database.prepare(BEGIN_IMMEDIATE);
    this.#commit = database.prepare("commit");
    this.#rollback = database.prepare("rollback");
    this.#savepoint = database.prepare(`savepoint ${MEMBER}`);
    this.#release = database.prepare(`release ${MEMBER}`);
    this.#rollbackTo = database.prepare(`rollback to ${MEMBER}`);
  }

  /** The open group, opened if none is. The caller holds the connection (or runs at once). */
  #join(): Group {
    if (this.#open !== null) {
      if (this.#database.inTransaction) return this.#open;
      // SQLite rolled the group back by itself after an error its member survived.
      this.#fail(
        this.#open,
        new StoreError("ROLLED_BACK", "the transaction was rolled back by SQLite after an error"),
      );
    }
    this.#begin.run();
    const group = newGroup();
    this.#open = group;
    setImmediate(() => this.#flush(group));
    return group;
  }

  /**
   * Runs `statement` in the open group (opening one): its result, once the group committed.
   * The caller holds the connection, or nobody does and this runs before anyone can take it.
   */
  run<R>(statement: () => R): Promise<R> {
    let group: Group;
    try {
      group = this.#join();
    } catch (err) {
      return Promise.reject(err);
    }
    let out: R;
    try {
      out = statement();
    } catch (err) {
      this.#checkAfterFailure(err);
      // A failure too may come of another member's write (a unique key it took): it is told
      // once that write is committed, or gone.
      return group.settled.then(
        () => Promise.reject(err),
        () => Promise.reject(err),
      );
    }
    return group.settled.then(() => out);
  }

  /** Opens a member transaction for the holder of the connection. */
  member(): Member {
    const first = this.#open === null;
    const group = this.#join();
    if (!first) this.#savepoint.run();
    let ended = false;
    return {
      settled: group.settled,
      keep: () => {
        if (ended) return;
        // Ended only once released: a RELEASE that throws leaves the member to `undo`.
        if (!first) this.#release.run();
        ended = true;
      },
      undo: (cause) => {
        if (ended) return;
        ended = true;
        this.#checkAfterFailure(cause);
        if (this.#open !== group) return;
        try {
          if (first) {
            this.#rollback.run();
            this.#open = null;
            group.resolve();
          } else {
            this.#rollbackTo.run();
            this.#release.run();
          }
        } catch (err) {
          // Not expected once the transaction is known to be open; the group is lost then.
          this.abandon(err);
        }
      },
    };
  }

  /** Commits the open group now, if any. The caller holds the connection. */
  commitNow(): void {
    const group = this.#open;
    if (group === null) return;
    this.#open = null;
    try {
      this.#commit.run();
    } catch (err) {
      this.#fail(group, err);
      return;
    }
    group.resolve();
  }

  /** Fails the open group's members with `err`: the connection closes without its commit. */
  abandon(err: unknown): void {
    if (this.#open !== null) this.#fail(this.#open, err);
  }

  /**
   * Throws ROLLED_BACK when SQLite has ended the open group's transaction by itself: a member
   * that caught the error and went on must not have its later statements committed one by one.
   */
  checkOpen(): void {
    if (this.#open !== null && !this.#database.inTransaction) {
      throw new StoreError(
        "ROLLED_BACK",
        "the transaction was rolled back by SQLite after an error; nothing of it was kept",
      );
    }
  }

  /** The group SQLite rolled back by itself after `err`, if it did, fails its members. */
  #checkAfterFailure(err: unknown): void {
    if (this.#open !== null && !this.#database.inTransaction) this.#fail(this.#open, err);
  }

  /** Ends `group` without its commit: what is left of it rolled back, its members told `err`. */
  #fail(group: Group, err: unknown): void {
    if (this.#open === group) this.#open = null;
    try {
      if (this.#database.open && this.#database.inTransaction) this.#rollback.run();
    } catch {
      // Rolled back by SQLite already.
    }
    group.reject(err);
  }

  #flush(group: Group): void {
    if (this.#open !== group || !this.#database.open) return;
    if (this.#free()) {
      this.commitNow();
      return;
    }
    // A transaction that awaits a store call made outside it, still waiting for this group,
    // waits for itself: the group commits only once that transaction gives the connection
    // back. Nothing can tell from here; a warning names the likely cause.
    const stuck = setTimeout(() => {
      process.emitWarning(
        `a SQLite commit group has waited ${STUCK_WARNING_MS / 1000} s for a transaction to ` +
          "end; does a transaction await a store call made outside it?",
        { code: "DMGUARD_COMMIT_WAITING" },
      );
    }, STUCK_WARNING_MS);
    stuck.unref();
    void this.#take().then(() => {
      clearTimeout(stuck);
      try {
        if (this.#open === group) this.commitNow();
      } finally {
        this.#give();
      }
    });
  }
}
