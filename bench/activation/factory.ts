/**
 * The bench's factory: phones made on worker threads (factory-line.ts), each a factory line
 * with its own copy of the OEM CA and its own HTTP client, because making a phone (the CA
 * issuing its certificate, the HPKE unwrapping of its slot key) costs the bench far more CPU
 * than `up` spends on it, and one thread left the second core idle. The lines are started
 * before `up`, so that loading their modules overlaps `up`'s start.
 */
import { Worker } from "node:worker_threads";
import type { PinnedKey } from "../../src/device/tsz/state.js";
import type { BenchHttp } from "./http-client.js";
import type { FactoryCarrier, LeanDevice } from "./lean-factory.js";

/** What every factory line needs to know. */
export interface FactorySpec {
  /** The stack folder, where the OEM CA is kept. */
  readonly stackDir: string;
  readonly carrier: string;
  readonly carrierUrl: string;
  /** The carrier's admin bearer token (slot keys). */
  readonly token: string;
  readonly model: string;
  /** The verdict keys as pinKey pins them; every phone gets these same objects. */
  readonly pinned: readonly PinnedKey[];
  /** Phones a line makes at once (their slot keys share keystore commits). */
  readonly lineConcurrency: number;
}

/** What the bench tells a line: its spec once, then batches of IMEIs; an empty one closes it. */
export type LineOrder =
  | { readonly kind: "spec"; readonly spec: FactorySpec }
  | { readonly kind: "make"; readonly imeis: readonly string[] };

/** What a line answers: ready once it has its spec, then each batch's phones. */
export type LineReport =
  | { readonly kind: "ready" }
  | { readonly kind: "made"; readonly devices: LeanDevice[] };

/** Phones handed to a line at a time: small enough that the lines finish together. */
const BATCH = 32;

/** The carrier's slot-key call (its admin API, POST slot-keys) over the bench's HTTP client. */
export function factoryCarrier(
  http: BenchHttp,
  id: string,
  carrierUrl: string,
  token: string,
): FactoryCarrier {
  return {
    id,
    slotKey: (hpkePublicKey: Uint8Array) =>
      http.postJson(
        `${carrierUrl}/slot-keys`,
        { hpkePublicKey: Buffer.from(hpkePublicKey).toString("base64url") },
        token,
      ),
  };
}

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
          worker.postMessage({ kind: "spec", spec } satisfies LineOrder);
          return stopped;
        }),
      );
    } finally {
      await this.close();
    }
    return imeis.map((imei) => {
      const d = made.get(imei);
      if (!d) throw new Error(`the factory made no phone ${imei}`);
      // Structured cloning copied the pinned keys per phone: share the fleet's again.
      return { ...d, state: { ...d.state, pinned: [...spec.pinned] }, trees: [] };
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#lines.map(({ worker }) => worker.terminate()));
  }
}
