/**
 * A carrier's admin API as the CLI uses it (src/carrier/http/register-carrier.ts has the
 * routes): the slot key for a device being made, the verdict key to pin, inventory
 * registration, lookup, block, unblock, terminate. Every call but the verdict key carries the
 * carrier's admin bearer token from the stack's credentials.json.
 */
import type { JWK } from "jose";
import type { WrappedKey } from "../../keystore/index.js";
import { HttpRefusal, requestJson } from "./http.js";

/** One inventory row as the carrier's import takes it (src/carrier/admin/inventory-row.ts). */
export interface InventoryRow {
  imei: string;
  meid: string | null;
  esn: string | null;
  model: string;
  kid: string;
  attestationKey: string;
  contractEnd: string | null;
  userGroup: string | null;
  enterprise: string | null;
}

export type DeviceAction = "block" | "unblock" | "terminate";

export interface ActionResult {
  imei: string;
  status: "active" | "blocked" | "terminated";
  networkAccess: "full" | "limited" | null;
}

export class CarrierAdmin {
  readonly id: string;
  readonly url: string;
  readonly #token: string;
  readonly #what: string;

  constructor(id: string, url: string, token: string) {
    this.id = id;
    this.url = url.replace(/\/+$/, "");
    this.#token = token;
    this.#what = `carrier ${id}`;
  }

  async verdictKey(): Promise<JWK> {
    const r = await requestJson<{ jwk: JWK }>(this.#what, `${this.url}/verdict-key`);
    return r.jwk;
  }

  /**
   * A new device key made in the carrier's keystore, HPKE-wrapped to the device TSZ's key; with
   * `custody` (the platform's transport key) also wrapped to the platform, by the keystore.
   */
  async slotKey(
    hpkePublicKey: Uint8Array,
    custody?: JWK,
  ): Promise<{ wrapped: WrappedKey; custodyWrapped?: WrappedKey }> {
    return requestJson(this.#what, `${this.url}/slot-keys`, {
      body: {
        hpkePublicKey: Buffer.from(hpkePublicKey).toString("base64url"),
        ...(custody === undefined ? {} : { custodyPublicKey: custody }),
      },
      token: this.#token,
    });
  }

  /** Inserts (never replaces: an IMEI already there is refused) the rows in one import. */
  register(rows: InventoryRow[]): Promise<{ inserted: number; updated: number }> {
    return requestJson(this.#what, `${this.url}/inventory?mode=insert`, {
      body: rows,
      token: this.#token,
    });
  }

  /** The device's record, state, access and last verdicts; null when it is not registered. */
  async lookup(imei: string): Promise<Record<string, unknown> | null> {
    try {
      return await requestJson(this.#what, `${this.url}/devices/${imei}`, { token: this.#token });
    } catch (err) {
      if (err instanceof HttpRefusal && err.code === "DEVICE_NOT_FOUND") return null;
      throw err;
    }
  }

  act(imei: string, action: DeviceAction): Promise<ActionResult> {
    return requestJson(this.#what, `${this.url}/devices/${imei}/${action}`, {
      method: "POST",
      token: this.#token,
    });
  }
}
