/**
 * Checkpoints of a SQLite file on a worker thread, away from the server's event loop.
 *
 * In WAL mode every commit appends pages to the WAL, and a checkpoint copies them back into the
 * database file and syncs it. Left to SQLite, the checkpoint runs inside the commit that crosses
 * `wal_autocheckpoint`: on the server's only thread, which then serves nothing until the copy
 * and the sync are done (tens of milliseconds for a busy carrier's WAL, every request waiting).
 * Here a second connection, in its own thread, checkpoints every `intervalMs`; the server's
 * commits only append.
 *
 * The server's connection keeps its `wal_autocheckpoint` as the fallback: if this thread falls
 * behind or dies, SQLite checkpoints inline as before, and the frames this thread has already
 * copied are not copied again. A checkpoint is SQLite's own, crash-safe wherever it runs.
 */
import type { Worker } from "node:worker_threads";
import { startSiblingWorker } from "../../threads/sibling-worker.js";

export interface CheckpointWorkerData {
  path: string;
  intervalMs: number;
  synchronous: "NORMAL" | "FULL";
}

export interface Checkpointer {
  /** Stops the thread after any checkpoint in progress; resolves once its connection is closed. */
  stop(): Promise<void>;
}

/** How long a close waits for the thread to finish its round before ending it. */
const STOP_GRACE_MS = 2_000;

/** The worker thread needs little: one connection, one timer. */
const YOUNG_GENERATION_MB = 1;
const OLD_GENERATION_MB = 16;

export function startCheckpointer(data: CheckpointWorkerData): Checkpointer {
  const worker: Worker = startSiblingWorker(import.meta.url, "checkpoint-worker", {
    workerData: data,
    resourceLimits: {
      maxYoungGenerationSizeMb: YOUNG_GENERATION_MB,
      maxOldGenerationSizeMb: OLD_GENERATION_MB,
    },
  });
  // Never the reason the process stays up. A failure leaves SQLite's inline checkpoint, which
  // fails no commit either, so it is said as a process warning (no secret: a path, SQLite's
  // message) rather than nowhere.
  worker.unref();
  const warn = (what: string) =>
    process.emitWarning(`${what}; SQLite checkpoints inline meanwhile`, "DmguardStoreWarning");
  worker.on("message", (m: { failed?: unknown }) => {
    if (typeof m?.failed === "string") warn(`checkpoint of ${data.path} failed: ${m.failed}`);
  });
  worker.on("error", (err) => warn(`checkpoint thread for ${data.path} ended: ${err.message}`));
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        // Held while it winds down, or a process with nothing else to do would end first.
        worker.ref();
        worker.postMessage("stop");
        // A thread stuck (booting, or in SQLite) must not hold the server's shutdown: a
        // checkpoint cut short is safe, SQLite's own recovery finishes it.
        const grace = setTimeout(() => {
          worker.terminate().catch(() => undefined);
        }, STOP_GRACE_MS);
        await exited;
        clearTimeout(grace);
      })();
      return stopping;
    },
  };
}
