/**
 * A second writer in another thread, with its own database connection. It opens the store,
 * says "ready", then runs each job it is sent (audit appends or nonce consumes, all at once)
 * and answers with the results; "close" ends it.
 */
import { parentPort, workerData } from "node:worker_threads";
import { type OpenStoreOptions, openStore } from "../../src/store/index.js";

export interface PeerSetup {
  url: string;
  opts: OpenStoreOptions;
}

export type PeerJob =
  | { op: "append"; part: string; now: number; count: number }
  | { op: "consume"; part: string; now: number; nonces: string[] }
  | { op: "close" };

const setup = workerData as PeerSetup;
const port = parentPort;
if (!port) throw new Error("run me as a worker thread");
const store = await openStore(setup.url, { ...setup.opts, migrate: false });
port.on("message", async (job: PeerJob) => {
  try {
    if (job.op === "close") {
      await store.close();
      port.close();
      return;
    }
    const p = store.part(job.part);
    const result =
      job.op === "append"
        ? (
            await Promise.all(
              Array.from({ length: job.count }, (_, i) =>
                p.audit.append({ actor: "worker", action: "race", details: { i } }, job.now),
              ),
            )
          ).map((e) => e.seq)
        : (await Promise.all(job.nonces.map((n) => p.nonces.consume(n, job.now)))).map(
            (r) => r.status,
          );
    port.postMessage({ result });
  } catch (err) {
    port.postMessage({ error: String(err) });
  }
});
port.postMessage("ready");
