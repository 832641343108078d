import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import type { Worker } from "node:worker_threads";
import { startSiblingWorker } from "../../threads/sibling-worker.js";
import { DeviceError } from "../errors.js";
import type { TszReplyEnvelope, TszResponse } from "./messages.js";

/**
 * A small pool of TSZ worker threads shared by many devices (the fleet simulator runs thousands
 * in one process). A device is routed to one worker by a hash of its directory, so its open state
 * lives in exactly one thread; each worker keeps each device's state apart (service.ts).
 *
 * Workers are started on first use and `unref`'d while idle, so an idle pool never keeps the
 * process alive. If a worker dies, its pending requests fail with `TSZ_UNAVAILABLE` and the next
 * request starts a fresh worker (its devices must be reopened: sessions lived in the dead thread).
 */
export interface TszPoolOptions {
  /** Worker threads; default min(2, available parallelism). */
  size?: number;
}

interface Pending {
  resolve: (r: TszResponse) => void;
  reject: (e: Error) => void;
}

interface Lane {
  worker: Worker | null;
  pending: Map<number, Pending>;
}

/** FNV-1a over the resolved directory: a stable worker for each device. */
function hashDir(dir: string): number {
  let h = 0x811c9dc5;
  for (const ch of resolve(dir)) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export class TszPool {
  readonly size: number;
  readonly #lanes: Lane[];
  #nextId = 1;
  #closed = false;

  constructor(opts: TszPoolOptions = {}) {
    const size = opts.size ?? Math.min(2, availableParallelism());
    if (!Number.isInteger(size) || size < 1 || size > 64)
      throw new RangeError("TSZ pool size must be 1-64");
    this.size = size;
    this.#lanes = Array.from({ length: size }, () => ({ worker: null, pending: new Map() }));
  }

  /** The worker index that serves the device in `dir`. */
  laneFor(dir: string): number {
    return hashDir(dir) % this.size;
  }

  /**
   * Sends one message body to worker `lane` and resolves with its reply. The body is untrusted
   * as far as the TSZ is concerned: it is validated there, whatever its type.
   */
  call(lane: number, body: unknown): Promise<TszResponse> {
    if (this.#closed)
      return Promise.reject(new DeviceError("TSZ_UNAVAILABLE", "the TSZ pool is closed"));
    const l = this.#lanes[lane];
    if (!l) return Promise.reject(new RangeError(`no TSZ worker ${lane}`));
    const worker = l.worker ?? this.#start(l);
    const id = this.#nextId++;
    return new Promise<TszResponse>((resolvePromise, reject) => {
      l.pending.set(id, { resolve: resolvePromise, reject });
      worker.ref();
      try {
        worker.postMessage({ id, body });
      } catch {
        // A body that cannot be structured-cloned never reaches the TSZ.
        l.pending.delete(id);
        if (l.pending.size === 0) worker.unref();
        resolvePromise({
          ok: false,
          error: { code: "TSZ_BAD_REQUEST", message: "the message cannot be sent to the TSZ" },
        });
      }
    });
  }

  #start(l: Lane): Worker {
    const w = startSiblingWorker(import.meta.url, "worker");
    l.worker = w;
    w.unref();
    w.on("message", (msg: TszReplyEnvelope) => {
      const p = l.pending.get(msg.id);
      if (!p) return;
      l.pending.delete(msg.id);
      if (l.pending.size === 0) w.unref();
      p.resolve(msg.response);
    });
    const fail = (why: string) => {
      if (l.worker === w) l.worker = null;
      const pending = [...l.pending.values()];
      l.pending.clear();
      for (const p of pending)
        p.reject(new DeviceError("TSZ_UNAVAILABLE", `the TSZ worker ${why}`));
    };
    w.on("error", (err) => fail(`failed: ${err.message}`));
    w.on("exit", (code) => fail(`exited with code ${code}`));
    return w;
  }

  /** Stops every worker; pending requests fail with `TSZ_UNAVAILABLE`. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#lanes.map((l) => l.worker?.terminate()));
  }
}

let shared: TszPool | undefined;

/** The process-wide pool that devices use unless given one. */
export function defaultTszPool(): TszPool {
  if (!shared) shared = new TszPool();
  return shared;
}

/** Closes the process-wide pool (a later `defaultTszPool()` makes a new one). */
export async function closeDefaultTszPool(): Promise<void> {
  const p = shared;
  shared = undefined;
  await p?.close();
}
