import { parentPort } from "node:worker_threads";
import type { KeystoreEnvelope, KeystoreReplyEnvelope } from "./protocol.js";
import { KeystoreService } from "./service.js";
import { Vault } from "./vault.js";

/**
 * The software keystore's isolated thread: its only channel is `parentPort`. Every message is an
 * envelope `{ id, req }`, or an array of them, whose `req` the service validates; one without a
 * numeric id cannot be answered and is dropped. Nothing is logged here.
 */
if (!parentPort) throw new Error("the keystore worker must run in a worker thread");
const port = parentPort;
const service = new KeystoreService((dir, masterKeyFile) => Vault.open(dir, masterKeyFile));

/** A batch longer than this is not ours (the main thread sends one event-loop turn's requests). */
const MAX_BATCH = 4096;

// Replies finished in the same turn go back as one message, as requests come (software-keystore.ts).
let replies: KeystoreReplyEnvelope[] = [];
function reply(r: KeystoreReplyEnvelope): void {
  if (replies.push(r) > 1) return;
  setImmediate(() => {
    const out = replies;
    replies = [];
    port.postMessage(out.length === 1 ? out[0] : out);
  });
}

function accept(msg: unknown): void {
  const env = msg as Partial<KeystoreEnvelope> | null;
  if (typeof env !== "object" || env === null || typeof env.id !== "number") return;
  const id = env.id;
  void service.handle(env.req).then((r) => reply({ id, reply: r }));
}

port.on("message", (msg: unknown) => {
  if (!Array.isArray(msg)) return accept(msg);
  if (msg.length > MAX_BATCH) return;
  for (const env of msg) accept(env);
});
