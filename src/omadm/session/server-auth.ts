/**
 * Authenticating the client on the server side (OMA-TS-DM_Protocol §2.4, OMA-TS-DM_Security
 * §5.1.3–5.1.4): Cred in the SyncHdr (basic or md5) gives 212 for the whole session; the
 * x-syncml-hmac header gives 200 and must come with every message. Missing credentials get 407
 * and a Chal, wrong ones 401 and a Chal with a fresh nonce — once more only (§5.1.3.3: the
 * client may hold a stale nonce), then the server gives up.
 */
import { credScheme, credUser, makeChal, verifyCred } from "../auth/cred.js";
import { parseHmacHeader, verifyMac } from "../auth/hmac.js";
import { newNonce } from "../auth/nonce.js";
import type { AuthScheme } from "../auth/schemes.js";
import type { Chal, SyncMLMessage } from "../model/message.js";
import { StatusCode } from "../status.js";
import type { DmServerApp, ServerClientRecord } from "./server-app.js";
import type { ServerSession } from "./server-session.js";

export interface ClientAuthResult {
  readonly ok: boolean;
  readonly code: number;
  readonly chal?: Chal;
  /** Authentication failed for good: the session ends. */
  readonly gaveUp: boolean;
}

export interface AuthDeps {
  readonly app: DmServerApp;
  readonly defaultScheme: AuthScheme;
  /** Most 407 challenges answered without credentials before giving up. */
  readonly maxMissing: number;
}

/** Failed attempts allowed: the first may be a stale nonce, the second is final (§5.1.3.3). */
const MAX_FAILURES = 2;

export interface AuthInput {
  readonly hmacHeader?: string | undefined;
  readonly rawBody?: Uint8Array | undefined;
}

/** The answer for a session already authenticated by Cred (212): one object, never rebuilt. */
const SESSION_AUTHENTICATED: ClientAuthResult = Object.freeze({
  ok: true,
  code: StatusCode.OK,
  gaveUp: false,
});

/**
 * Authenticates the client's message. Once the session is authenticated by Cred (212) there is
 * nothing to check or wait for, and the answer comes without a promise (settle.ts says why);
 * otherwise it may ask the application for the client's record or save a nonce.
 */
export function authenticateClient(
  deps: AuthDeps,
  s: ServerSession,
  msg: SyncMLMessage,
  input: AuthInput,
): ClientAuthResult | Promise<ClientAuthResult> {
  if (s.clientAuth === "session") return SESSION_AUTHENTICATED;
  return checkClient(deps, s, msg, input);
}

async function checkClient(
  deps: AuthDeps,
  s: ServerSession,
  msg: SyncMLMessage,
  input: AuthInput,
): Promise<ClientAuthResult> {
  const hdr = msg.header;

  if (input.hmacHeader !== undefined || s.clientAuth === "hmac") {
    return authenticateHmac(deps, s, hdr.source.locUri, input);
  }

  const cred = hdr.cred;
  if (!cred) {
    s.authMissing++;
    const record = s.record ?? (await deps.app.findClient({ clientUri: hdr.source.locUri }));
    if (s.authMissing > deps.maxMissing) return giveUp(StatusCode.MISSING_CREDENTIALS);
    return challenge(deps, s, record, StatusCode.MISSING_CREDENTIALS);
  }

  const scheme = credScheme(cred);
  const user = credUser(cred, hdr.source.locName);
  const record =
    user !== undefined
      ? await deps.app.findClient({ name: user, clientUri: hdr.source.locUri })
      : undefined;
  const expected = record?.client;
  const ok =
    expected !== undefined &&
    expected.name === user &&
    scheme === expected.scheme &&
    scheme !== "hmac" &&
    verifyCred(cred, {
      name: expected.name,
      secret: expected.secret,
      nonce: s.issuedNonce ?? expected.nonce,
    });
  if (!ok) return fail(deps, s, record);

  s.record = record;
  s.clientAuth = "session";
  s.authFailures = 0;
  if (scheme === "md5") {
    // §2.4.1: with 212 the Chal's NextNonce is for the next session; rotate it now.
    const next = await issue(deps, s, record!);
    return {
      ok: true,
      code: StatusCode.AUTHENTICATION_ACCEPTED,
      chal: makeChal("md5", next),
      gaveUp: false,
    };
  }
  return { ok: true, code: StatusCode.AUTHENTICATION_ACCEPTED, gaveUp: false };
}

async function authenticateHmac(
  deps: AuthDeps,
  s: ServerSession,
  clientUri: string,
  input: AuthInput,
): Promise<ClientAuthResult> {
  if (input.hmacHeader === undefined) {
    // An HMAC session lost its header: the message is not integrity-protected.
    return challenge(deps, s, s.record, StatusCode.MISSING_CREDENTIALS);
  }
  let parsed: { username: string; mac: string };
  try {
    parsed = parseHmacHeader(input.hmacHeader);
  } catch {
    return fail(deps, s, s.record);
  }
  const record =
    s.record && s.record.client.name === parsed.username
      ? s.record
      : s.clientAuth
        ? undefined
        : await deps.app.findClient({ name: parsed.username, clientUri });
  const expected = record?.client;
  const ok =
    expected !== undefined &&
    input.rawBody !== undefined &&
    expected.scheme === "hmac" &&
    expected.name === parsed.username &&
    verifyMac(
      parsed.mac,
      expected.name,
      expected.secret,
      s.issuedNonce ?? expected.nonce,
      input.rawBody,
    );
  if (!ok) return fail(deps, s, record ?? s.record);
  s.record = record;
  s.clientAuth = "hmac";
  s.authFailures = 0;
  // Every message is authenticated on its own (200, not 212); a new nonce for each next one.
  const next = await issue(deps, s, record!);
  return { ok: true, code: StatusCode.OK, chal: makeChal("hmac", next), gaveUp: false };
}

async function fail(
  deps: AuthDeps,
  s: ServerSession,
  record: ServerClientRecord | undefined,
): Promise<ClientAuthResult> {
  s.authFailures++;
  if (s.authFailures >= MAX_FAILURES) return giveUp(StatusCode.INVALID_CREDENTIALS);
  return challenge(deps, s, record, StatusCode.INVALID_CREDENTIALS);
}

function giveUp(code: number): ClientAuthResult {
  return { ok: false, code, gaveUp: true };
}

async function challenge(
  deps: AuthDeps,
  s: ServerSession,
  record: ServerClientRecord | undefined,
  code: number,
): Promise<ClientAuthResult> {
  const scheme = record?.client.scheme ?? deps.defaultScheme;
  if (scheme === "basic") return { ok: false, code, chal: makeChal("basic"), gaveUp: false };
  const next = await issue(deps, s, record);
  return { ok: false, code, chal: makeChal(scheme, next), gaveUp: false };
}

/**
 * A fresh nonce the client must use next. It is this server's own, so it is stored even while
 * the client is unauthenticated (§5.1.3.3 only forbids taking a peer's nonce on trust).
 */
async function issue(
  deps: AuthDeps,
  s: ServerSession,
  record: ServerClientRecord | undefined,
): Promise<Uint8Array> {
  const next = newNonce();
  s.issuedNonce = next;
  if (record) await deps.app.saveNonce?.(record.client.name, "client", next);
  return next;
}
