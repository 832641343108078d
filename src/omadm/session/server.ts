/**
 * The OMA DM server engine, transport-neutral (OMA-TS-DM_Protocol §2.3 packages 1–4, §2.1
 * multiple messages, §2.2 large objects, §2.4 authentication). One `handle` call per client
 * message; the reply is encoded here because its size decides how the package is split and,
 * under HMAC, its exact bytes are signed.
 */
import { makeCred } from "../auth/cred.js";
import { HMAC_HEADER, signBody } from "../auth/hmac.js";
import { decodeNonce } from "../auth/nonce.js";
import { type AuthScheme, schemeFromTypeUri } from "../auth/schemes.js";
import { type Limits, ProtocolError } from "../errors.js";
import type {
  Command,
  Cred,
  Encoding,
  Item,
  Results,
  Status,
  SyncHdr,
  SyncMLMessage,
} from "../model/message.js";
import { AlertCode, StatusCode } from "../status.js";
import { defaultCodec, type MessageCodec } from "./codec-port.js";
import {
  alertCode,
  alertDraft,
  commandStatus,
  headerStatus,
  makeHeader,
  wantsStatus,
} from "./envelope.js";
import { type Draft, pack, type Unit } from "./packer.js";
import type { EngineReply } from "./reply.js";
import type { DmServerApp, ServerSessionView } from "./server-app.js";
import { type AuthDeps, authenticateClient } from "./server-auth.js";
import { freezeResponse, type OpenResponse, ServerSession } from "./server-session.js";
import { isThenable } from "./settle.js";
import type { Awaitable, CommandResponse, OutCommand, SessionOutcome } from "./types.js";

export interface DmServerOptions {
  /** This server's LocURI, the Source of its messages. */
  readonly serverUri: string;
  readonly app: DmServerApp;
  readonly codec?: MessageCodec;
  /** Scheme demanded of clients the application does not know (default md5). */
  readonly defaultScheme?: AuthScheme;
  /** MaxMsgSize this server accepts, advertised in every SyncHdr (default 64 KiB). */
  readonly maxMsgSize?: number;
  /** MaxObjSize this server accepts for a large object (default 4 MiB). */
  readonly maxObjSize?: number;
  /** Idle time after which a session is forgotten (default 5 minutes). */
  readonly sessionTtlMs?: number;
  /** Most concurrent sessions (default 10,000). */
  readonly maxSessions?: number;
  /**
   * "always": the server puts its credentials in its first authenticated message; "challenged":
   * only after the client asks (a 401/407 with Chal). Default "always".
   */
  readonly serverCredentials?: "always" | "challenged";
  /** A RespURI for the session's next client message (§2.4.1 "sent to the RespURI"). */
  readonly respUri?: (session: ServerSessionView) => string | undefined;
  readonly limits?: Partial<Limits>;
  readonly now?: () => number;
}

export interface HandleContext {
  readonly encoding: Encoding;
  /** The request's x-syncml-hmac header, when present. */
  readonly hmacHeader?: string | undefined;
  /** The request body exactly as received: needed for HMAC and to recognise retransmissions. */
  readonly rawBody?: Uint8Array | undefined;
}

const SESSION_ALERTS = new Set<number>([
  AlertCode.SERVER_INITIATED_MGMT,
  AlertCode.CLIENT_INITIATED_MGMT,
]);

export class DmServer {
  readonly #opts: Required<
    Pick<
      DmServerOptions,
      "serverUri" | "app" | "codec" | "maxMsgSize" | "maxObjSize" | "sessionTtlMs" | "maxSessions"
    >
  > &
    DmServerOptions;
  readonly #auth: AuthDeps;
  readonly #sessions = new Map<string, ServerSession>();
  readonly #now: () => number;

  constructor(opts: DmServerOptions) {
    this.#opts = {
      codec: defaultCodec,
      maxMsgSize: 64 * 1024,
      maxObjSize: 4 * 1024 * 1024,
      sessionTtlMs: 5 * 60_000,
      maxSessions: 10_000,
      ...opts,
    };
    this.#auth = { app: opts.app, defaultScheme: opts.defaultScheme ?? "md5", maxMissing: 2 };
    this.#now = opts.now ?? Date.now;
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  get codec(): MessageCodec {
    return this.#opts.codec;
  }

  /**
   * Decoding limits: the codec's defaults unless configured. Not MaxMsgSize itself: WBXML text
   * decodes larger than its bytes (string table references), and a client over MaxMsgSize is
   * still better answered than refused.
   */
  get limits(): Partial<Limits> {
    return { ...this.#opts.limits };
  }

  /** Decodes a request body and handles it; throws ProtocolError for malformed input. */
  async handleBody(body: Uint8Array, hmacHeader?: string): Promise<EngineReply> {
    const { message, encoding } = this.#opts.codec.decode(body, this.limits);
    return this.handle(message, { encoding, hmacHeader, rawBody: body });
  }

  async handle(message: SyncMLMessage, ctx: HandleContext): Promise<EngineReply> {
    const hdr = message.header;
    const now = this.#now();
    this.#sweep(now);
    const key = `${hdr.sessionId}\u0000${hdr.source.locUri}`;
    let s = this.#sessions.get(key);
    const starts = message.body.commands.some((c) => SESSION_ALERTS.has(alertCode(c)));
    if (s && starts && hdr.msgId === "1" && s.lastInMsgId !== 1) {
      // The client restarted the session under the same SessionID: the old one is over.
      this.#end(s, "expired");
      s = undefined;
    }
    if (!s) {
      if (!starts) {
        throw new ProtocolError("SESSION_INVALID", "no DM session with this SessionID and Source", {
          path: "SyncML/SyncHdr/SessionID",
        });
      }
      if (this.#sessions.size >= this.#opts.maxSessions) {
        throw new ProtocolError("SESSION_INVALID", "too many concurrent DM sessions");
      }
      s = new ServerSession(hdr.sessionId, hdr.source.locUri, key, now, this.#opts.maxObjSize);
    }
    // Re-insert to keep the map in least-recently-used order for the sweep.
    this.#sessions.delete(key);
    this.#sessions.set(key, s);
    s.lastSeen = now;
    const session = s;
    return session.serialize(async () => {
      try {
        return await this.#step(session, message, ctx);
      } catch (err) {
        // A ProtocolError refuses one message; anything else (an application callback failing)
        // leaves the session in an unknown state, so it ends rather than going on half-done.
        if (!(err instanceof ProtocolError)) this.#end(session, "error");
        throw err;
      }
    });
  }

  /**
   * Ends the sessions idle longer than `sessionTtlMs`. Each message does this too; a server
   * calls it on a timer so that abandoned sessions are freed while no message comes.
   */
  expireIdle(): void {
    this.#sweep(this.#now());
  }

  #sweep(now: number): void {
    for (const s of this.#sessions.values()) {
      if (now - s.lastSeen <= this.#opts.sessionTtlMs) break;
      this.#end(s, "expired");
    }
  }

  #end(s: ServerSession, outcome: SessionOutcome): void {
    if (s.ended) return;
    s.ended = true;
    this.#sessions.delete(s.key);
    const done = this.#opts.app.onSessionEnd?.(s, outcome);
    if (done instanceof Promise) done.catch(() => undefined);
  }

  async #step(s: ServerSession, msg: SyncMLMessage, ctx: HandleContext): Promise<EngineReply> {
    const hdr = msg.header;
    if (s.lastReply && s.lastReply.inMsgId === hdr.msgId) {
      // A retransmission (the reply was lost): answer it again, change nothing.
      const before = s.lastReply.body;
      if (ctx.rawBody && before && Buffer.from(ctx.rawBody).equals(before))
        return s.lastReply.reply;
      throw new ProtocolError("SESSION_INVALID", "MsgID reused for a different message", {
        path: "SyncML/SyncHdr/MsgID",
      });
    }
    const msgNum = Number(hdr.msgId);
    if (!Number.isSafeInteger(msgNum) || msgNum <= s.lastInMsgId) {
      throw new ProtocolError(
        "SESSION_INVALID",
        `MsgID ${hdr.msgId} is not after ${s.lastInMsgId}`,
        {
          path: "SyncML/SyncHdr/MsgID",
        },
      );
    }
    s.lastInMsgId = msgNum;
    if (hdr.meta?.maxMsgSize !== undefined) s.peerMaxMsgSize = hdr.meta.maxMsgSize;
    if (hdr.meta?.maxObjSize !== undefined) s.peerMaxObjSize = hdr.meta.maxObjSize;

    const reply = await this.#respond(s, msg, ctx);
    s.lastReply = { inMsgId: hdr.msgId, body: ctx.rawBody, reply };
    return reply;
  }

  async #respond(s: ServerSession, msg: SyncMLMessage, ctx: HandleContext): Promise<EngineReply> {
    const hdr = msg.header;
    const checked = authenticateClient(this.#auth, s, msg, ctx);
    const auth = isThenable(checked) ? await checked : checked;
    const responses: Draft[] = [];
    if (!hdr.noResp) responses.push(headerStatus(hdr, auth.code, { chal: auth.chal }));
    if (!auth.ok) {
      // OMA-TS-DM_Security §5.1.3.4: a nonce the unauthenticated client issued this server is
      // used for this reply (or the two sides never meet again) but not stored.
      const offered = msg.body.commands.find(
        (c): c is Status =>
          c.kind === "Status" && c.cmdRef === "0" && c.chal?.meta.nextNonce !== undefined,
      );
      if (offered && s.record?.server) s.serverNonce = decodeNonce(offered.chal!.meta.nextNonce);
      // §2.4.1: only Status commands, one for every command received.
      for (const cmd of msg.body.commands) {
        if (wantsStatus(cmd)) responses.push(commandStatus(hdr.msgId, cmd, auth.code));
      }
      return this.#send(
        s,
        hdr,
        ctx,
        toUnits(responses),
        true,
        auth.gaveUp ? "auth-failed" : undefined,
        "challenge",
      );
    }

    s.peerWantsMore = false;
    s.headerRefused = msg.body.commands.some(
      (c) =>
        c.kind === "Status" &&
        c.cmdRef === "0" &&
        (c.code === StatusCode.INVALID_CREDENTIALS || c.code === StatusCode.MISSING_CREDENTIALS),
    );
    for (const raw of msg.body.commands) {
      const cmd = this.#assemble(s, hdr, raw, responses);
      if (!cmd) continue;
      const pending = this.#receive(s, hdr, cmd, responses);
      if (pending !== undefined) await pending;
    }

    if (s.peerAborted) {
      return this.#send(s, hdr, ctx, toUnits(responses), true, "aborted-by-peer");
    }

    // Arrays here are built by loops, not spreads: spreads of arrays that are sometimes empty
    // made the optimised engine code bail out and be recompiled several times per process.
    const units = toUnits(responses);
    if (!msg.body.final) {
      if (s.outbox.length > 0 && s.peerWantsMore) {
        for (const u of s.outbox) units.push(u);
        return this.#send(s, hdr, ctx, units, true);
      }
      // §2.1.2 "Next Message" response: Status, Alert 1222, nothing else, no Final.
      units.push(toUnit(alertDraft(AlertCode.NEXT_MESSAGE)));
      return this.#send(s, hdr, ctx, units, false, undefined, "next-message");
    }
    const completed = this.#packageComplete(s);
    const next = isThenable(completed) ? await completed : completed;
    const queued = s.queue;
    for (const c of queued) s.outbox.push(toUnit(c));
    queued.length = 0;
    for (const c of next) s.outbox.push(toUnit(c));
    for (const u of s.outbox) units.push(u);
    return this.#send(s, hdr, ctx, units, true);
  }

  /** Feeds large-object chunks to the assembler (§2.2); returns the command to process, if any. */
  #assemble(s: ServerSession, hdr: SyncHdr, cmd: Command, responses: Draft[]): Command | undefined {
    const transparent =
      cmd.kind === "Status" || (cmd.kind === "Alert" && alertCode(cmd) === AlertCode.NEXT_MESSAGE);
    if (s.assembler.pending && !transparent && !s.assembler.continues(cmd)) {
      const ref = s.assembler.abandon();
      responses.push(alertDraft(AlertCode.NO_END_OF_DATA, ref ? [ref] : []));
    }
    const step = s.assembler.feed(cmd);
    switch (step.kind) {
      case "whole":
        return step.command;
      case "chunk":
        responses.push(commandStatus(hdr.msgId, cmd, StatusCode.CHUNKED_ITEM_ACCEPTED));
        return undefined;
      case "too-large":
        responses.push(commandStatus(hdr.msgId, cmd, StatusCode.REQUEST_ENTITY_TOO_LARGE));
        return undefined;
      case "complete":
        if (step.sizeMismatch) {
          responses.push(commandStatus(hdr.msgId, cmd, StatusCode.SIZE_MISMATCH));
          return undefined;
        }
        return step.command;
    }
  }

  /** Handles one client command; a promise only when an application callback returned one. */
  #receive(
    s: ServerSession,
    hdr: SyncHdr,
    cmd: Command,
    responses: Draft[],
  ): undefined | Promise<void> {
    const reply = (code: number): undefined => {
      if (wantsStatus(cmd)) responses.push(commandStatus(hdr.msgId, cmd, code));
      return undefined;
    };
    switch (cmd.kind) {
      case "Status":
        return this.#onStatus(s, cmd);
      case "Results":
        this.#onResults(s, cmd);
        return undefined;
      case "Alert": {
        const code = alertCode(cmd);
        if (SESSION_ALERTS.has(code)) {
          if (s.phase === "setup") s.trigger = code;
          return reply(StatusCode.OK);
        }
        if (code === AlertCode.NEXT_MESSAGE) {
          s.peerWantsMore = true;
          return reply(StatusCode.OK);
        }
        if (code === AlertCode.SESSION_ABORT) {
          s.peerAborted = true;
          return reply(StatusCode.OK);
        }
        // §2.5.2: user-interaction alerts only go server to client; one from a client is ignored.
        if (code >= AlertCode.DISPLAY && code <= AlertCode.MULTIPLE_CHOICE)
          return reply(StatusCode.OK);
        if (s.phase === "setup") s.pkg1Alerts.push(cmd);
        const answer = this.#opts.app.onAlert?.(s, {
          code,
          correlator: cmd.correlator,
          items: cmd.items,
        });
        if (isThenable(answer))
          return Promise.resolve(answer).then((a) => reply(a ?? StatusCode.OK));
        return reply(answer ?? StatusCode.OK);
      }
      case "Replace": {
        // §2.3.3: the client's only tree-shaped command is the DevInfo Replace.
        const items = cmd.items;
        for (const item of items) {
          if (!itemUri(item).startsWith("./DevInfo/")) return reply(StatusCode.COMMAND_NOT_ALLOWED);
        }
        for (const item of items) {
          const d = item.data;
          s.devInfo.set(
            itemUri(item),
            d === undefined ? "" : typeof d === "string" ? d : Buffer.from(d).toString("utf8"),
          );
        }
        return reply(StatusCode.OK);
      }
      default:
        // §2.3: a client sends no other command.
        return reply(StatusCode.COMMAND_NOT_ALLOWED);
    }
  }

  #onStatus(s: ServerSession, st: Status): undefined | Promise<void> {
    if (st.cmdRef === "0") return this.#onHeaderStatus(s, st);
    const entry = s.sent.get(`${st.msgRef}:${st.cmdRef}`);
    if (!entry || entry.draft.kind === "Status" || entry.draft.kind === "Results") return;
    if (entry.draft.kind === "Alert" && isEngineAlert(entry.draft.data)) return;
    if (entry.chunk) {
      if (st.code === StatusCode.CHUNKED_ITEM_ACCEPTED) return;
      // The client refused a chunk: the rest of that object is not sent.
      s.outbox = s.outbox.filter((u) => u.origin !== entry.draft);
    }
    if (
      s.headerRefused &&
      (st.code === StatusCode.INVALID_CREDENTIALS || st.code === StatusCode.MISSING_CREDENTIALS)
    ) {
      // Not executed for want of this server's credentials: send again, with them.
      if (!s.outbox.some((u) => u.draft === entry.top) && entry.top === entry.draft) {
        s.outbox.unshift({ draft: entry.top });
      }
      return;
    }
    const r = s.responseFor(entry.draft);
    r.code = st.code;
    r.status = st;
    r.items = st.items;
    return;
  }

  #onHeaderStatus(s: ServerSession, st: Status): undefined | Promise<void> {
    const record = s.record;
    const nonce = st.chal?.meta.nextNonce;
    if (st.code === StatusCode.AUTHENTICATION_ACCEPTED || st.code === StatusCode.OK) {
      if (st.code === StatusCode.AUTHENTICATION_ACCEPTED) s.serverAuthed = true;
      s.serverRefusals = 0;
    } else if (
      st.code === StatusCode.INVALID_CREDENTIALS ||
      st.code === StatusCode.MISSING_CREDENTIALS
    ) {
      s.serverChallenged = true;
      s.serverAuthed = false;
      s.serverRefusals++;
      const scheme = schemeFromTypeUri(st.chal?.meta.type);
      if (scheme) s.serverScheme = scheme;
      if (s.serverRefusals > 2 || !record?.server) s.aborting = true;
    } else {
      return;
    }
    // The client is authenticated by now (this message passed authenticateClient), so the nonce
    // it issues this server may be stored (OMA-TS-DM_Security §5.1.3.4).
    if (nonce !== undefined && record?.server) {
      const next = decodeNonce(nonce);
      s.serverNonce = next;
      const saved = this.#opts.app.saveNonce?.(record.client.name, "server", next);
      if (isThenable(saved)) return Promise.resolve(saved).then(() => undefined);
    }
    return;
  }

  #onResults(s: ServerSession, res: Results): void {
    const msgRef = res.msgRef ?? String(s.outMsgId);
    const entry = s.sent.get(`${msgRef}:${res.cmdRef}`);
    if (!entry || entry.draft.kind === "Status" || entry.draft.kind === "Results") return;
    s.responseFor(entry.draft).results.push(res);
  }

  /**
   * The client's package is complete: hand its responses over, take the next commands. A
   * promise only when an application callback returned one (see settle.ts).
   */
  #packageComplete(s: ServerSession): Awaitable<readonly OutCommand[]> {
    const app = this.#opts.app;
    const collected = s.packageResponses;
    s.packageResponses = [];
    const frozen: CommandResponse[] = [];
    for (const r of collected) {
      if (r.code === 0 && r.results.length === 0) continue;
      s.open.delete(r.command);
      frozen.push(freezeResponse(r));
    }
    if (app.onResponse !== undefined && frozen.length > 0) return this.#respondThenNext(s, frozen);
    return this.#nextCommands(s, frozen);
  }

  /** Each response to the application in turn, waiting for each, then the next commands. */
  async #respondThenNext(
    s: ServerSession,
    frozen: readonly CommandResponse[],
  ): Promise<readonly OutCommand[]> {
    const app = this.#opts.app;
    for (let i = 0; i < frozen.length; i++) await app.onResponse?.(s, frozen[i]!);
    return this.#nextCommands(s, frozen);
  }

  #nextCommands(
    s: ServerSession,
    frozen: readonly CommandResponse[],
  ): Awaitable<readonly OutCommand[]> {
    const app = this.#opts.app;
    let next: Awaitable<readonly OutCommand[] | undefined>;
    if (s.phase === "setup") {
      s.phase = "management";
      const start = { trigger: s.trigger, devInfo: s.devInfo, alerts: s.pkg1Alerts };
      next = app.onSessionStart?.(s, start);
    } else {
      next = app.onPackage?.(s, frozen);
    }
    if (isThenable(next)) return Promise.resolve(next).then((cmds) => cmds ?? []);
    return next ?? [];
  }

  #serverCred(s: ServerSession): Cred | undefined {
    const server = s.record?.server;
    if (!server || s.serverAuthed || !s.clientAuth) return undefined;
    if (this.#opts.serverCredentials === "challenged" && !s.serverChallenged) return undefined;
    const scheme = s.serverScheme ?? server.scheme;
    if (scheme === "hmac") return undefined;
    return makeCred(scheme, {
      name: server.name,
      secret: server.secret,
      nonce: s.serverNonce ?? server.nonce,
    });
  }

  #signs(s: ServerSession): boolean {
    const server = s.record?.server;
    if (!server || !s.clientAuth) return false;
    if (this.#opts.serverCredentials === "challenged" && !s.serverChallenged) return false;
    return (s.serverScheme ?? server.scheme) === "hmac";
  }

  #send(
    s: ServerSession,
    hdr: SyncHdr,
    ctx: HandleContext,
    units: Unit[],
    mayFinish: boolean,
    endWith?: SessionOutcome,
    /**
     * "next-message" (§2.1.2) and "challenge" (§2.4.1) replies carry none of the outbox, which
     * keeps waiting, and never complete the session.
     */
    mode: "package" | "next-message" | "challenge" = "package",
  ): EngineReply {
    let outcome = endWith;
    if (s.aborting && !outcome) {
      // §2.3.1: Alert 1223 with Final; statuses for what was received, no new commands.
      units = [
        ...units.filter((u) => u.draft.kind === "Status"),
        toUnit(alertDraft(AlertCode.SESSION_ABORT)),
      ];
      s.outbox = [];
      mayFinish = true;
      outcome = "aborted";
    } else if (outcome) {
      units = units.filter((u) => u.draft.kind === "Status");
      mayFinish = true;
    }
    const msgId = ++s.outMsgId;
    const server = s.record?.server;
    const cred = this.#serverCred(s);
    const respUri = outcome ? undefined : this.#opts.respUri?.(s);
    const source: { locUri: string; locName?: string } = { locUri: this.#opts.serverUri };
    if (server && (cred || this.#signs(s))) source.locName = server.name;
    const header = makeHeader({
      sessionId: hdr.sessionId,
      msgId,
      target: { locUri: hdr.source.locUri },
      source,
      respUri,
      cred,
      maxMsgSize: this.#opts.maxMsgSize,
      maxObjSize: this.#opts.maxObjSize,
    });
    const packed = pack({
      header,
      units,
      maxMsgSize: s.peerMaxMsgSize,
      maxObjSize: s.peerMaxObjSize,
      mayFinish,
      encode: (m) => this.#opts.codec.encode(m, ctx.encoding),
    });
    // Statuses are never answered, so only commands are kept for matching replies.
    for (const e of packed.sent) {
      if (e.draft.kind !== "Status") s.sent.set(`${msgId}:${e.cmdId}`, e);
    }
    // A "Next Message" response carries none of the outbox: what was waiting still waits.
    if (!outcome) s.outbox = mode === "package" ? packed.rest : [...packed.rest, ...s.outbox];
    for (const u of packed.refused) {
      const origin = u.origin ?? u.draft;
      if (origin.kind === "Status" || origin.kind === "Results") continue;
      const r: OpenResponse = s.responseFor(origin);
      r.code = StatusCode.REQUEST_ENTITY_TOO_LARGE;
    }
    const sentCommands = packed.sent.some((e) => e.draft.kind !== "Status");
    if (!outcome && packed.final && !sentCommands && mode === "package") outcome = "completed";

    const headers: Record<string, string> = {};
    if (this.#signs(s) && server) {
      headers[HMAC_HEADER] = signBody(
        server.name,
        server.secret,
        s.serverNonce ?? server.nonce,
        packed.body,
      );
    }
    const ended = outcome !== undefined;
    if (outcome) this.#end(s, outcome);
    return {
      message: packed.message,
      body: packed.body,
      encoding: ctx.encoding,
      mediaType: this.#opts.codec.mediaType(ctx.encoding),
      headers,
      ended,
    };
  }
}

function toUnit(draft: Draft): Unit {
  return { draft };
}

function toUnits(drafts: readonly Draft[]): Unit[] {
  const units: Unit[] = [];
  for (let i = 0; i < drafts.length; i++) units.push({ draft: drafts[i]! });
  return units;
}

/** The node a client's Replace item names: its Source, else its Target. */
function itemUri(item: Item): string {
  return item.source?.locUri ?? item.target?.locUri ?? "";
}

/** Alerts the engine itself sends (1222, 1223, 1225): their statuses are its own business. */
function isEngineAlert(data: string | undefined): boolean {
  const code = Number(data);
  return (
    code === AlertCode.NEXT_MESSAGE ||
    code === AlertCode.SESSION_ABORT ||
    code === AlertCode.NO_END_OF_DATA
  );
}
