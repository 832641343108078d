/**
 * The bench's factory: phones made on worker threads (factory-line.ts), each a factory line
 * with its own copy of the OEM CA, because making a phone (the CA issuing its certificate, the
 * HPKE unwrapping of its slot key) costs the bench far more CPU than `up` spends on it, and one
 * thread left the second core idle. The lines are started before `up`, so that loading their
 * modules overlaps `up`'s start.
 */
import { Worker } from "node:worker_threads";
import type { JWK } from "jose";
import type { PinnedKey } from "../../src/device/tsz/state.js";
import type { LeanDevice } from "./lean-factory.js";

/** What the factory needs to know; its lines get all of it but `pinned` (LineSpec). */
export interface FactorySpec {
  /** The stack folder, where the OEM CA is kept. */
  readonly stackDir: string;
  readonly carrier: string;
  readonly carrierUrl: string;
  /** The carrier's admin bearer token (slot keys). */
  readonly token: string;
  readonly model: string;
  /**
   * The verdict keys as pinKey pins them. Never sent to the lines: `make` attaches these same
   * objects to every phone the lines send back, so the fleet shares one set.
   */
  readonly pinned: readonly PinnedKey[];
  /** Phones a line makes at once (their slot keys share keystore commits). */
  readonly lineConcurrency: number;
  /**
   * The platform's custody of the carrier's devices: each phone is deposited there, as
   * `device manufacture` deposits it.
   */
  readonly custody: {
    readonly url: string;
    readonly token: string;
    readonly transportKey: JWK;
  };
}

/** What a line is told: the factory's spec but the pinned keys, which only `make` attaches. */
export type LineSpec = Omit<FactorySpec, "pinned">;

/** What the bench tells a line: its spec once, then batches of IMEIs; an empty one closes it. */
export type LineOrder =
  | { readonly kind: "spec"; readonly spec: LineSpec }
  | { readonly kind: "make"; readonly imeis: readonly string[] };

/** What a line answers: ready once it has its spec, then each batch's phones. */
export type LineReport =
  | { readonly kind: "ready" }
  | { readonly kind: "made"; readonly devices: LeanDevice[] };

/** Phones handed to a line at a time: small enough that the lines finish together. */
const BATCH = 32;

interface Line {
  readonly worker: Worker;
  /** Settles when the worker stops: resolved on a clean exit. */
  readonly stopped: Promise<void>;
}

export class Factory {
  readonly #lines: Line[] = [];

  /** Starts `lines` factory lines; they load their code while the caller gets `up` going. */
  constructor(lines: number) {
    for (let i = 0; i < lines; i++) {
      const worker = new Worker(new URL("./factory-worker.mjs", import.meta.url));
      const stopped = new Promise<void>((resolve, reject) => {
        worker.on("error", reject);
        worker.on("exit", (code) =>
          code === 0 ? resolve() : reject(new Error(`a factory line exited with ${code}`)),
        );
      });
      // Observed here so that a line failing before `make` is not an unhandled rejection.
      stopped.catch(() => {});
      this.#lines.push({ worker, stopped });
    }
  }

  /** A phone for each IMEI, in their order; every line is closed when this settles. */
  async make(spec: FactorySpec, imeis: readonly string[]): Promise<LeanDevice[]> {
    const { pinned, ...lineSpec } = spec;
    const made = new Map<string, LeanDevice>();
    let next = 0;
    try {
      await Promise.all(
        this.#lines.map(({ worker, stopped }) => {
          worker.on("message", (r: LineReport) => {
            if (r.kind === "made") for (const d of r.devices) made.set(d.state.imei, d);
            const batch = imeis.slice(next, next + BATCH);
            next += BATCH;
            worker.postMessage({ kind: "make", imeis: batch } satisfies LineOrder);
          });
          worker.postMessage({ kind: "spec", spec: lineSpec } satisfies LineOrder);
          return stopped;
        }),
      );
    } finally {
      await this.close();
    }
    return imeis.map((imei) => {
      const d = made.get(imei);
      if (!d) throw new Error(`the factory made no phone ${imei}`);
      // The line left `pinned` empty: the fleet's keys go on here, the same objects for all.
      return { ...d, state: { ...d.state, pinned: [...pinned] }, trees: [] };
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#lines.map(({ worker }) => worker.terminate()));
  }
}
