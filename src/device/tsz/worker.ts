import { parentPort } from "node:worker_threads";
import type { TszEnvelope, TszReplyEnvelope } from "./messages.js";
import { TszService } from "./service.js";

/**
 * A TSZ worker thread: the isolated secure world of every device routed to it. Its only channel
 * is `parentPort`; each message is an envelope `{ id, body }` whose body the service validates.
 * A message without a numeric id cannot be answered and is dropped.
 */
if (!parentPort) throw new Error("the TSZ worker must run in a worker thread");
const port = parentPort;
const service = new TszService();

port.on("message", (msg: unknown) => {
  const env = msg as Partial<TszEnvelope> | null;
  if (typeof env !== "object" || env === null || typeof env.id !== "number") return;
  const id = env.id;
  void service.handle(env.body).then((response) => {
    port.postMessage({ id, response } satisfies TszReplyEnvelope);
  });
});
