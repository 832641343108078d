/** The backoff's delays, as the loop's timing options give them (defaults resolved). */
export interface BackoffTiming {
  baseMs: number;
  maxMs: number;
}

/**
 * When to try again after the `n`th failure in a row (n from 0): base × 2^n, capped at `maxMs`,
 * with jitter so that retries cut off together do not all come back in the same instant. Rows
 * and whole receivers back off alike.
 */
export function retryAt(n: number, t: BackoffTiming): number {
  const delay = Math.min(t.maxMs, t.baseMs * 2 ** Math.min(n, 30));
  return Date.now() + Math.round(delay * (0.5 + Math.random() / 2));
}

/** Where a failing receiver stands: how often in a row it failed, why, and when to try again. */
export interface ReceiverState {
  failures: number;
  /** Wall clock (epoch ms): no pass starts before it, whatever kicks the loop. */
  retryAt: number;
  why: string;
}

/**
 * The backoff of a whole receiver (a DeliveryLoop whose rows all go to one server): kept in
 * memory only, so a restart starts without it and tries at once. Kept apart from the rows'
 * own backoff because a receiver that is down judged none of them: writing attempts into each
 * would make every queued row wait its own growing delay once the receiver is back, and cost a
 * write per row per failure during the outage.
 */
export class ReceiverBackoff {
  #state: ReceiverState | undefined;

  get state(): ReceiverState | undefined {
    return this.#state;
  }

  /** Milliseconds still to wait (0: none). */
  waitMs(): number {
    return this.#state ? Math.max(0, this.#state.retryAt - Date.now()) : 0;
  }

  /** One more failure in a row: waits as retryAt says for it. */
  failed(why: string, timing: BackoffTiming): ReceiverState {
    const failures = (this.#state?.failures ?? 0) + 1;
    this.#state = { failures, retryAt: retryAt(failures - 1, timing), why };
    return this.#state;
  }

  /** The receiver answered: the next failure starts from the base delay again. */
  answered(): void {
    this.#state = undefined;
  }
}
