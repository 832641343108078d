/**
 * Evidence attestation on a worker thread, away from a server's event loop.
 *
 * Checking an evidence's certificate chain and signature is the largest piece of CPU in an
 * activation (parsing the device certificate alone is over 100 µs with Node 20's OpenSSL 3.0,
 * whose key decoding is slow), and it needs nothing of the server but the evidence and the
 * trust anchors. On the event loop it holds up every other request meanwhile; here it runs on
 * the machine's other core. One thread per process, shared by every server in it (`up` runs
 * two carriers and the platform): each thread is a V8 isolate, megabytes of resident memory.
 *
 * Requests made in one run of the microtask queue cross as one message (a microtask rather than
 * the keystore's next turn of the loop: here each request is hundreds of µs of work, so the
 * wait would cost more than the extra messages). The thread is `unref`'d while nothing is
 * pending. Should it fail or exit, what it had pending is verified on the calling thread
 * instead, and the next request starts a new one: a server never loses an answer to it, only
 * the offload. A thread that keeps dying before its first answer (a module missing from the
 * build, say) is not started again and again: after MAX_SILENT_DEATHS the process verifies on
 * its own thread, and says so once as a process warning.
 */
import type { Worker } from "node:worker_threads";
import { startSiblingWorker } from "../threads/sibling-worker.js";
import { type AttestationResult, type TrustAnchor, verifyAttestation } from "./attestation.js";

export type AttestationRequest =
  | { kind: "anchors"; set: number; pems: string[] }
  | { kind: "verify"; id: number; set: number; evidence: string; at: number };

/** `result` null: the thread could not answer; the caller verifies in its own thread. */
export interface AttestationReply {
  id: number;
  result: AttestationResult | null;
}

interface Pending {
  evidence: string;
  anchors: readonly TrustAnchor[];
  at: number;
  resolve: (r: AttestationResult) => void;
  reject: (e: unknown) => void;
}

/**
 * Its live data is the anchors and the chain cache (attestation.ts, a bounded number of
 * walked chains); a small young generation keeps the garbage of each request from growing
 * into the server's resident memory.
 */
const RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 };

/** Threads in a row that end before answering anything, after which none is started. */
const MAX_SILENT_DEATHS = 3;

export class AttestationThread {
  #worker: Worker | null = null;
  readonly #pending = new Map<number, Pending>();
  /** Anchor sets the current worker has, by the id its requests name them with. */
  #sets = new WeakMap<readonly TrustAnchor[], number>();
  #nextSet = 1;
  #nextId = 1;
  #queue: AttestationRequest[] = [];
  #fallbacks = 0;
  #silentDeaths = 0;
  #started = 0;

  /** `entry`: the worker module beside this one (another only to test a thread that fails). */
  constructor(readonly entry = "attestation-worker") {}

  /** Worker threads started so far. */
  get threadsStarted(): number {
    return this.#started;
  }

  /** Requests verified on the calling thread because the thread could not answer them. */
  get fallbacks(): number {
    return this.#fallbacks;
  }

  verify(
    evidence: string,
    anchors: readonly TrustAnchor[],
    at: number,
  ): Promise<AttestationResult> {
    if (this.#silentDeaths >= MAX_SILENT_DEATHS) {
      this.#fallbacks++;
      return verifyAttestation(evidence, anchors, new Date(at));
    }
    const worker = this.#worker ?? this.#start();
    let set = this.#sets.get(anchors);
    if (set === undefined) {
      set = this.#nextSet++;
      this.#sets.set(anchors, set);
      this.#enqueue({ kind: "anchors", set, pems: anchors.map((a) => a.pem) });
    }
    const id = this.#nextId++;
    return new Promise<AttestationResult>((resolve, reject) => {
      this.#pending.set(id, { evidence, anchors, at, resolve, reject });
      worker.ref();
      this.#enqueue({ kind: "verify", id, set, evidence, at });
    });
  }

  /**
   * Ends the thread now. What it had pending is verified on the calling thread; the next
   * request starts a new thread.
   */
  async terminate(): Promise<void> {
    await this.#worker?.terminate();
  }

  #enqueue(m: AttestationRequest): void {
    if (this.#queue.push(m) === 1) queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    const batch = this.#queue;
    this.#queue = [];
    this.#worker?.postMessage(batch);
  }

  #start(): Worker {
    const worker = startSiblingWorker(import.meta.url, this.entry, {
      resourceLimits: RESOURCE_LIMITS,
    });
    worker.unref();
    this.#started++;
    let answered = false;
    worker.on("message", (replies: AttestationReply[]) => {
      answered = true;
      for (const r of replies) this.#settle(r.id, r.result);
    });
    const lost = () => {
      if (this.#worker !== worker) return;
      this.#worker = null;
      this.#silentDeaths = answered ? 0 : this.#silentDeaths + 1;
      if (this.#silentDeaths === MAX_SILENT_DEATHS) {
        process.emitWarning(
          `the attestation thread ended ${MAX_SILENT_DEATHS} times before answering; ` +
            "evidence is verified on the server's own thread from now on",
          "DmguardAttestationWarning",
        );
      }
      this.#sets = new WeakMap();
      this.#queue = [];
      for (const id of [...this.#pending.keys()]) this.#settle(id, null);
    };
    worker.on("error", lost);
    worker.on("exit", lost);
    this.#worker = worker;
    return worker;
  }

  #settle(id: number, result: AttestationResult | null): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#worker?.unref();
    if (result !== null) {
      p.resolve(result);
      return;
    }
    this.#fallbacks++;
    verifyAttestation(p.evidence, p.anchors, new Date(p.at)).then(p.resolve, p.reject);
  }
}

let shared: AttestationThread | undefined;

/** verifyAttestation at time `at` (ms since the epoch), on the process's attestation thread. */
export function verifyAttestationOffThread(
  evidence: string,
  anchors: readonly TrustAnchor[],
  at: number,
): Promise<AttestationResult> {
  shared ??= new AttestationThread();
  return shared.verify(evidence, anchors, at);
}
