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
  // Never the reason the process stays up; an error ends the thread and the fallback remains.
  worker.unref();
  worker.on("error", () => {});
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        // Held while it winds down, or a process with nothing else to do would end first.
        worker.ref();
        worker.postMessage("stop");
        await exited;
      })();
      return stopping;
    },
  };
}
