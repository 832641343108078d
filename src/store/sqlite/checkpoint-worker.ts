/**
 * The background checkpointer's thread (checkpointer.ts): its own connection to the database
 * file, copying committed WAL frames back into the file every `intervalMs` with a PASSIVE
 * checkpoint, which never waits for and never blocks the server's connection. Ends on "stop".
 */
import { parentPort, workerData } from "node:worker_threads";
import Sqlite from "better-sqlite3";
import type { CheckpointWorkerData } from "./checkpointer.js";

const { path, intervalMs, synchronous } = workerData as CheckpointWorkerData;
// No busy timeout: a connection that cannot read (a lock held elsewhere) fails at once rather
// than sleeping inside SQLite, where a close would have to wait for it (checkpointer.ts).
const db = new Sqlite(path, { fileMustExist: true, timeout: 0 });
// The checkpointing connection's setting rules the checkpoint's syncs: as the server's would.
db.pragma(`synchronous = ${synchronous}`);

/** Whether the last round failed: a failure is reported once, not every round it lasts. */
let failing = false;

const timer = setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
    failing = false;
  } catch (err) {
    // A failed round (a full disk, say) leaves the frames in the WAL for the next round or the
    // server's inline fallback. Neither fails a commit, so the server is told here.
    if (!failing)
      parentPort?.postMessage({ failed: err instanceof Error ? err.message : String(err) });
    failing = true;
  }
}, intervalMs);

parentPort?.on("message", (msg: unknown) => {
  if (msg !== "stop") return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
