/**
 * The platform's routes as the OEM's factory line uses them (src/platform/README.md): the
 * transport key a carrier's keystore wraps a new slot key to, the platform's verdict key for a
 * carrier (the device pins it beside the carrier's own), and a carrier's custody deposit with
 * that carrier's platform token. Nothing here ever holds a key in the clear.
 */
import type { JWK } from "jose";
import type { WrappedKey } from "../../keystore/index.js";
import { requestJson } from "./http.js";

/** The device record a carrier deposits with the wrapped slot key (the platform's depositRequest). */
export interface CustodyRecord {
  meid: string | null;
  esn: string | null;
  model: string;
  kid: string;
  attestationKey: string;
  contractEnd: string | null;
  wrappedKey: WrappedKey;
}

export class PlatformClient {
  readonly url: string;
  #transport: Promise<JWK> | undefined;

  constructor(url: string) {
    this.url = url.replace(/\/+$/, "");
  }

  /** The public key custody deposits are wrapped to (fetched once per command). */
  transportKey(): Promise<JWK> {
    this.#transport ??= requestJson<{ jwk: JWK }>("platform", `${this.url}/transport-key`).then(
      (r) => r.jwk,
    );
    return this.#transport;
  }

  async verdictKey(carrier: string): Promise<JWK> {
    const r = await requestJson<{ jwk: JWK }>(
      "platform",
      `${this.url}/carriers/${carrier}/verdict-key`,
    );
    return r.jwk;
  }

  /** Deposits (idempotently) one device of `carrier` in its custody; `token` is the carrier's. */
  async deposit(
    carrier: string,
    imei: string,
    record: CustodyRecord,
    token: string,
  ): Promise<void> {
    await requestJson("platform", `${this.url}/custody/${carrier}/devices/${imei}`, {
      method: "PUT",
      body: record,
      token,
    });
  }
}
