import type { JWK } from "jose";
import type { WrappedKey } from "../../keystore/index.js";
import type { MigrationAnswer } from "../../server-kit/migration-policy.js";
import { CarrierError } from "../errors.js";
import { type CarrierMigrationOptions, resolve } from "./options.js";

/**
 * The platform's routes as the new carrier calls them during a migration (src/platform/README.md):
 * the migration question, the transport key its keystore wraps a custody copy to, and the custody
 * deposit of the new key. Any failure is UNAVAILABLE (503): the device may simply try again.
 */
export type { MigrationAnswer };

const TIMEOUT_MS = 10_000;

export class MigrationPlatform {
  readonly #url: () => string;
  readonly #token: () => string;

  constructor(p: NonNullable<CarrierMigrationOptions["platform"]>) {
    this.#url = () => resolve(p.url);
    this.#token = () => resolve(p.token);
  }

  static of(opts: CarrierMigrationOptions): MigrationPlatform {
    if (!opts.platform) {
      throw new CarrierError(
        "UNAVAILABLE",
        "this carrier has no platform configured to ask about migrating devices",
      );
    }
    return new MigrationPlatform(opts.platform);
  }

  ask(evidence: string): Promise<MigrationAnswer> {
    return this.#call("POST", "/migration/questions", { evidence }) as Promise<MigrationAnswer>;
  }

  async transportKey(): Promise<JWK> {
    return ((await this.#call("GET", "/transport-key")) as { jwk: JWK }).jwk;
  }

  async deposit(carrier: string, imei: string, record: Record<string, unknown>): Promise<void> {
    await this.#call("PUT", `/custody/${carrier}/devices/${imei}`, record);
  }

  #call(method: string, path: string, json?: unknown): Promise<unknown> {
    return callJson("the platform", this.#url(), this.#token(), method, path, json);
  }
}

/** Asks the old carrier itself (`migration.direct`), with the peer token it issued. */
export function askCarrier(
  direct: { url: string | (() => string); token: string | (() => string) },
  carrier: string,
  evidence: string,
): Promise<MigrationAnswer> {
  return callJson(
    `carrier ${carrier}`,
    `${resolve(direct.url)}/carriers/${encodeURIComponent(carrier)}`,
    resolve(direct.token),
    "POST",
    "/migration/questions",
    { evidence },
  ) as Promise<MigrationAnswer>;
}

async function callJson(
  who: string,
  base: string,
  token: string,
  method: string,
  path: string,
  json?: unknown,
): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(json === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    throw new CarrierError(
      "UNAVAILABLE",
      `${who} cannot be reached (${method} ${path}): ${(err as Error).message}`,
    );
  }
  const text = await res.text();
  if (!res.ok) {
    let code = "";
    try {
      code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? "";
    } catch {
      // Not a dmguard error body.
    }
    throw new CarrierError(
      "UNAVAILABLE",
      `${who} answered ${res.status}${code ? ` ${code}` : ""} to ${method} ${path}`,
    );
  }
  return JSON.parse(text);
}

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
