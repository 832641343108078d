import { mkdir, realpath } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Worker } from "node:worker_threads";
import { startSiblingWorker } from "../../threads/sibling-worker.js";
import { isKeystoreErrorCode, KeystoreError } from "../errors.js";
import { keystoreFromDriver } from "../facade.js";
import type { EcPublicJwk, WrappedKey } from "../hpke-suite.js";
import type { CreatedDeviceKey, Keystore, KeystoreDriver, SigningPublicJwk } from "../types.js";
import type {
  KeystoreEnvelope,
  KeystoreReply,
  KeystoreReplyEnvelope,
  KeystoreRequest,
} from "./protocol.js";

export interface SoftwareKeystoreOptions {
  /** The data directory (created 0700 if missing): holds `keystore.sealed` and the lock. */
  dir: string;
  /**
   * The 32-byte master key file; default `<dir>/master.key`. Created (0600) on first start when
   * missing and no sealed keystore exists; must not be readable by group or others.
   */
  masterKeyFile?: string;
}

/** Data directories open in this process: a second open of one fails KEYSTORE_LOCKED. */
const openDirs = new Set<string>();

/**
 * The keystore's worker thread. Its live data is small (records, opened keys) but it allocates
 * per request; left to V8's defaults its young generation grows to tens of MB of garbage in the
 * server's RSS.
 */
function startWorker(): Worker {
  return startSiblingWorker(import.meta.url, "worker", {
    resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
  });
}

/** The worker's young generation cap: scavenges stay cheap (little survives a request). */
const YOUNG_GENERATION_MB = 8;

/** Requests per message to the worker (worker.ts takes up to 4096). */
const BATCH = 1024;

interface Pending {
  resolve: (r: KeystoreReply) => void;
  reject: (e: Error) => void;
}

/**
 * The main thread's end of one keystore worker: sends requests, matches replies. `send` takes
 * any value, because the worker trusts nothing it receives (tests use it to send garbage).
 * The worker is `unref`'d while nothing is pending, so an idle keystore never keeps the process
 * alive.
 */
export class KeystoreWorker {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  /** Requests of this turn of the event loop, posted together (see #flush). */
  #queue: KeystoreEnvelope[] = [];
  #nextId = 1;
  #dead: KeystoreError | null = null;

  constructor() {
    this.#worker = startWorker();
    this.#worker.unref();
    this.#worker.on("message", (msg: KeystoreReplyEnvelope | KeystoreReplyEnvelope[]) => {
      if (Array.isArray(msg)) for (const m of msg) this.#settle(m);
      else this.#settle(msg);
    });
    const fail = (why: string) => {
      this.#dead ??= new KeystoreError("KEYSTORE_UNAVAILABLE", `the keystore worker ${why}`);
      const pending = [...this.#pending.values()];
      this.#pending.clear();
      for (const p of pending) p.reject(this.#dead);
    };
    // Only the error's code (e.g. ERR_MODULE_NOT_FOUND) is kept: its message is not ours to vet.
    this.#worker.on("error", (err: Error & { code?: unknown }) =>
      fail(`failed${typeof err.code === "string" ? ` (${err.code.slice(0, 40)})` : ""}`),
    );
    this.#worker.on("exit", (code) => fail(`exited (code ${code})`));
  }

  #settle(msg: KeystoreReplyEnvelope): void {
    const p = this.#pending.get(msg.id);
    if (!p) return;
    this.#pending.delete(msg.id);
    if (this.#pending.size === 0) this.#worker.unref();
    p.resolve(msg.reply);
  }

  /**
   * Sends one request body and resolves with the worker's reply envelope. Requests made in the
   * same turn of the event loop (a server under load makes many) cross to the worker as one
   * message, and the worker answers them alike: a message wakes the other thread, which costs
   * more than the HMAC or signature most requests are.
   */
  send(req: unknown): Promise<KeystoreReply> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    return new Promise<KeystoreReply>((resolvePromise, reject) => {
      this.#pending.set(id, { resolve: resolvePromise, reject });
      this.#worker.ref();
      if (this.#queue.push({ id, req }) === 1) setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    const batch = this.#queue;
    this.#queue = [];
    if (this.#dead) {
      for (const e of batch) this.#pending.get(e.id)?.reject(this.#dead);
      for (const e of batch) this.#pending.delete(e.id);
      return;
    }
    for (let i = 0; i < batch.length; i += BATCH) this.#post(batch.slice(i, i + BATCH));
  }

  #post(batch: KeystoreEnvelope[]): void {
    try {
      this.#worker.postMessage(batch.length === 1 ? batch[0] : batch);
      return;
    } catch {
      // Some request cannot be structured-cloned: send them one by one to find which.
    }
    for (const e of batch) {
      try {
        this.#worker.postMessage(e);
      } catch {
        // A value that cannot be structured-cloned never reaches the worker.
        this.#settle({
          id: e.id,
          reply: {
            ok: false,
            error: { code: "BAD_REQUEST", message: "the request cannot be sent to the keystore" },
          },
        });
      }
    }
  }

  /** Sends a typed request; resolves with its result or rejects with a `KeystoreError`. */
  async call<T>(req: KeystoreRequest): Promise<T> {
    const reply = await this.send(req);
    if (reply.ok) return reply.result as T;
    const code = isKeystoreErrorCode(reply.error.code) ? reply.error.code : "INTERNAL";
    throw new KeystoreError(code, reply.error.message);
  }

  async terminate(): Promise<void> {
    this.#dead ??= new KeystoreError("KEYSTORE_CLOSED", "the keystore is closed");
    await this.#worker.terminate();
  }
}

/**
 * Opens the software keystore in `opts.dir`: starts its worker thread, which reads the master
 * key, opens (or creates) the sealed file and takes the directory's lock.
 * Errors: MASTER_KEY_*, SEALED_FILE_CORRUPT, KEYSTORE_LOCKED.
 */
export async function openSoftwareKeystore(opts: SoftwareKeystoreOptions): Promise<Keystore> {
  await mkdir(resolve(opts.dir), { recursive: true, mode: 0o700 });
  const dir = await realpath(resolve(opts.dir));
  const masterKeyFile = resolve(opts.masterKeyFile ?? join(dir, "master.key"));
  if (openDirs.has(dir))
    throw new KeystoreError(
      "KEYSTORE_LOCKED",
      `the keystore in ${dir} is already open in this process`,
    );
  openDirs.add(dir);
  const worker = new KeystoreWorker();
  try {
    await worker.call({ op: "open", dir, masterKeyFile });
  } catch (err) {
    openDirs.delete(dir);
    await worker.terminate();
    throw err;
  }
  return keystoreFromDriver(softwareDriver(worker, dir));
}

function softwareDriver(w: KeystoreWorker, dir: string): KeystoreDriver {
  let closing: Promise<void> | null = null;
  return {
    ensureSigningKey: (owner, label) =>
      w.call<SigningPublicJwk>({ op: "ensureSigningKey", owner, label }),
    signJws: (owner, label, payload, header) =>
      w.call<string>({ op: "signJws", owner, label, payload, header }),
    ensureSecretKey: async (owner, label) => {
      await w.call<null>({ op: "ensureSecretKey", owner, label });
    },
    hmac: (owner, label, data) => w.call<Uint8Array>({ op: "hmac", owner, label, data }),
    verifyHmac: (owner, label, data, mac) =>
      w.call<boolean>({ op: "verifyHmac", owner, label, data, mac }),
    createDeviceKey: (owner, recipient, kid, extractable, custody) =>
      w.call<CreatedDeviceKey>({
        op: "createDeviceKey",
        owner,
        recipient,
        kid,
        extractable,
        custody,
      }),
    verifyKeyProof: (owner, kid, message, mac) =>
      w.call<boolean>({ op: "verifyKeyProof", owner, kid, message, mac }),
    keyCheckValue: (owner, kid, label) =>
      w.call<Uint8Array>({ op: "keyCheckValue", owner, kid, label }),
    wrapDeviceKey: (owner, kid, recipient) =>
      w.call<WrappedKey>({ op: "wrapDeviceKey", owner, kid, recipient }),
    importDeviceKey: (owner, wrapped) =>
      w.call<{ kid: string }>({ op: "importDeviceKey", owner, wrapped }),
    destroyKey: async (owner, kid) => {
      await w.call<null>({ op: "destroyKey", owner, kid });
    },
    transportPublicKey: () => w.call<EcPublicJwk>({ op: "transportPublicKey" }),
    close: () => {
      closing ??= (async () => {
        try {
          await w.call<null>({ op: "close" });
        } catch {
          // A dead worker holds nothing to flush; its lock is taken over on the next open.
        } finally {
          await w.terminate();
          openDirs.delete(dir);
        }
      })();
      return closing;
    },
  };
}
