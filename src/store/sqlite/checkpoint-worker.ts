/**
 * The background checkpointer's thread (checkpointer.ts): its own connection to the database
 * file, copying committed WAL frames back into the file every `intervalMs` with a PASSIVE
 * checkpoint, which never waits for and never blocks the server's connection. Ends on "stop".
 */
import { parentPort, workerData } from "node:worker_threads";
import Sqlite from "better-sqlite3";
import type { CheckpointWorkerData } from "./checkpointer.js";

const { path, intervalMs, synchronous } = workerData as CheckpointWorkerData;
const db = new Sqlite(path, { fileMustExist: true });
// The checkpointing connection's settings rule the checkpoint: it syncs as the server's own
// connection would, and it is the one that trims the WAL file back after a checkpoint.
db.pragma(`synchronous = ${synchronous}`);
db.pragma("journal_size_limit = 67108864");

const timer = setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch {
    // A failed round (a full disk, say) leaves the frames in the WAL for the next round or the
    // server's inline fallback, whose commit then reports the fault where a request sees it.
  }
}, intervalMs);

parentPort?.on("message", (msg: unknown) => {
  if (msg !== "stop") return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
