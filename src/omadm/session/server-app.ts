/**
 * What an application (the carrier's activation server) plugs into the server engine: where
 * clients' credentials live, which management commands a session gets, and what came back.
 */
import type { AuthScheme } from "../auth/schemes.js";
import type { Alert, Item } from "../model/message.js";
import type { Awaitable, CommandResponse, OutCommand, SessionOutcome } from "./types.js";

/** A party's secret as the server stores it (the DMAcc AppAuth entries it provisioned). */
export interface StoredSecret {
  readonly name: string;
  readonly secret: string;
  /** Decoded octets of the nonce this credential is computed with next. */
  readonly nonce: Uint8Array;
  readonly scheme: AuthScheme;
}

export interface ServerClientRecord {
  /** How the client must authenticate: its name, secret, the nonce this server issued it last. */
  readonly client: StoredSecret;
  /**
   * How this server authenticates to that client (the client's SRVCRED); `nonce` is the one the
   * client issued. Absent: the server sends no credentials (trust left to TLS).
   */
  readonly server?: StoredSecret;
}

export interface ClientQuery {
  /** The name the client claims (basic user, md5 Source LocName, HMAC username); absent when it sent none. */
  readonly name?: string;
  /** The client's SyncHdr Source LocURI (its DevId). */
  readonly clientUri: string;
}

export interface SessionStart {
  /** 1201 client-initiated or 1200 server-initiated (OMA-TS-DM_Protocol §2.3.3). */
  readonly trigger: number;
  /** ./DevInfo leaf values from the Pkg1 Replace, by URI. */
  readonly devInfo: ReadonlyMap<string, string>;
  /** Every other Alert of Pkg1 (generic alerts are also delivered to onAlert). */
  readonly alerts: readonly Alert[];
}

/** The session as the application sees it. */
export interface ServerSessionView {
  readonly sessionId: string;
  readonly clientUri: string;
  /** The authenticated client's name. */
  readonly clientName: string | undefined;
  readonly devInfo: ReadonlyMap<string, string>;
  /** Commands for the next package the server sends. */
  enqueue(...commands: OutCommand[]): void;
  /** Ends the session with Alert 1223 in the next message (§2.3.1). */
  abort(): void;
  /** Free space for the application's own per-session state. */
  readonly locals: Map<string, unknown>;
}

/** An Alert the client raised (1224 client event, 1226 generic alert, …). */
export interface ClientAlert {
  readonly code: number;
  readonly correlator: string | undefined;
  readonly items: readonly Item[];
}

export interface DmServerApp {
  findClient(query: ClientQuery): Awaitable<ServerClientRecord | undefined>;
  /**
   * Persist a nonce: role "client" is the next nonce this server issued the client; role
   * "server" the next nonce an authenticated client issued this server.
   */
  saveNonce?(clientName: string, role: "client" | "server", nonce: Uint8Array): Awaitable<void>;
  onSessionStart?(
    session: ServerSessionView,
    start: SessionStart,
  ): Awaitable<readonly OutCommand[] | undefined>;
  /** Returns the status for the alert (200 when absent; 415 for an unsupported Type/Format). */
  onAlert?(session: ServerSessionView, alert: ClientAlert): Awaitable<number | undefined>;
  onResponse?(session: ServerSessionView, response: CommandResponse): Awaitable<void>;
  /** The client's package is complete: commands for the next server package, none to end. */
  onPackage?(
    session: ServerSessionView,
    responses: readonly CommandResponse[],
  ): Awaitable<readonly OutCommand[] | undefined>;
  onSessionEnd?(session: ServerSessionView, outcome: SessionOutcome): Awaitable<void>;
}
