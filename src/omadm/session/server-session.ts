/** The server engine's state for one DM session (keyed by SessionID + client LocURI). */
import type { AuthScheme } from "../auth/schemes.js";
import type { Alert, Item, Results, Status } from "../model/message.js";
import { ObjectAssembler } from "./large-object.js";
import type { Draft, SentCommand, Unit } from "./packer.js";
import type { EngineReply } from "./reply.js";
import type { ServerClientRecord, ServerSessionView } from "./server-app.js";
import type { CommandResponse, OutCommand } from "./types.js";

/** A response being collected over the client's package (Status and Results may be apart). */
export interface OpenResponse {
  readonly command: OutCommand;
  code: number;
  status: Status | undefined;
  results: Results[];
  items: readonly Item[];
}

export function freezeResponse(r: OpenResponse): CommandResponse {
  // Built without spreads, once per answered command: see envelope.ts.
  if (r.status) {
    return {
      command: r.command,
      code: r.code,
      status: r.status,
      results: r.results.slice(),
      items: r.items,
    };
  }
  return { command: r.command, code: r.code, results: r.results.slice(), items: r.items };
}

export class ServerSession implements ServerSessionView {
  readonly sessionId: string;
  readonly clientUri: string;
  readonly key: string;
  readonly devInfo = new Map<string, string>();
  readonly locals = new Map<string, unknown>();
  readonly assembler: ObjectAssembler;

  record: ServerClientRecord | undefined;
  queue: OutCommand[] = [];
  aborting = false;
  ended = false;

  phase: "setup" | "management" = "setup";
  trigger = 0;
  pkg1Alerts: Alert[] = [];
  outMsgId = 0;
  lastInMsgId = 0;
  lastReply: { inMsgId: string; body: Uint8Array | undefined; reply: EngineReply } | undefined;
  peerMaxMsgSize: number | undefined;
  peerMaxObjSize: number | undefined;

  /** "session": 212 was given; "hmac": every message must carry a valid x-syncml-hmac. */
  clientAuth: false | "session" | "hmac" = false;
  /** The nonce this server issued in its last challenge in this session. */
  issuedNonce: Uint8Array | undefined;
  authFailures = 0;
  authMissing = 0;

  /** How this server authenticates to the client now (a client Chal may change it). */
  serverScheme: AuthScheme | undefined;
  serverNonce: Uint8Array | undefined;
  serverAuthed = false;
  serverChallenged = false;
  serverRefusals = 0;
  /** Set while processing a message whose Status refused this server's credentials. */
  headerRefused = false;

  outbox: Unit[] = [];
  readonly sent = new Map<string, SentCommand>();
  readonly open = new Map<Draft, OpenResponse>();
  packageResponses: OpenResponse[] = [];
  peerWantsMore = false;
  peerAborted = false;

  lastSeen: number;
  #lock: Promise<unknown> = Promise.resolve();

  constructor(sessionId: string, clientUri: string, key: string, now: number, maxObjSize?: number) {
    this.sessionId = sessionId;
    this.clientUri = clientUri;
    this.key = key;
    this.lastSeen = now;
    this.assembler = new ObjectAssembler(maxObjSize);
  }

  get clientName(): string | undefined {
    return this.clientAuth ? this.record?.client.name : undefined;
  }

  enqueue(...commands: OutCommand[]): void {
    this.queue.push(...commands);
  }

  abort(): void {
    this.aborting = true;
  }

  /** Runs one exchange at a time: a client must not race itself inside one session. */
  serialize<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(work, work);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  /** The open response for a sent command, created on first sight. */
  responseFor(draft: Draft): OpenResponse {
    let r = this.open.get(draft);
    if (!r) {
      r = { command: draft as OutCommand, code: 0, status: undefined, results: [], items: [] };
      this.open.set(draft, r);
      this.packageResponses.push(r);
    }
    return r;
  }
}
