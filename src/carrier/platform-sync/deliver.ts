import type { PartStore } from "../../store/index.js";
import { DeliveryLoop, type DeliveryPass, type Sender } from "./delivery-loop.js";
import { DEFAULT_TIMEOUT_MS, type PlatformSyncOptions } from "./options.js";
import {
  OUTBOX_NS,
  type OutboxRow,
  queueActivatedEvent,
  queueStatusEvent,
  type StatusEvent,
} from "./outbox.js";
import type { ReceiverState } from "./receiver-backoff.js";
import { type PlatformTarget, sendBatch, sendOne } from "./send.js";

/** The most events the platform's batch route takes in one request. */
const BATCH_MAX = 256;

const pick = (v: string | (() => string)) => (typeof v === "function" ? v() : v);

/**
 * The platform's sender: due rows in batches to `POST /platform/custody/{carrier}/events`, one
 * by one to `…/devices/{imei}/events` when the platform cannot judge a batch as a whole. URL
 * and token are read at each send (they may change while the app runs).
 */
function platformSender(carrier: string, opts: PlatformSyncOptions): Sender {
  const target = (): PlatformTarget => ({
    url: pick(opts.url).replace(/\/+$/, ""),
    carrier,
    token: pick(opts.token),
    timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  });
  return {
    one: (row) => sendOne(target(), row),
    batch: { max: BATCH_MAX, send: (rows) => sendBatch(target(), rows) },
    oneReceiver: true,
    // In `up` the platform's URL is known only once the app listens: nothing to do before.
    ready: () => pick(opts.url) !== "",
  };
}

/**
 * Carrier → platform sync (src/carrier/README.md, "Platform sync"): queues device events in the
 * carrier's own store (outbox.ts) and delivers them to the carrier's custody record at the
 * platform with a DeliveryLoop (delivery-loop.ts: backoff, scheduling, crash-safe removal),
 * retrying until the platform answers. Delivery is at least once; the platform makes it
 * idempotent (the version of a status event, the earliest activation date), so repeats and late
 * arrivals never undo a newer state.
 */
export class PlatformSync {
  readonly #part: PartStore;
  readonly #loop: DeliveryLoop;

  /** `now`: the carrier's clock, for audit entries (scheduling uses the wall clock). */
  constructor(
    carrier: string,
    part: PartStore,
    opts: PlatformSyncOptions,
    now: () => number = Date.now,
  ) {
    this.#part = part;
    this.#loop = new DeliveryLoop({
      part,
      ns: OUTBOX_NS,
      name: "platform-sync",
      actor: `carrier:${carrier}`,
      sender: platformSender(carrier, opts),
      timing: opts,
      now,
    });
  }

  /** Where delivery problems are reported (the app's logger, once mounted). */
  get warn(): (msg: string, err?: unknown) => void {
    return this.#loop.warn;
  }

  set warn(fn: (msg: string, err?: unknown) => void) {
    this.#loop.warn = fn;
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

  /** Delivers from the outbox as rows fall due (at least every `pollMs`) and after each kick. */
  start(): void {
    this.#loop.start();
  }

  /** Stops the loop and waits for a pass in flight; undelivered rows stay in the outbox. */
  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /** A delivery pass now (after a new event committed), or right after the one in flight. */
  kick(): void {
    this.#loop.kick();
  }

  /** While the platform fails every request: how often in a row, why, and the next try. */
  get platformBackoff(): ReceiverState | undefined {
    return this.#loop.receiverBackoff;
  }

  /** Rows still in the outbox (delivered ones are gone). */
  pending(): Promise<OutboxRow[]> {
    return this.#loop.pending();
  }

  /** One pass over the outbox: every row whose backoff has ended is tried once. */
  deliverDue(): Promise<DeliveryPass> {
    return this.#loop.deliverDue();
  }
}
