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
 *
 * The thread is never terminated from outside. A worker terminated while inside a
 * better-sqlite3 call aborts the whole process when the call returns (V8's fatal "ToLocalChecked
 * Empty MaybeLocal", seen with Node 20 and better-sqlite3 12: the addon builds its answer or its
 * error in an isolate that is being torn down). So a close waits for the round in progress,
 * which always ends: its connection has no busy timeout (checkpoint-worker.ts), and a PASSIVE
 * checkpoint waits for nobody.
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

/** How long a close waits for the thread's round before saying it is still waiting. */
const STOP_WARN_MS = 2_000;

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
  worker.on("error", (err: unknown) =>
    warn(`checkpoint thread for ${data.path} ended: ${describeThreadError(err)}`),
  );
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        // Held while it winds down, or a process with nothing else to do would end first.
        worker.ref();
        worker.postMessage("stop");
        // Not terminated (see the top of this file): a slow round, a large WAL on a slow disk,
        // is waited for, and said, so that a slow shutdown has its reason in the log.
        const slow = setTimeout(() => {
          process.emitWarning(
            `the checkpoint of ${data.path} is still running; the close waits for it`,
            "DmguardStoreWarning",
          );
        }, STOP_WARN_MS);
        await exited;
        clearTimeout(slow);
      })();
      return stopping;
    },
  };
}

/**
 * What ended the thread, in a warning's words. An error of better-sqlite3's own class reaches
 * this thread as a plain object holding only its `code` (SQLITE_BUSY, SQLITE_IOERR_READ…): its
 * message does not cross the thread boundary.
 */
function describeThreadError(err: unknown): string {
  if (err instanceof Error && err.message !== "") return err.message;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string") return `SQLite error ${code.slice(0, 40)}`;
  return "an error that did not cross the thread boundary";
}
