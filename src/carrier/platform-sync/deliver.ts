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

export type Outcome =
  | { kind: "delivered"; applied: boolean }
  | { kind: "dropped"; why: string }
  | { kind: "retry"; why: string };

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
    for await (const e of this.#entries()) {
      if (this.#stopped && this.#looping) break;
      const row = rowOf(e);
      if (row.dueAt > Date.now()) {
        pass.waiting++;
        continue;
      }
      const outcome = await (this.#queue ? this.#queue.send(row) : this.#send(row)).catch(
        (err: unknown): Outcome => ({ kind: "retry", why: (err as Error).message }),
      );
      if (outcome.kind === "retry") {
        pass.retrying++;
        await this.#later(e, row, outcome.why);
        // The platform is down or refuses this carrier's token: the other rows would fail
        // alike (each perhaps after a timeout). They stay due for the next pass. Another
        // queue's rows go to several places: each is tried.
        if (this.#queue) continue;
        break;
      } else {
        if (outcome.kind === "delivered") pass.delivered++;
        else pass.dropped++;
        await this.#settle(e, row, outcome);
      }
    }
    return pass;
  }

  async #send(row: OutboxRow): Promise<Outcome> {
    const body =
      row.event === "activated"
        ? { event: row.event, activatedAt: row.activatedAt }
        : { event: row.event, version: row.version };
    let res: Response;
    try {
      const url = pick(this.#opts.url).replace(/\/+$/, "");
      res = await fetch(`${url}/custody/${this.#carrier}/devices/${row.imei}/events`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${pick(this.#opts.token)}`,
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.#opts.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      return { kind: "retry", why: `platform unreachable (${cause ?? (err as Error).name})` };
    }
    const answer = (await res.json().catch(() => ({}))) as {
      applied?: boolean;
      error?: { code?: string };
    };
    if (res.ok) return { kind: "delivered", applied: answer.applied === true };
    const code = answer.error?.code ?? `HTTP ${res.status}`;
    // Not in this carrier's custody (never deposited) or an event the platform will never
    // take: retrying cannot help. A refused token can be fixed by the operator: keep trying.
    if (res.status === 404 || res.status === 400) return { kind: "dropped", why: code };
    return { kind: "retry", why: code };
  }

  /**
   * Removes a delivered or dropped row, unless a newer event replaced it meanwhile. A drop is
   * audited here (the event will never reach the platform); a delivery is audited by the
   * platform (`custody-event`), beside this carrier's own entry for the change itself.
   */
  async #settle(e: KvEntry, row: OutboxRow, outcome: Outcome): Promise<void> {
    const now = this.#now();
    await this.#part.transaction(async (tx) => {
      const cur = await tx.kv.get(this.#ns, e.key);
      if (cur?.version === e.version) await tx.kv.delete(this.#ns, e.key);
      if (outcome.kind !== "dropped") return;
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
    });
  }

  /** Backs a failed row off: base × 2^(attempts), capped, with jitter so retries spread. */
  async #later(e: KvEntry, row: OutboxRow, why: string): Promise<void> {
    const base = this.#opts.retryBaseMs ?? DEFAULT_RETRY_BASE_MS;
    const max = this.#opts.retryMaxMs ?? DEFAULT_RETRY_MAX_MS;
    const delay = Math.min(max, base * 2 ** Math.min(row.attempts, 30));
    const next: OutboxRow = {
      ...row,
      attempts: row.attempts + 1,
      dueAt: Date.now() + Math.round(delay * (0.5 + Math.random() / 2)),
      lastError: why,
    };
    if (row.attempts % 10 === 0) {
      this.warn(`${this.#name}: ${row.event} ${row.imei}: ${why}; retrying`);
    }
    try {
      await this.#part.kv.put(this.#ns, e.key, next as unknown as JsonObject, {
        expectedVersion: e.version,
      });
    } catch (err) {
      // A newer event replaced the row: it is due now and carries the newer state. Anything
      // else is the store failing, which the loop reports.
      if (!isStoreError(err, "VERSION_CONFLICT")) throw err;
    }
  }
}
