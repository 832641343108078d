import { isStoreError, type JsonObject, type KvEntry, type PartStore } from "../../store/index.js";
import {
  DEFAULT_POLL_MS,
  DEFAULT_RETRY_BASE_MS,
  DEFAULT_RETRY_MAX_MS,
  DEFAULT_TIMEOUT_MS,
  type PlatformSyncOptions,
} from "./options.js";
import {
  OUTBOX_NS,
  type OutboxRow,
  queueActivatedEvent,
  queueStatusEvent,
  rowOf,
  type StatusEvent,
} from "./outbox.js";
import { type Outcome, type PlatformTarget, sendBatch, sendOne } from "./send.js";

/** A due row as read from the outbox (its entry's version guards its removal). */
interface Due {
  e: KvEntry;
  row: OutboxRow;
}

/** What one pass over the outbox did. */
export interface DeliveryPass {
  delivered: number;
  /** Refused for good by the platform (the device is not in custody, or a malformed event). */
  dropped: number;
  /** Failed for now (platform down, 5xx, token refused); tried again after a backoff. */
  retrying: number;
  /** Still waiting for their backoff to end. */
  waiting: number;
}

export type { Outcome };

const PAGE = 256;

/**
 * Another queue delivered the same way (src/carrier/migration/finish.ts): its own kv namespace
 * of OutboxRows, its own sender, its name in logs and audit entries.
 */
export interface DeliveryQueue {
  ns: string;
  /** In logs and the drop's audit action (`<name>-dropped`). */
  name: string;
  send(row: OutboxRow): Promise<Outcome>;
}

const pick = (v: string | (() => string)) => (typeof v === "function" ? v() : v);

/**
 * Carrier → platform sync (src/carrier/README.md, "Platform sync"): queues device events in the
 * carrier's own store (outbox.ts) and delivers them to the carrier's custody record at the
 * platform (`POST /platform/custody/{carrier}/devices/{imei}/events`), retrying with backoff
 * until the platform answers. Delivery is at least once; the platform makes it idempotent (the
 * version of a status event, the earliest activation date), so repeats and late arrivals never
 * undo a newer state. Scheduling uses the wall clock, event dates the carrier's clock.
 */
export class PlatformSync {
  readonly #carrier: string;
  readonly #part: PartStore;
  readonly #owner: string;
  readonly #opts: PlatformSyncOptions;
  readonly #now: () => number;
  readonly #queue: DeliveryQueue | null;
  readonly #ns: string;
  readonly #name: string;
  /** Where delivery problems are reported (the app's logger, once mounted). */
  warn: (msg: string, err?: unknown) => void = () => undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<DeliveryPass> | undefined;
  #again = false;
  #stopped = true;
  /** Set by start(): stop() then ends a pass early (a pass called directly runs to its end). */
  #looping = false;

  /** `now`: the carrier's clock, for audit entries (scheduling uses the wall clock). */
  constructor(
    carrier: string,
    part: PartStore,
    opts: PlatformSyncOptions,
    now: () => number = Date.now,
    queue: DeliveryQueue | null = null,
  ) {
    this.#now = now;
    this.#queue = queue;
    this.#ns = queue?.ns ?? OUTBOX_NS;
    this.#name = queue?.name ?? "platform-sync";
    this.#carrier = carrier;
    this.#owner = `carrier:${carrier}`;
    this.#part = part;
    this.#opts = opts;
  }

  /** Inside the transaction that changed the device's status: its event, returning the version. */
  queueStatus(tx: PartStore, imei: string, event: StatusEvent, now: number): Promise<number> {
    return queueStatusEvent(tx, imei, event, now, Date.now());
  }

  /**
   * Inside the transaction that approved the device: its first activation date, once. Call
   * kick() after the commit so delivery starts at once.
   */
  queueActivated(tx: PartStore, imei: string, at: number): Promise<boolean> {
    return queueActivatedEvent(tx, imei, at, Date.now());
  }

  /**
   * Outside a transaction (after a committed approval of another flow): the same, in its own
   * transaction. A failure is logged, not thrown: the approval stands, only the platform's
   * activation date would lag.
   */
  async activated(imei: string, at: number): Promise<void> {
    try {
      const queued = await this.#part.transaction((tx) => this.queueActivated(tx, imei, at));
      if (queued) this.kick();
    } catch (err) {
      this.warn("platform sync: could not queue the activation date", err);
    }
  }

  /** Delivers from the outbox every `pollMs`, and at once after each kick. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#looping = true;
    this.#schedule(0);
  }

  /** Stops the loop and waits for a pass in flight; undelivered rows stay in the outbox. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running?.catch(() => undefined);
  }

  /** A delivery pass soon (after a new event). */
  kick(): void {
    if (this.#stopped) return;
    if (this.#running) this.#again = true;
    else this.#schedule(0);
  }

  /** Rows still in the outbox (delivered ones are gone). */
  async pending(): Promise<OutboxRow[]> {
    const rows: OutboxRow[] = [];
    for await (const e of this.#entries()) rows.push(rowOf(e));
    return rows;
  }

  /** One pass over the outbox: every row whose backoff has ended is tried once. */
  deliverDue(): Promise<DeliveryPass> {
    if (this.#running) return this.#running;
    this.#running = this.#pass().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.deliverDue()
        .catch((err: unknown) => this.warn(`${this.#name}: delivery pass failed`, err))
        .finally(() => {
          const again = this.#again;
          this.#again = false;
          this.#schedule(again ? 0 : (this.#opts.pollMs ?? DEFAULT_POLL_MS));
        });
    }, ms);
    this.#timer.unref();
  }

  async *#entries(): AsyncGenerator<KvEntry> {
    let after: string | undefined;
    for (;;) {
      const page = await this.#part.kv.list(this.#ns, {
        limit: PAGE,
        ...(after === undefined ? {} : { after }),
      });
      yield* page;
      if (page.length < PAGE) return;
      after = page[page.length - 1]!.key;
    }
  }

  async #pass(): Promise<DeliveryPass> {
    const pass: DeliveryPass = { delivered: 0, dropped: 0, retrying: 0, waiting: 0 };
    // In `up` the platform's URL is known only once the app listens: nothing to do before.
    if (!this.#queue && pick(this.#opts.url) === "") return pass;
    let batch: Due[] = [];
    for await (const e of this.#entries()) {
      if (this.#stopped && this.#looping) return pass;
      const row = rowOf(e);
      if (row.dueAt > Date.now()) {
        pass.waiting++;
        continue;
      }
      // Another queue's rows go to several places: each is tried, a failure ends nothing.
      if (this.#queue) {
        await this.#deliverOne({ e, row }, pass);
        continue;
      }
      batch.push({ e, row });
      if (batch.length < PAGE) continue;
      if (!(await this.#deliverBatch(batch, pass))) return pass;
      batch = [];
    }
    if (batch.length > 0 && !(this.#stopped && this.#looping))
      await this.#deliverBatch(batch, pass);
    return pass;
  }

  #target(): PlatformTarget {
    return {
      url: pick(this.#opts.url).replace(/\/+$/, ""),
      carrier: this.#carrier,
      token: pick(this.#opts.token),
      timeoutMs: this.#opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    };
  }

  /**
   * Due rows of the platform queue in one request; false when the platform could not take it
   * (down, or refusing this carrier's token): the rest of the outbox would fail alike (each
   * batch perhaps after a timeout), so it stays due for the next pass.
   */
  async #deliverBatch(batch: Due[], pass: DeliveryPass): Promise<boolean> {
    const answer = await sendBatch(
      this.#target(),
      batch.map((d) => d.row),
    ).catch((err: unknown) => ({ kind: "retry" as const, why: (err as Error).message }));
    if (answer.kind === "one-by-one") {
      for (const d of batch) if (!(await this.#deliverOne(d, pass))) return false;
      return true;
    }
    const outcomes = answer.kind === "retry" ? batch.map(() => answer) : answer.outcomes;
    const done: Array<Due & { outcome: Outcome }> = [];
    const failed: Array<Due & { why: string }> = [];
    batch.forEach((d, i) => {
      const outcome = outcomes[i]!;
      if (outcome.kind === "retry") failed.push({ ...d, why: outcome.why });
      else done.push({ ...d, outcome });
    });
    this.#count(pass, outcomes);
    await this.#settle(done);
    await this.#later(failed);
    return answer.kind !== "retry";
  }

  /** One row (another queue's, or the platform's one by one); false when it is to be retried. */
  async #deliverOne(d: Due, pass: DeliveryPass): Promise<boolean> {
    const outcome = await (this.#queue
      ? this.#queue.send(d.row)
      : sendOne(this.#target(), d.row)
    ).catch((err: unknown): Outcome => ({ kind: "retry", why: (err as Error).message }));
    this.#count(pass, [outcome]);
    if (outcome.kind === "retry") {
      await this.#later([{ ...d, why: outcome.why }]);
      return false;
    }
    await this.#settle([{ ...d, outcome }]);
    return true;
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
   * meanwhile. A drop is audited here (the event will never reach the platform); a delivery is
   * audited by the platform (`custody-event`), beside this carrier's own entry for the change.
   */
  async #settle(done: ReadonlyArray<Due & { outcome: Outcome }>): Promise<void> {
    if (done.length === 0) return;
    const now = this.#now();
    await this.#part.transaction(async (tx) => {
      for (const { e, row, outcome } of done) {
        const cur = await tx.kv.get(this.#ns, e.key);
        if (cur?.version === e.version) await tx.kv.delete(this.#ns, e.key);
        if (outcome.kind !== "dropped") continue;
        await tx.audit.append(
          {
            actor: this.#owner,
            action: `${this.#name}-dropped`,
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
  }

  /**
   * Backs failed rows off (one transaction): base × 2^(attempts), capped, with jitter so
   * retries spread. A row a newer event replaced meanwhile is left as it is: it is due now and
   * carries the newer state.
   */
  async #later(failed: ReadonlyArray<Due & { why: string }>): Promise<void> {
    if (failed.length === 0) return;
    const base = this.#opts.retryBaseMs ?? DEFAULT_RETRY_BASE_MS;
    const max = this.#opts.retryMaxMs ?? DEFAULT_RETRY_MAX_MS;
    const noted = failed.find((f) => f.row.attempts % 10 === 0);
    if (noted) {
      const more = failed.length > 1 ? ` (and ${failed.length - 1} more)` : "";
      this.warn(
        `${this.#name}: ${noted.row.event} ${noted.row.imei}${more}: ${noted.why}; retrying`,
      );
    }
    await this.#part.transaction(async (tx) => {
      for (const { e, row, why } of failed) {
        const delay = Math.min(max, base * 2 ** Math.min(row.attempts, 30));
        const next: OutboxRow = {
          ...row,
          attempts: row.attempts + 1,
          dueAt: Date.now() + Math.round(delay * (0.5 + Math.random() / 2)),
          lastError: why,
        };
        try {
          await tx.kv.put(this.#ns, e.key, next as unknown as JsonObject, {
            expectedVersion: e.version,
          });
        } catch (err) {
          if (!isStoreError(err, "VERSION_CONFLICT")) throw err;
        }
      }
    });
  }
}
