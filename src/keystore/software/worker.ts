import { parentPort } from "node:worker_threads";
import type { KeystoreEnvelope, KeystoreReplyEnvelope } from "./protocol.js";
import { KeystoreService } from "./service.js";
import { Vault } from "./vault.js";

/**
 * The software keystore's isolated thread: its only channel is `parentPort`. Every message is an
 * envelope `{ id, req }` whose `req` the service validates; one without a numeric id cannot be
 * answered and is dropped. Nothing is logged here.
 */
if (!parentPort) throw new Error("the keystore worker must run in a worker thread");
const port = parentPort;
const service = new KeystoreService((dir, masterKeyFile) => Vault.open(dir, masterKeyFile));

port.on("message", (msg: unknown) => {
  const env = msg as Partial<KeystoreEnvelope> | null;
  if (typeof env !== "object" || env === null || typeof env.id !== "number") return;
  const id = env.id;
  void service.handle(env.req).then((reply) => {
    port.postMessage({ id, reply } satisfies KeystoreReplyEnvelope);
  });
});
