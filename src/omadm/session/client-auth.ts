/**
 * The client's side of authentication (OMA-TS-DM_Protocol §2.4, OMA-TS-DM_Security §5.1.3–5.1.4):
 * its own credentials (Cred in the SyncHdr until 212, or x-syncml-hmac on every message), and
 * checking the server's when the account holds server credentials (SRVCRED). A nonce the server
 * sends is used at once but stored only once the server has proved itself (§5.1.3.4), so an
 * impostor cannot plant one.
 */
import { credScheme, makeChal, makeCred, verifyCred } from "../auth/cred.js";
import { parseHmacHeader, signBody, verifyMac } from "../auth/hmac.js";
import { decodeNonce, newNonce } from "../auth/nonce.js";
import { type AuthScheme, schemeFromTypeUri } from "../auth/schemes.js";
import type { Chal, Cred, Status, SyncMLMessage } from "../model/message.js";
import { StatusCode } from "../status.js";
import type { DmCredentials } from "../tree/std/dmacc.js";

export interface NonceUpdate {
  /** The nonce the client uses next (issued by the server). */
  readonly client?: Uint8Array;
  /** The nonce the server must use next (issued by this client). */
  readonly server?: Uint8Array;
}

export interface ServerCheck {
  readonly code: number;
  readonly chal?: Chal;
  /** The server may run commands on this client in this message. */
  readonly trusted: boolean;
  /** The server failed twice: end the session. */
  readonly giveUp: boolean;
}

/** Most challenges from the server this client answers in one session. */
const MAX_CHALLENGES = 3;
/** Failed server authentications tolerated: a stale nonce once, then the session ends. */
const MAX_SERVER_FAILURES = 2;

export class ClientAuth {
  readonly #client: DmCredentials;
  readonly #server: DmCredentials;
  readonly #persist: (update: NonceUpdate) => Promise<void>;
  /** Nonces decided while reading a message, stored together by `flush`. */
  #unsaved: NonceUpdate | undefined;

  scheme: AuthScheme;
  #nonce: Uint8Array;
  #pendingNonce: Uint8Array | undefined;
  /** "session" after 212; "hmac" while every message is signed. */
  accepted: false | "session" | "hmac" = false;
  challenges = 0;

  readonly serverRequired: boolean;
  readonly serverScheme: AuthScheme;
  #serverNonce: Uint8Array;
  serverAuthed = false;
  #serverFailures = 0;
  #replying = true;

  constructor(
    scheme: AuthScheme,
    client: DmCredentials,
    server: DmCredentials,
    serverRequired: boolean,
    persist: (update: NonceUpdate) => Promise<void>,
  ) {
    this.scheme = scheme;
    this.#client = client;
    this.#server = server;
    this.#nonce = client.nonce;
    this.serverRequired = serverRequired;
    this.serverScheme = scheme;
    this.#serverNonce = server.nonce;
    this.#persist = persist;
  }

  /** Whether `flush` has anything to store. */
  get hasUnsaved(): boolean {
    return this.#unsaved !== undefined;
  }

  /**
   * Stores the nonces decided while reading the last message, in one write. Called before the
   * answer is sent: a nonce issued to the server must be durable before the server can use it.
   */
  async flush(): Promise<void> {
    const update = this.#unsaved;
    this.#unsaved = undefined;
    if (update) await this.#persist(update);
  }

  /** Whether a nonce from the server may be stored now. */
  get #serverTrusted(): boolean {
    return this.serverAuthed || !this.serverRequired;
  }

  get clientName(): string {
    return this.#client.name;
  }

  /** Whether to send credentials before any challenge (pre-configured authentication, §2.4.2). */
  preemptive = true;

  /** The Cred for the next SyncHdr: until the server accepted it for the session (212). */
  cred(): Cred | undefined {
    if (this.accepted === "session" || this.scheme === "hmac") return undefined;
    if (!this.preemptive && this.challenges === 0) return undefined;
    const c = this.#client;
    return makeCred(this.scheme, { name: c.name, secret: c.secret, nonce: this.#nonce });
  }

  /** The x-syncml-hmac value for a body, when HMAC is in use. */
  sign(body: Uint8Array): string | undefined {
    if (this.scheme !== "hmac") return undefined;
    if (!this.preemptive && this.challenges === 0) return undefined;
    return signBody(this.#client.name, this.#client.secret, this.#nonce, body);
  }

  /**
   * The server's Status for this client's SyncHdr. Returns "retry" when the server challenged
   * (resend Package 1 with new credentials), "fail" when it refused for good.
   */
  onHeaderStatus(st: Status): "ok" | "retry" | "fail" {
    const nonce = st.chal?.meta.nextNonce;
    if (st.code === StatusCode.AUTHENTICATION_ACCEPTED || st.code === StatusCode.OK) {
      if (st.code === StatusCode.AUTHENTICATION_ACCEPTED) this.accepted = "session";
      else if (this.scheme === "hmac") this.accepted = "hmac";
      if (nonce !== undefined) this.#takeNonce(decodeNonce(nonce));
      return "ok";
    }
    if (st.code !== StatusCode.INVALID_CREDENTIALS && st.code !== StatusCode.MISSING_CREDENTIALS)
      return "ok";
    this.accepted = false;
    this.challenges++;
    const scheme = schemeFromTypeUri(st.chal?.meta.type);
    if (!st.chal || !scheme || this.challenges > MAX_CHALLENGES) return "fail";
    this.scheme = scheme;
    if (nonce !== undefined) this.#takeNonce(decodeNonce(nonce));
    return "retry";
  }

  #takeNonce(nonce: Uint8Array): void {
    // §5.1.3.4: use the latest nonce, but keep it only from an authenticated server.
    this.#nonce = nonce;
    if (this.#serverTrusted) {
      this.#pendingNonce = undefined;
      this.#unsaved = { ...this.#unsaved, client: nonce };
    } else {
      this.#pendingNonce = nonce;
    }
  }

  /**
   * Checks the server's credentials on a message; `hasCommands` per §2.4 (no challenge
   * otherwise). `replying` says whether this client will answer the message: a new nonce for the
   * server is only issued in an answer the server will see, or the two would fall out of step.
   */
  checkServer(
    msg: SyncMLMessage,
    hmacHeader: string | undefined,
    rawBody: Uint8Array,
    hasCommands: boolean,
    replying: boolean,
  ): ServerCheck {
    this.#replying = replying;
    if (!this.serverRequired) return { code: StatusCode.OK, trusted: true, giveUp: false };
    if (this.serverScheme === "hmac")
      return this.#checkServerHmac(hmacHeader, rawBody, hasCommands);
    const cred = msg.header.cred;
    if (!cred) {
      if (this.serverAuthed) return { code: StatusCode.OK, trusted: true, giveUp: false };
      // §2.4: a message without commands is not challenged.
      if (!hasCommands) return { code: StatusCode.OK, trusted: false, giveUp: false };
      return this.#challenge(StatusCode.MISSING_CREDENTIALS);
    }
    const ok =
      credScheme(cred) === this.serverScheme &&
      verifyCred(cred, {
        name: this.#server.name,
        secret: this.#server.secret,
        nonce: this.#serverNonce,
      });
    if (!ok) return this.#fail(hasCommands);
    return this.#accepted(StatusCode.AUTHENTICATION_ACCEPTED, this.serverScheme === "md5");
  }

  #checkServerHmac(
    header: string | undefined,
    rawBody: Uint8Array,
    hasCommands: boolean,
  ): ServerCheck {
    if (header === undefined) {
      if (!hasCommands) return { code: StatusCode.OK, trusted: false, giveUp: false };
      return this.#challenge(StatusCode.MISSING_CREDENTIALS);
    }
    let ok = false;
    try {
      const h = parseHmacHeader(header);
      ok =
        h.username === this.#server.name &&
        verifyMac(h.mac, this.#server.name, this.#server.secret, this.#serverNonce, rawBody);
    } catch {
      ok = false;
    }
    if (!ok) return this.#fail(hasCommands);
    // Per message (200), and a fresh nonce for the server's next message.
    return this.#accepted(StatusCode.OK, true);
  }

  #accepted(code: number, rotate: boolean): ServerCheck {
    const first = !this.serverAuthed;
    this.serverAuthed = true;
    this.#serverFailures = 0;
    if (this.#pendingNonce) {
      const pending = this.#pendingNonce;
      this.#pendingNonce = undefined;
      this.#unsaved = { ...this.#unsaved, client: pending };
    }
    if (code === StatusCode.AUTHENTICATION_ACCEPTED && !first) {
      return { code: StatusCode.OK, trusted: true, giveUp: false };
    }
    if (!rotate || !this.#replying) return { code, trusted: true, giveUp: false };
    const next = this.#issue();
    return { code, chal: makeChal(this.serverScheme, next), trusted: true, giveUp: false };
  }

  #fail(hasCommands: boolean): ServerCheck {
    this.serverAuthed = false;
    this.#serverFailures++;
    if (this.#serverFailures >= MAX_SERVER_FAILURES) {
      return { code: StatusCode.INVALID_CREDENTIALS, trusted: false, giveUp: true };
    }
    if (!hasCommands)
      return { code: StatusCode.INVALID_CREDENTIALS, trusted: false, giveUp: false };
    return this.#challenge(StatusCode.INVALID_CREDENTIALS);
  }

  #challenge(code: number): ServerCheck {
    const next = this.serverScheme === "basic" ? undefined : this.#issue();
    return { code, chal: makeChal(this.serverScheme, next), trusted: false, giveUp: false };
  }

  /** A new nonce for the server; this client's own, so stored at once. */
  #issue(): Uint8Array {
    const next = newNonce();
    this.#serverNonce = next;
    this.#unsaved = { ...this.#unsaved, server: next };
    return next;
  }
}
