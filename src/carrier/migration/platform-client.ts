import type { JWK } from "jose";
import type { WrappedKey } from "../../keystore/index.js";
import type { MigrationAnswer } from "../../server-kit/migration-policy.js";
import { CarrierError } from "../errors.js";
import { callJson, errorCodeOf, type JsonAnswer, noAnswer } from "../http-out/json-call.js";
import { DEFAULT_TIMEOUT_MS } from "../platform-sync/options.js";
import { type CarrierMigrationOptions, resolve } from "./options.js";

/**
 * The platform's routes as the new carrier calls them during a migration (src/platform/README.md):
 * the migration question, the transport key its keystore wraps a custody copy to, and the custody
 * deposit of the new key. Any failure of a question or of the transport key is UNAVAILABLE (503):
 * the device may simply try again. The deposit, made in the background, says instead whether
 * sending it again could help (DepositResult).
 */
export type { MigrationAnswer };

/** The deposit stored, or why not and whether the same deposit sent again would fare the same. */
export type DepositResult = { stored: true } | { stored: false; final: boolean; why: string };

export class MigrationPlatform {
  readonly #url: () => string;
  readonly #token: () => string;
  readonly #timeoutMs: number;

  /** `timeoutMs`: one call's, its body included (default 10 s). */
  constructor(
    p: NonNullable<CarrierMigrationOptions["platform"]>,
    timeoutMs: number = DEFAULT_TIMEOUT_MS,
  ) {
    this.#url = () => resolve(p.url);
    this.#token = () => resolve(p.token);
    this.#timeoutMs = timeoutMs;
  }

  ask(evidence: string): Promise<MigrationAnswer> {
    return this.#call("POST", "/migration/questions", { evidence }) as Promise<MigrationAnswer>;
  }

  async transportKey(): Promise<JWK> {
    return ((await this.#call("GET", "/transport-key")) as { jwk: JWK }).jwk;
  }

  async deposit(
    carrier: string,
    imei: string,
    record: Record<string, unknown>,
  ): Promise<DepositResult> {
    const path = `/custody/${carrier}/devices/${imei}`;
    let a: JsonAnswer;
    try {
      a = await this.#send("PUT", path, record);
    } catch (err) {
      return { stored: false, final: false, why: unreachable("the platform", "PUT", path, err) };
    }
    if (a.ok) return { stored: true };
    const code = errorCodeOf(a.body);
    return {
      stored: false,
      final: code !== undefined && DEPOSIT_REFUSED_FOR_GOOD[code] === a.status,
      why: answered("the platform", "PUT", path, a.status, code),
    };
  }

  #call(method: "GET" | "POST", path: string, json?: unknown): Promise<unknown> {
    return bodyOf("the platform", method, path, () => this.#send(method, path, json));
  }

  #send(method: "GET" | "POST" | "PUT", path: string, json?: unknown): Promise<JsonAnswer> {
    return callJson({
      method,
      url: `${this.#url()}${path}`,
      token: this.#token(),
      ...(json === undefined ? {} : { json }),
      timeoutMs: this.#timeoutMs,
    });
  }
}

/**
 * The platform's own answers to a deposit (src/platform/custody/deposit.ts and its route's
 * schema), each with the status it comes with, that the same deposit sent again gets again: a
 * body its schema or parser refuses, a record or wrapped key it cannot accept, a kid that already
 * names another key of the carrier (409), a body too large or of another type. Matching the
 * status too keeps a proxy's or another server's answer out. Anything else is worth retrying:
 * the network, a 5xx, 408 and 429, a refused token (401) and a bare or other 404 (a wrong base
 * URL), which the operator can fix.
 */
const DEPOSIT_REFUSED_FOR_GOOD: Readonly<Record<string, number>> = {
  MALFORMED_BODY: 400,
  INVALID_REQUEST: 400,
  DEPOSIT_INVALID: 400,
  DEVICE_NOT_FOUND: 404,
  CONFLICT: 409,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
};

/** Asks the old carrier itself (`migration.direct`), with the peer token it issued. */
export function askCarrier(
  direct: { url: string | (() => string); token: string | (() => string) },
  carrier: string,
  evidence: string,
): Promise<MigrationAnswer> {
  const who = `carrier ${carrier}`;
  const path = "/migration/questions";
  return bodyOf(who, "POST", path, () =>
    callJson({
      method: "POST",
      url: `${resolve(direct.url)}/carriers/${encodeURIComponent(carrier)}${path}`,
      token: resolve(direct.token),
      json: { evidence },
      timeoutMs: DEFAULT_TIMEOUT_MS,
    }),
  ) as Promise<MigrationAnswer>;
}

/** The JSON body of a 2xx answer; anything else is UNAVAILABLE, saying who failed and how. */
async function bodyOf(
  who: string,
  method: string,
  path: string,
  call: () => Promise<JsonAnswer>,
): Promise<unknown> {
  let a: JsonAnswer;
  try {
    a = await call();
  } catch (err) {
    throw new CarrierError("UNAVAILABLE", unreachable(who, method, path, err));
  }
  if (!a.ok) {
    throw new CarrierError(
      "UNAVAILABLE",
      answered(who, method, path, a.status, errorCodeOf(a.body)),
    );
  }
  if (a.body === null) {
    throw new CarrierError("UNAVAILABLE", `${who} answered ${method} ${path} with no JSON`);
  }
  return a.body;
}

const unreachable = (who: string, method: string, path: string, err: unknown) =>
  `${who} cannot be reached (${method} ${path}): ${noAnswer(err)}`;

const answered = (who: string, method: string, path: string, status: number, code?: string) =>
  `${who} answered ${status}${code === undefined ? "" : ` ${code}`} to ${method} ${path}`;

/** The custody deposit body for the new key (the platform's depositRequest). */
export function custodyRecord(r: {
  meid: string | null;
  esn: string | null;
  model: string;
  kid: string;
  attestationKey: string;
  wrappedKey: WrappedKey;
}): Record<string, unknown> {
  return { ...r, contractEnd: null };
}
