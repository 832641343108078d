import { isStoreError, type JsonObject, type KvEntry, type PartStore } from "../../store/index.js";
import {
  DEFAULT_POLL_MS,
  DEFAULT_RETRY_BASE_MS,
  DEFAULT_RETRY_MAX_MS,
  type PlatformSyncOptions,
} from "./options.js";
import { type OutboxRow, rowOf } from "./outbox.js";
import { OutboxView } from "./outbox-view.js";
import {
  type BackoffTiming,
  ReceiverBackoff,
  type ReceiverState,
  retryAt,
} from "./receiver-backoff.js";

/** What became of one row's delivery. */
export type Outcome =
  | { kind: "delivered"; applied: boolean }
  | { kind: "dropped"; why: string }
  | {
      kind: "retry";
      why: string;
      /**
       * The receiver failed, not this row (unreachable, a server error, a refused token): every
       * row would fail alike. With one receiver the loop then backs the receiver off instead.
       */
      receiver?: boolean;
    };

/** A receiver's answer to a batch as a whole. */
export type BatchAnswer =
  | { kind: "each"; outcomes: Outcome[] }
  /** The platform cannot judge the batch as a whole (no such route, or a row it refuses). */
  | { kind: "one-by-one" }
  | { kind: "retry"; why: string };

/**
 * How one queue's rows reach their receiver: all that differs between the queues delivered by a
 * DeliveryLoop (the platform sync, deliver.ts; the migration's background work,
 * src/carrier/migration/finish.ts).
 */
export interface Sender {
  /** One row; a throw counts as a retry that the receiver failed (`receiver: true`). */
  one(row: OutboxRow): Promise<Outcome>;
  /**
   * Up to `max` rows in one request, when the receiver takes them so (a throw counts as a retry
   * of all, and both say the receiver failed); `one-by-one` sends them with `one` instead.
   */
  batch?: { max: number; send(rows: readonly OutboxRow[]): Promise<BatchAnswer> };
  /**
   * Every row goes to the same receiver: a request the receiver failed says every other row
   * would fail alike (each perhaps after a timeout), so the pass ends there and the loop backs
   * the receiver off (in memory), leaving the rows as they are: due the moment it is back.
   * False when rows go to several receivers: a failure is each row's own, backed off per row.
   */
  oneReceiver: boolean;
  /** False while there is nowhere to send yet (a pass then does nothing); true if absent. */
  ready?(): boolean;
}

export interface DeliveryLoopOptions {
  part: PartStore;
  /** The kv namespace of the queue's OutboxRows. */
  ns: string;
  /** In logs and the drop's audit action (`<name>-dropped`). */
  name: string;
  /** The audit actor of drops (`carrier:<id>`). */
  actor: string;
  sender: Sender;
  /** Read at each use, so a change applies from the next pass. */
  timing: Pick<PlatformSyncOptions, "retryBaseMs" | "retryMaxMs" | "pollMs">;
  /** The carrier's clock, for audit entries (scheduling and dueAt use the wall clock). */
  now: () => number;
}

/** What one pass over the outbox did. */
export interface DeliveryPass {
  delivered: number;
  /** Refused for good by the receiver; deleted and audited. */
  dropped: number;
  /** Failed for now; tried again after a backoff. */
  retrying: number;
  /** Still waiting for their backoff to end. */
  waiting: number;
}

/** A due row as read from the outbox (its entry's version guards its removal). */
interface Due {
  e: KvEntry;
  row: OutboxRow;
}

/** A pass and the earliest dueAt it saw among the rows it left (Infinity: none known). */
interface PassResult {
  pass: DeliveryPass;
  nextDueAt: number;
}

const LIST_PAGE = 256;

/** Up to this many rows of a listed page to read, one by one; more, the page's values at once. */
const READ_ONE_BY_ONE = 16;

/**
 * Delivers a queue of OutboxRows (kv `ns` of the carrier's store) with its sender, retrying
 * each failed row with backoff until the receiver takes it or refuses it for good. A row is
 * removed only after its delivery, in a transaction of its own pass, so a crash at any point
 * delivers it again (receivers are idempotent).
 *
 * Two backoffs. A row the receiver judged and asked to retry waits its own delay, written into
 * the row (attempts, dueAt). A receiver that failed a request as a whole (oneReceiver senders:
 * unreachable, a server error, a refused token) judged no row: the loop waits for it in memory
 * (ReceiverBackoff), writes nothing into the rows, and neither lists the outbox nor sends until
 * that delay is over, whatever kicks it; the first answered request resets it. So after an
 * outage everything queued goes out at the first pass the receiver answers.
 *
 * Scheduling: after a pass the loop sleeps until the earliest dueAt it saw, but never longer
 * than `pollMs` (unless the receiver backs off, above), the bound within which rows another process wrote (one PostgreSQL store
 * shared by several servers, the admin CLI) are found. A pass lists keys and versions only,
 * and reads a row only if it is due or not known (OutboxView says why that misses no write).
 * kick() (after a commit in this process) ends the sleep at once, and a kick during a pass
 * runs another pass right after it.
 */
export class DeliveryLoop {
  readonly #o: DeliveryLoopOptions;
  /** Where delivery problems are reported (the app's logger, once mounted). */
  warn: (msg: string, err?: unknown) => void = () => undefined;
  readonly #view = new OutboxView();
  readonly #receiver = new ReceiverBackoff();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<PassResult> | undefined;
  #again = false;
  #stopped = true;
  /** Set by stop() after start(): a pass in flight ends early (a direct pass runs to its end). */
  #halting = false;

  constructor(opts: DeliveryLoopOptions) {
    this.#o = opts;
  }

  /** While the receiver fails (oneReceiver senders): how often in a row, why, until when. */
  get receiverBackoff(): ReceiverState | undefined {
    return this.#receiver.state;
  }

  /**
   * Passes at once, then as rows fall due (at least every `pollMs` while the receiver answers)
   * and after each kick.
   */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#halting = false;
    this.#wake(0);
  }

  /** Stops the loop and waits for a pass in flight; undelivered rows stay in the outbox. */
  async stop(): Promise<void> {
    if (!this.#stopped) this.#halting = true;
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  /**
   * A delivery pass now (after a new row committed), or right after the one in flight; while
   * the receiver backs off, when that ends (the loop's timer already waits for it).
   */
  kick(): void {
    if (this.#stopped) return;
    if (this.#running) this.#again = true;
    else if (this.#receiver.waitMs() === 0) this.#wake(0);
  }

  /** Rows still in the outbox (delivered ones are gone). */
  async pending(): Promise<OutboxRow[]> {
    const rows: OutboxRow[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.#o.part.kv.list(this.#o.ns, {
        limit: LIST_PAGE,
        ...(after === undefined ? {} : { after }),
      });
      for (const e of page) rows.push(rowOf(e));
      if (page.length < LIST_PAGE) return rows;
      after = page[page.length - 1]!.key;
    }
  }

  /**
   * One pass over the outbox: every row whose backoff has ended is tried once (none while the
   * receiver backs off).
   */
  async deliverDue(): Promise<DeliveryPass> {
    return (await this.#passOnce()).pass;
  }

  #passOnce(): Promise<PassResult> {
    if (this.#running) return this.#running;
    const run = this.#pass();
    this.#running = run;
    // Whoever started the pass (the timer, a kick, a direct call), the loop goes on from here.
    run.then(
      (r) => this.#after(r.nextDueAt),
      (err: unknown) => {
        if (!this.#stopped) this.warn(`${this.#o.name}: delivery pass failed`, err);
        this.#after(Number.POSITIVE_INFINITY);
      },
    );
    return run;
  }

  #after(nextDueAt: number): void {
    this.#running = undefined;
    if (this.#stopped) return;
    const again = this.#again;
    this.#again = false;
    // Neither a kick nor the poll ends the receiver's backoff: nothing could be delivered.
    const hold = this.#receiver.waitMs();
    const poll = this.#o.timing.pollMs ?? DEFAULT_POLL_MS;
    const next = again ? 0 : Math.max(0, Math.min(poll, nextDueAt - Date.now()));
    this.#wake(hold > 0 ? hold : next);
  }

  #wake(ms: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    const at = Date.now() + ms;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      // Timers count from the event loop's cached time, so one may fire a few ms before the
      // row it waits for is due by Date.now(): sleep the rest rather than pass for nothing.
      if (Date.now() < at) return this.#wake(at - Date.now());
      // A failed pass is reported by #passOnce.
      this.#passOnce().catch(() => undefined);
    }, ms);
    // A sleeping loop must not keep an otherwise idle process alive.
    this.#timer.unref();
  }

  async #pass(): Promise<PassResult> {
    const r: PassResult = {
      pass: { delivered: 0, dropped: 0, retrying: 0, waiting: 0 },
      nextDueAt: Number.POSITIVE_INFINITY,
    };
    const sender = this.#o.sender;
    if (sender.ready && !sender.ready()) return r;
    if (this.#receiver.waitMs() > 0) return r;
    const max = sender.batch?.max ?? 1;
    let batch: Due[] = [];
    for await (const d of this.#dueRows(r)) {
      if (this.#halting) return r;
      batch.push(d);
      if (batch.length < max) continue;
      if (!(await this.#deliver(batch, r))) return r;
      batch = [];
    }
    if (batch.length > 0 && !this.#halting) await this.#deliver(batch, r);
    return r;
  }

  /**
   * The due rows, a listed page at a time; rows not yet due are counted (and learnt, or known
   * already, so that the next pass neither reads nor parses them again).
   */
  async *#dueRows(r: PassResult): AsyncGenerator<Due> {
    const { part, ns } = this.#o;
    const listed = new Set<string>();
    let after: string | undefined;
    for (;;) {
      const page = await part.kv.versions(ns, {
        limit: LIST_PAGE,
        ...(after === undefined ? {} : { after }),
      });
      const now = Date.now();
      const toRead: string[] = [];
      for (const s of page) {
        listed.add(s.key);
        const dueAt = this.#view.waiting(s, now);
        if (dueAt === undefined) toRead.push(s.key);
        else this.#waits(r, dueAt);
      }
      for (const e of await this.#read(toRead, after, page.length)) {
        const row = rowOf(e);
        if (row.dueAt <= Date.now()) {
          yield { e, row };
          continue;
        }
        this.#view.learn(e, row.dueAt);
        this.#waits(r, row.dueAt);
      }
      if (page.length < LIST_PAGE) break;
      after = page[page.length - 1]!.key;
    }
    // Only after a whole listing (a pass that ends early never gets here): what it did not list
    // is gone.
    this.#view.keepOnly(listed);
  }

  #waits(r: PassResult, dueAt: number): void {
    r.pass.waiting++;
    r.nextDueAt = Math.min(r.nextDueAt, dueAt);
  }

  /**
   * The rows of `keys` (all in the listed page after `after`, `span` keys long) as they are now;
   * rows deleted meanwhile are left out. Few are read one by one, many as the page's values.
   */
  async #read(keys: readonly string[], after: string | undefined, span: number) {
    const { kv } = this.#o.part;
    const { ns } = this.#o;
    const found: KvEntry[] = [];
    let missing = keys;
    if (keys.length > READ_ONE_BY_ONE) {
      const want = new Set(keys);
      const page = await kv.list(ns, { limit: span, ...(after === undefined ? {} : { after }) });
      for (const e of page) if (want.delete(e.key)) found.push(e);
      // Rows written into the page's range since it was listed push its last keys out.
      missing = [...want];
    }
    for (const key of missing) {
      const e = await kv.get(ns, key);
      if (e) found.push(e);
    }
    return found;
  }

  /**
   * The rows in one request when the sender batches, else one by one. False when the receiver
   * failed: the pass ends (it would fail alike for the rest).
   */
  async #deliver(batch: Due[], r: PassResult): Promise<boolean> {
    const send = this.#o.sender.batch?.send;
    if (!send) return this.#deliverEach(batch, r);
    const answer = await send(batch.map((d) => d.row)).catch((err: unknown) => ({
      kind: "retry" as const,
      why: (err as Error).message,
    }));
    if (answer.kind === "one-by-one") return this.#deliverEach(batch, r);
    if (answer.kind === "retry" && this.#o.sender.oneReceiver) {
      r.pass.retrying += batch.length;
      this.#receiverFailed(answer.why, batch.length);
      return false;
    }
    this.#receiver.answered();
    const outcomes = answer.kind === "retry" ? batch.map(() => answer) : answer.outcomes;
    const done: Array<Due & { outcome: Outcome }> = [];
    const failed: Array<Due & { why: string }> = [];
    batch.forEach((d, i) => {
      const outcome = outcomes[i]!;
      if (outcome.kind === "retry") failed.push({ ...d, why: outcome.why });
      else done.push({ ...d, outcome });
    });
    this.#count(r.pass, outcomes);
    await this.#settle(done, r);
    await this.#later(failed, r);
    return true;
  }

  /** Each row alone, settled as it goes; with one receiver, its failure ends them. */
  async #deliverEach(batch: Due[], r: PassResult): Promise<boolean> {
    for (const d of batch) if (!(await this.#deliverOne(d, r))) return false;
    return true;
  }

  async #deliverOne(d: Due, r: PassResult): Promise<boolean> {
    const outcome = await this.#o.sender
      .one(d.row)
      .catch(
        (err: unknown): Outcome => ({ kind: "retry", why: (err as Error).message, receiver: true }),
      );
    this.#count(r.pass, [outcome]);
    if (outcome.kind === "retry" && outcome.receiver && this.#o.sender.oneReceiver) {
      this.#receiverFailed(outcome.why, 1);
      return false;
    }
    this.#receiver.answered();
    if (outcome.kind === "retry") await this.#later([{ ...d, why: outcome.why }], r);
    else await this.#settle([{ ...d, outcome }], r);
    return true;
  }

  /** The backoff's delays, read at each use (a change of the options applies at once). */
  #backoff(): BackoffTiming {
    const { timing } = this.#o;
    return {
      baseMs: timing.retryBaseMs ?? DEFAULT_RETRY_BASE_MS,
      maxMs: timing.retryMaxMs ?? DEFAULT_RETRY_MAX_MS,
    };
  }

  /** Noted on the first failure and every tenth: an outage is logged, not each request of it. */
  #receiverFailed(why: string, rows: number): void {
    const s = this.#receiver.failed(why, this.#backoff());
    if (s.failures % 10 !== 1) return;
    const wait = s.retryAt - Date.now();
    this.warn(
      `${this.#o.name}: the receiver failed ${s.failures} time(s) in a row (${why}); ${rows} row(s) ` +
        `kept, next try in ${wait} ms`,
    );
  }

  #count(pass: DeliveryPass, outcomes: readonly Outcome[]): void {
    for (const o of outcomes) {
      if (o.kind === "delivered") pass.delivered++;
      else if (o.kind === "dropped") pass.dropped++;
      else pass.retrying++;
    }
  }

  /**
   * Removes delivered and dropped rows (one transaction), each unless a newer event replaced it
   * meanwhile (that one is due now). A drop is audited here (the row will never reach its
   * receiver); a delivery is audited by the receiver.
   */
  async #settle(done: ReadonlyArray<Due & { outcome: Outcome }>, r: PassResult): Promise<void> {
    if (done.length === 0) return;
    const now = this.#o.now();
    const { ns, name, actor } = this.#o;
    let replaced = false;
    await this.#o.part.transaction(async (tx) => {
      replaced = false;
      for (const { e, row, outcome } of done) {
        const cur = await tx.kv.get(ns, e.key);
        if (cur?.version === e.version) await tx.kv.delete(ns, e.key);
        else if (cur) replaced = true;
        if (outcome.kind !== "dropped") continue;
        await tx.audit.append(
          {
            actor,
            action: `${name}-dropped`,
            subject: row.imei,
            details: {
              event: row.event,
              ...(row.version === undefined ? {} : { version: row.version }),
              ...(row.activatedAt === undefined ? {} : { activatedAt: row.activatedAt }),
              attempts: row.attempts + 1,
              why: outcome.why,
            },
          },
          now,
        );
      }
    });
    // Gone or replaced: either way the next listing decides (a replacement is read again).
    for (const { e } of done) this.#view.forget(e.key);
    if (replaced) r.nextDueAt = 0;
  }

  /**
   * Backs failed rows off (one transaction): base × 2^(attempts), capped, with jitter so
   * retries spread. A row a newer event replaced meanwhile is left as it is: it is due now and
   * carries the newer state. What was written is learnt only once committed.
   */
  async #later(failed: ReadonlyArray<Due & { why: string }>, r: PassResult): Promise<void> {
    if (failed.length === 0) return;
    const { ns, name } = this.#o;
    const timing = this.#backoff();
    const noted = failed.find((f) => f.row.attempts % 10 === 0);
    if (noted) {
      const more = failed.length > 1 ? ` (and ${failed.length - 1} more)` : "";
      this.warn(`${name}: ${noted.row.event} ${noted.row.imei}${more}: ${noted.why}; retrying`);
    }
    let nextDueAt = Number.POSITIVE_INFINITY;
    let written: Array<{ e: KvEntry; dueAt: number }> = [];
    await this.#o.part.transaction(async (tx) => {
      nextDueAt = Number.POSITIVE_INFINITY;
      written = [];
      for (const { e, row, why } of failed) {
        const next: OutboxRow = {
          ...row,
          attempts: row.attempts + 1,
          dueAt: retryAt(row.attempts, timing),
          lastError: why,
        };
        try {
          const put = await tx.kv.put(ns, e.key, next as unknown as JsonObject, {
            expectedVersion: e.version,
          });
          written.push({ e: put, dueAt: next.dueAt });
          nextDueAt = Math.min(nextDueAt, next.dueAt);
        } catch (err) {
          if (!isStoreError(err, "VERSION_CONFLICT")) throw err;
          nextDueAt = 0;
        }
      }
    });
    for (const w of written) this.#view.learn(w.e, w.dueAt);
    r.nextDueAt = Math.min(r.nextDueAt, nextDueAt);
  }
}
