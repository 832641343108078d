/**
 * A handle on a running stack for the commands that take `--stack DIR`: its stack.json, its
 * admin credentials, the OEM CA (only `up` folders hold its private key), each carrier's and
 * enterprise's admin API, and the platform (when the stack runs one).
 */
import { resolve } from "node:path";
import type { JWK } from "jose";
import { loadOemCa, type OemCa } from "../../device/index.js";
import { CliError } from "../exit.js";
import { CarrierAdmin } from "./carrier-admin.js";
import { EnterpriseAdmin } from "./enterprise-admin.js";
import { type Credentials, readCredentials, readStackInfo, type StackInfo } from "./files.js";
import { PlatformClient } from "./platform-client.js";

export class StackClient {
  readonly dir: string;
  readonly info: StackInfo;
  readonly #creds: Credentials;
  readonly #admins = new Map<string, CarrierAdmin>();
  #platform: PlatformClient | null | undefined;
  #ca: Promise<OemCa> | undefined;
  #verdictKeys: Promise<Array<{ carrier: string; jwk: JWK }>> | undefined;

  private constructor(dir: string, info: StackInfo, creds: Credentials) {
    this.dir = dir;
    this.info = info;
    this.#creds = creds;
  }

  static async open(dir: string): Promise<StackClient> {
    const abs = resolve(dir);
    const info = await readStackInfo(abs);
    return new StackClient(abs, info, await readCredentials(abs));
  }

  get baseUrl(): string {
    return this.info.baseUrl;
  }

  carrierIds(): string[] {
    return this.info.parts.filter((p) => p.kind === "carrier").map((p) => p.id);
  }

  carrier(id: string): CarrierAdmin {
    let admin = this.#admins.get(id);
    if (admin) return admin;
    const part = this.info.parts.find((p) => p.kind === "carrier" && p.id === id);
    if (!part) {
      throw new CliError(
        `no carrier "${id}" in the stack at ${this.dir} (carriers: ${this.carrierIds().join(", ") || "none"})`,
      );
    }
    const token = this.#creds.adminTokens[`carrier:${id}`];
    if (token === undefined) {
      throw new CliError(`the stack at ${this.dir} holds no admin token for carrier ${id}`);
    }
    admin = new CarrierAdmin(id, part.url, token);
    this.#admins.set(id, admin);
    return admin;
  }

  /** The platform of the stack, or null when it runs none. */
  platform(): PlatformClient | null {
    if (this.#platform === undefined) {
      const part = this.info.parts.find((p) => p.kind === "platform");
      this.#platform = part ? new PlatformClient(part.url) : null;
    }
    return this.#platform;
  }

  /**
   * The platform token of `carrier:ID` with custody scope, when the stack holds one: a carrier
   * with one deposits its devices in its custody at the platform.
   */
  platformToken(holder: string): string | null {
    return this.#creds.platformTokens?.[holder] ?? null;
  }

  enterprise(id: string): EnterpriseAdmin {
    const part = this.info.parts.find((p) => p.kind === "enterprise" && p.id === id);
    const ids = this.info.parts.filter((p) => p.kind === "enterprise").map((p) => p.id);
    if (!part) {
      throw new CliError(
        `no enterprise "${id}" in the stack at ${this.dir} (enterprises: ${ids.join(", ") || "none"})`,
      );
    }
    const token = this.#creds.adminTokens[`enterprise:${id}`];
    if (token === undefined) {
      throw new CliError(`the stack at ${this.dir} holds no admin token for enterprise ${id}`);
    }
    return new EnterpriseAdmin(id, part.url, token);
  }

  /** The OEM CA with its private key: only the OEM, that is an `up` folder, has it. */
  oemCa(): Promise<OemCa> {
    if (this.info.oemCa.file === null) {
      throw new CliError(
        `the stack at ${this.dir} runs without the OEM (a served part); manufacture against an up folder`,
      );
    }
    this.#ca ??= loadOemCa(this.dir);
    return this.#ca;
  }

  /**
   * Every carrier's verdict-signing key, for the device to pin at manufacture: a device may
   * migrate to any carrier of the stack later, and it trusts only verdicts signed by keys pinned
   * now (DESIGN.md, Initial activation step 6). With a platform, its verdict key for each
   * carrier too: it signs, in that carrier's custody, the verdicts it gives enterprises
   * (src/platform/README.md, "How the device trusts the platform's verdict").
   */
  verdictKeys(): Promise<Array<{ carrier: string; jwk: JWK }>> {
    const platform = this.platform();
    this.#verdictKeys ??= Promise.all(
      this.carrierIds().map(async (id) => [
        { carrier: id, jwk: await this.carrier(id).verdictKey() },
        ...(platform ? [{ carrier: id, jwk: await platform.verdictKey(id) }] : []),
      ]),
    ).then((keys) => keys.flat());
    return this.#verdictKeys;
  }
}
