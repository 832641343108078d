/**
 * The OMA DM client engine, transport-neutral: it holds the device's management tree and one
 * DM account, and runs a whole session per `start` (OMA-TS-DM_Protocol §2.3: Package 1 Alert
 * 1201/1200 + DevInfo, then Status/Results for each server package until a package with no
 * management command), with authentication both ways (§2.4), multiple messages (§2.1) and
 * large objects (§2.2) in both directions.
 */
import { randomInt } from "node:crypto";
import { HMAC_HEADER } from "../auth/hmac.js";
import { type AuthScheme, schemeFromAccountType } from "../auth/schemes.js";
import { type Limits, ProtocolError } from "../errors.js";
import type {
  Command,
  Encoding,
  Item,
  ItemData,
  Meta,
  Status,
  SyncMLMessage,
} from "../model/message.js";
import { AlertCode, StatusCode } from "../status.js";
import type { DmAccount } from "../tree/std/dmacc.js";
import type { ManagementTree } from "../tree/types.js";
import { ClientAuth, type NonceUpdate } from "./client-auth.js";
import { defaultCodec, type MessageCodec } from "./codec-port.js";
import {
  alertCode,
  alertDraft,
  commandStatus,
  headerStatus,
  makeHeader,
  wantsStatus,
} from "./envelope.js";
import { type ExecutorHooks, executeNow } from "./executor.js";
import { ObjectAssembler } from "./large-object.js";
import { type Draft, pack, type SentCommand, type Unit } from "./packer.js";
import { isThenable } from "./settle.js";
import type { DmTransport } from "./transport.js";
import type { Awaitable, OutCommand, SessionOutcome } from "./types.js";

export const DEVINFO_NODES = ["DevId", "Man", "Mod", "DmV", "Lang"] as const;

/** Their URIs, built once: the same strings each session are cheap for the tree to look up. */
const DEVINFO_URIS: readonly string[] = DEVINFO_NODES.map((name) => `./DevInfo/${name}`);

export interface DmClientHooks extends ExecutorHooks {
  /** Persist nonces (e.g. `updateDmAccountNonces`); called only with nonces safe to keep. */
  persistNonces?(update: NonceUpdate): Awaitable<void>;
  /** The server's Status for a command this client sent (a generic alert, say). */
  onServerStatus?(command: OutCommand, status: Status): Awaitable<void>;
}

export interface DmClientOptions {
  readonly tree: ManagementTree;
  readonly account: DmAccount;
  readonly transport: DmTransport;
  readonly encoding?: Encoding;
  readonly codec?: MessageCodec;
  readonly hooks?: DmClientHooks;
  /** This device's LocURI; default the tree's ./DevInfo/DevId. */
  readonly clientUri?: string;
  /** MaxMsgSize this client accepts, advertised in its SyncHdr (default 16 KiB). */
  readonly maxMsgSize?: number;
  /** MaxObjSize this client accepts for a large object (default 1 MiB). */
  readonly maxObjSize?: number;
  /**
   * Send credentials in Package 1 before being challenged (default true: authentication is
   * pre-configured by the account, §2.4.2); false waits for the server's 407.
   */
  readonly preemptiveAuth?: boolean;
  /** Check the server's credentials (default: when the account holds SRVCRED name and secret). */
  readonly requireServerAuth?: boolean;
  /** Bound on messages per session, against a server that never ends one (default 500). */
  readonly maxMessages?: number;
  readonly limits?: Partial<Limits>;
}

export type SessionTrigger =
  | { readonly kind: "client-initiated" }
  /** After a server notification (OMA-TS-DM_Notification): its SessionID is reused. */
  | { readonly kind: "server-initiated"; readonly sessionId: string };

export interface ClientSessionResult {
  readonly outcome: SessionOutcome;
  readonly sessionId: string;
  /** Messages this client sent. */
  readonly messages: number;
  /** Server commands answered (nested ones included). */
  readonly commands: number;
}

export class DmClient {
  readonly #opts: DmClientOptions;
  readonly #codec: MessageCodec;
  readonly #alerts: OutCommand[] = [];

  constructor(opts: DmClientOptions) {
    this.#opts = opts;
    this.#codec = opts.codec ?? defaultCodec;
  }

  /**
   * Queues a Generic Alert (1226, §2.3.7) for the next session's Package 1 (or the next package
   * of a running one): e.g. the result of an asynchronous Exec, with its Correlator.
   */
  queueGenericAlert(alert: { correlator?: string; items: readonly Item[] }): void {
    this.#alerts.push({
      kind: "Alert",
      data: String(AlertCode.GENERIC_ALERT),
      ...(alert.correlator !== undefined ? { correlator: alert.correlator } : {}),
      items: alert.items,
    });
  }

  async start(
    trigger: SessionTrigger = { kind: "client-initiated" },
  ): Promise<ClientSessionResult> {
    const run = new ClientRun(this.#opts, this.#codec, trigger, this.#alerts.splice(0));
    return run.run();
  }
}

type Step = { kind: "end"; outcome: SessionOutcome } | { kind: "send"; out: Outgoing };

interface Outgoing {
  readonly body: Uint8Array;
  readonly headers: Record<string, string>;
}

/** One session of the client. */
class ClientRun {
  readonly #o: DmClientOptions;
  readonly #codec: MessageCodec;
  readonly #encoding: Encoding;
  readonly #auth: ClientAuth;
  readonly #assembler: ObjectAssembler;
  readonly #sessionId: string;
  readonly #clientUri: string;
  readonly #trigger: number;
  readonly #pkg1Alerts: OutCommand[];
  #url: string;
  #msgId = 0;
  #lastServerMsgId = 0;
  #sent = new Map<string, SentCommand>();
  #outbox: Unit[] = [];
  #serverMaxMsgSize: number | undefined;
  #serverMaxObjSize: number | undefined;
  /** The server's current package has had its Final. */
  #serverClosed = false;
  /** The server's current package held something that needs an answer. */
  #packageNeedsReply = false;
  #messages = 0;
  #commands = 0;
  #devInfoItems: Item[] | undefined;

  constructor(
    o: DmClientOptions,
    codec: MessageCodec,
    trigger: SessionTrigger,
    alerts: OutCommand[],
  ) {
    this.#o = o;
    this.#codec = codec;
    this.#encoding = o.encoding ?? "xml";
    const account = o.account;
    const scheme: AuthScheme = schemeFromAccountType(account.authType) ?? "md5";
    const requireServer =
      o.requireServerAuth ?? (account.server.name !== "" && account.server.secret !== "");
    this.#auth = new ClientAuth(
      scheme,
      account.client,
      account.server,
      requireServer,
      async (u) => {
        await o.hooks?.persistNonces?.(u);
      },
    );
    this.#auth.preemptive = o.preemptiveAuth ?? true;
    this.#assembler = new ObjectAssembler(o.maxObjSize ?? 1024 * 1024);
    this.#sessionId =
      trigger.kind === "server-initiated" ? trigger.sessionId : String(randomInt(1, 0x10000));
    this.#trigger =
      trigger.kind === "server-initiated"
        ? AlertCode.SERVER_INITIATED_MGMT
        : AlertCode.CLIENT_INITIATED_MGMT;
    const devId = this.#devInfo().find((i) => i.source?.locUri === "./DevInfo/DevId")?.data;
    this.#clientUri =
      o.clientUri ??
      (typeof devId === "string" ? devId : devId ? Buffer.from(devId).toString("utf8") : "");
    this.#url = account.serverUri;
    this.#pkg1Alerts = alerts;
  }

  /** The ./DevInfo leaves for Package 1 (§2.3.3), read once per session. */
  #devInfo(): Item[] {
    if (this.#devInfoItems) return this.#devInfoItems;
    const items: Item[] = [];
    for (const uri of DEVINFO_URIS) {
      const item = this.#o.tree.get(uri, this.#o.account.serverId).items[0];
      if (!item) continue;
      const out: { source: { locUri: string }; meta: Meta; data?: ItemData } = {
        source: { locUri: uri },
        meta: { format: item.meta?.format ?? "chr", type: item.meta?.type ?? "text/plain" },
      };
      if (item.data !== undefined) out.data = item.data;
      items.push(out);
    }
    this.#devInfoItems = items;
    return items;
  }

  /** Package 1: the session alert, DevInfo (§2.3.3), then any client alerts. */
  #pkg1(): Unit[] {
    const units: Unit[] = [
      { draft: alertDraft(this.#trigger) },
      { draft: { kind: "Replace", items: this.#devInfo() } },
    ];
    for (const draft of this.#pkg1Alerts) units.push({ draft });
    return units;
  }

  async run(): Promise<ClientSessionResult> {
    let out: Outgoing | undefined = this.#build(this.#pkg1(), true);
    let outcome: SessionOutcome = "completed";
    const max = this.#o.maxMessages ?? 500;
    while (out) {
      if (this.#messages >= max) {
        outcome = "error";
        break;
      }
      this.#messages++;
      const res = await this.#o.transport({
        url: this.#url,
        body: out.body,
        mediaType: this.#codec.mediaType(this.#encoding),
        headers: out.headers,
      });
      if (this.#ending) {
        outcome = this.#ending;
        break;
      }
      const { message } = this.#codec.decode(res.body, this.#o.limits);
      const step = await this.#receive(message, res.headers[HMAC_HEADER], res.body);
      if (step.kind === "end") {
        outcome = step.outcome;
        break;
      }
      out = step.out;
    }
    return {
      outcome,
      sessionId: this.#sessionId,
      messages: this.#messages,
      commands: this.#commands,
    };
  }

  /** Set when this client sent Alert 1223: the reply to it is ignored (§2.3.1). */
  #ending: SessionOutcome | undefined;

  async #receive(
    msg: SyncMLMessage,
    hmacHeader: string | undefined,
    raw: Uint8Array,
  ): Promise<Step> {
    const step = await this.#read(msg, hmacHeader, raw);
    // Nonces decided on this message are stored before the answer leaves.
    if (this.#auth.hasUnsaved) await this.#auth.flush();
    return step;
  }

  async #read(msg: SyncMLMessage, hmacHeader: string | undefined, raw: Uint8Array): Promise<Step> {
    const hdr = msg.header;
    const msgNum = Number(hdr.msgId);
    if (hdr.sessionId !== this.#sessionId) {
      throw new ProtocolError(
        "SESSION_INVALID",
        `reply for SessionID ${hdr.sessionId}, not ${this.#sessionId}`,
        {
          path: "SyncML/SyncHdr/SessionID",
        },
      );
    }
    if (!Number.isSafeInteger(msgNum) || msgNum <= this.#lastServerMsgId) {
      throw new ProtocolError(
        "SESSION_INVALID",
        `MsgID ${hdr.msgId} is not after ${this.#lastServerMsgId}`,
        {
          path: "SyncML/SyncHdr/MsgID",
        },
      );
    }
    this.#lastServerMsgId = msgNum;
    if (hdr.respUri) this.#url = hdr.respUri;
    if (hdr.meta?.maxMsgSize !== undefined) this.#serverMaxMsgSize = hdr.meta.maxMsgSize;
    if (hdr.meta?.maxObjSize !== undefined) this.#serverMaxObjSize = hdr.meta.maxObjSize;

    const cmds = msg.body.commands;
    const isManagement = (c: Command) =>
      c.kind !== "Status" &&
      c.kind !== "Results" &&
      !(c.kind === "Alert" && alertCode(c) === AlertCode.NEXT_MESSAGE);
    const hasCommands = cmds.some(isManagement);
    if (cmds.some((c) => c.kind === "Alert" && alertCode(c) === AlertCode.SESSION_ABORT)) {
      // §2.3.1.2: a client receiving 1223 does not respond.
      return { kind: "end", outcome: "aborted-by-peer" };
    }

    // The server's verdict on this client's credentials comes first: a challenge restarts Pkg 1.
    const mine = cmds.find((c): c is Status => c.kind === "Status" && c.cmdRef === "0");
    const verdict = mine ? this.#auth.onHeaderStatus(mine) : "ok";
    // A final package with nothing to answer ends the session without a reply (§2.3).
    const mayEnd =
      msg.body.final &&
      !hasCommands &&
      !this.#packageNeedsReply &&
      this.#outbox.length === 0 &&
      !cmds.some((c) => c.kind === "Alert" && alertCode(c) === AlertCode.NEXT_MESSAGE);
    const check = this.#auth.checkServer(
      msg,
      hmacHeader,
      raw,
      hasCommands,
      !mayEnd || verdict === "retry",
    );
    const responses: Draft[] = [];
    if (!hdr.noResp) responses.push(headerStatus(hdr, check.code, { chal: check.chal }));
    if (check.giveUp) {
      return { kind: "send", out: this.#abort(responses, "auth-failed") };
    }
    if (verdict === "fail") return { kind: "end", outcome: "auth-failed" };
    if (verdict === "retry") {
      // §2.4: revert to Package 1 with the requested credentials, same SessionID.
      this.#outbox = [];
      const units = toUnits(responses);
      for (const u of this.#pkg1()) units.push(u);
      return { kind: "send", out: this.#build(units, true) };
    }

    const env = {
      tree: this.#o.tree,
      principal: this.#o.account.serverId,
      msgRef: hdr.msgId,
      hooks: this.#o.hooks ?? {},
      cancelled: false,
    };
    for (const raw of cmds) {
      if (raw.kind === "Status") {
        const pending = this.#onStatus(raw);
        if (pending !== undefined) await pending;
        continue;
      }
      if (raw.kind === "Results") continue; // a server sends none; nothing to answer
      if (!check.trusted) {
        // Not executed for want of the server's credentials (the server sends them again).
        if (wantsStatus(raw)) responses.push(commandStatus(hdr.msgId, raw, check.code));
        continue;
      }
      if (raw.kind === "Alert" && alertCode(raw) === AlertCode.NEXT_MESSAGE) {
        if (wantsStatus(raw)) responses.push(commandStatus(hdr.msgId, raw, StatusCode.OK));
        continue;
      }
      const cmd = this.#assemble(hdr.msgId, raw, responses);
      if (!cmd) continue;
      const executed = executeNow(env, cmd);
      const outcome = executed instanceof Promise ? await executed : executed;
      this.#commands += countCommands(cmd);
      for (const d of outcome.drafts) responses.push(d);
    }
    if (msg.body.final) this.#serverClosed = true;
    if (hasCommands) this.#packageNeedsReply = true;
    if (mayEnd) {
      // §2.3.2: a package without management commands ends the session; nothing is sent.
      return { kind: "end", outcome: "completed" };
    }
    // One 1222 at the end asks for the rest of an open server package (§2.1.2); an earlier one
    // still waiting in the outbox is replaced, not repeated.
    // Built by loops, not spreads: see toUnits.
    const units = toUnits(responses);
    for (const u of this.#outbox) if (!isNextMessage(u.draft)) units.push(u);
    if (!this.#serverClosed) units.push(unit(alertDraft(AlertCode.NEXT_MESSAGE)));
    this.#outbox = [];
    return { kind: "send", out: this.#build(units, this.#serverClosed) };
  }

  /** Feeds large-object chunks to the assembler (§2.2). */
  #assemble(msgRef: string, cmd: Command, responses: Draft[]): Command | undefined {
    if (this.#assembler.pending && !this.#assembler.continues(cmd)) {
      const ref = this.#assembler.abandon();
      responses.push(alertDraft(AlertCode.NO_END_OF_DATA, ref ? [ref] : []));
    }
    const step = this.#assembler.feed(cmd);
    switch (step.kind) {
      case "whole":
        return step.command;
      case "chunk":
        responses.push(commandStatus(msgRef, cmd, StatusCode.CHUNKED_ITEM_ACCEPTED));
        return undefined;
      case "too-large":
        responses.push(commandStatus(msgRef, cmd, StatusCode.REQUEST_ENTITY_TOO_LARGE));
        return undefined;
      case "complete":
        if (step.sizeMismatch) {
          responses.push(commandStatus(msgRef, cmd, StatusCode.SIZE_MISMATCH));
          return undefined;
        }
        return step.command;
    }
  }

  /** A promise only when the onServerStatus hook returned one (see settle.ts). */
  #onStatus(st: Status): undefined | Promise<void> {
    if (st.cmdRef === "0") return;
    const entry = this.#sent.get(`${st.msgRef}:${st.cmdRef}`);
    if (!entry) return;
    if (entry.chunk) {
      if (st.code === StatusCode.CHUNKED_ITEM_ACCEPTED) return;
      this.#outbox = this.#outbox.filter((u) => u.origin !== entry.draft);
    }
    const d = entry.draft;
    if (d.kind === "Status" || d.kind === "Results") return;
    if (d.kind === "Alert" && isSessionAlert(d.data)) return;
    const done = this.#o.hooks?.onServerStatus?.(d, st);
    if (isThenable(done)) return Promise.resolve(done).then(() => undefined);
    return;
  }

  /** Ends the session with Alert 1223 (§2.3.1); the server's reply is not awaited further. */
  #abort(responses: Draft[], outcome: SessionOutcome): Outgoing {
    this.#ending = outcome;
    const units = toUnits(responses);
    units.push(unit(alertDraft(AlertCode.SESSION_ABORT)));
    return this.#build(units, true);
  }

  #build(units: Unit[], mayFinish: boolean): Outgoing {
    const msgId = ++this.#msgId;
    const header = makeHeader({
      sessionId: this.#sessionId,
      msgId,
      target: { locUri: this.#o.account.serverUri },
      source: this.#auth.clientName
        ? { locUri: this.#clientUri, locName: this.#auth.clientName }
        : { locUri: this.#clientUri },
      cred: this.#auth.cred(),
      maxMsgSize: this.#o.maxMsgSize ?? 16 * 1024,
      maxObjSize: this.#o.maxObjSize ?? 1024 * 1024,
    });
    const packed = pack({
      header,
      units,
      maxMsgSize: this.#serverMaxMsgSize,
      maxObjSize: this.#serverMaxObjSize,
      mayFinish,
      encode: (m) => this.#codec.encode(m, this.#encoding),
    });
    // Statuses are never answered, so only commands are kept for matching replies.
    for (const e of packed.sent) {
      if (e.draft.kind !== "Status") this.#sent.set(`${msgId}:${e.cmdId}`, e);
    }
    this.#outbox = packed.rest;
    if (packed.final) {
      // This client's package is closed: the next server package starts afresh.
      this.#serverClosed = false;
      this.#packageNeedsReply = false;
    }
    const headers: Record<string, string> = {};
    const mac = this.#auth.sign(packed.body);
    if (mac !== undefined) headers[HMAC_HEADER] = mac;
    return { body: packed.body, headers };
  }
}

function unit(draft: Draft): Unit {
  return { draft };
}

/**
 * Units for drafts, built by a loop rather than `map` and spreads: arrays that are sometimes
 * empty, spread into new ones, made the optimised engine code bail out and be recompiled.
 */
function toUnits(drafts: readonly Draft[]): Unit[] {
  const units: Unit[] = [];
  for (let i = 0; i < drafts.length; i++) units.push({ draft: drafts[i]! });
  return units;
}

function isNextMessage(d: Draft): boolean {
  return d.kind === "Alert" && Number(d.data) === AlertCode.NEXT_MESSAGE;
}

function isSessionAlert(data: string | undefined): boolean {
  const code = Number(data);
  return (
    code === AlertCode.CLIENT_INITIATED_MGMT ||
    code === AlertCode.SERVER_INITIATED_MGMT ||
    code === AlertCode.NEXT_MESSAGE ||
    code === AlertCode.SESSION_ABORT ||
    code === AlertCode.NO_END_OF_DATA
  );
}

function countCommands(cmd: Command): number {
  if (cmd.kind === "Atomic" || cmd.kind === "Sequence") {
    return 1 + cmd.commands.reduce((n, c) => n + countCommands(c), 0);
  }
  return 1;
}
